"""The rules for administering accounts. Every change to an account goes through here and
leaves its audit row (entity "user") in the same transaction. Nothing here commits or touches
the request: the caller owns the transaction.

Flask-Security loads the signed-in user afresh on every request by fs_uniquifier, so roles
and the active flag already count from the next request on. Deactivation, a role change and a
new password also rotate the uniquifier, so every session, remember cookie and set-password
link issued before is refused outright."""

import uuid
from operator import attrgetter

from flask_security import hash_password
from sqlalchemy import select

from catalog import audit
from catalog.accounts import tokens
from catalog.extensions import db, security
from catalog.models import Role, User
from catalog.permissions import ROLE_PERMISSIONS
from catalog.rules import RuleError

ROLE_NAMES = tuple(ROLE_PERMISSIONS)
ADMIN = "admin"
USER = audit.Entity("user", key=attrgetter("email"))
# Audit values that say a secret changed without keeping it.
SET, CHANGED, ISSUED = "(set)", "(changed)", "(issued)"


class AccountError(RuleError):
    """A rule refused the action and nothing was written; `field` is the form field concerned."""


class WeakPassword(AccountError):
    def __init__(self, problems: list[str]):
        messages = [str(problem) for problem in problems]
        super().__init__(" ".join(messages), field="password", messages=messages)
        self.problems = problems


def normalize_email(email: str) -> str:
    """The email as the sign-in form normalizes it, so the person can sign in with it."""
    email = (email or "").strip()
    try:
        if "@" not in email:
            raise ValueError
        return security.mail_util.normalize(email)
    except ValueError as exc:  # Flask-Security's EmailValidateException is a ValueError
        raise AccountError("Enter a valid email address.", field="email") from exc


def checked_password(password: str, user: User | None = None) -> str:
    """The password normalized as Flask-Security stores it, if the policy accepts it."""
    problems, normalized = security.password_util.validate(password, False, user=user)
    if problems:
        raise WeakPassword(problems)
    return normalized


def role_names(user: User) -> list[str]:
    return sorted(role.name for role in user.roles)


def _roles(names: list[str]) -> list[Role]:
    unknown = set(names) - set(ROLE_NAMES)
    if unknown:
        raise AccountError(f"Unknown role: {', '.join(sorted(unknown))}", field="roles")
    if not names:
        raise AccountError("Choose at least one role.", field="roles")
    return list(db.session.scalars(select(Role).where(Role.name.in_(names)).order_by(Role.name)))


def _is(actor: User | None, user: User) -> bool:
    return actor is not None and actor.id == user.id


def create_user(
    email: str,
    *,
    username: str | None,
    roles: list[str],
    password: str | None,
    actor: User | None,
    source: str = "web",
) -> User:
    """Create an active account. Without a password it cannot sign in until someone uses a
    set-password link (issue_password_link)."""
    email = normalize_email(email)
    username = (username or "").strip() or None
    if security.datastore.find_user(case_insensitive=True, email=email):
        raise AccountError(f"An account with the email {email} already exists.", field="email")
    if username and security.datastore.find_user(case_insensitive=True, username=username):
        raise AccountError(f"The user name {username} is taken.", field="username")
    role_objects = _roles(roles)
    user = User(
        email=email, username=username, active=True, fs_uniquifier=uuid.uuid4().hex,
        roles=role_objects,
        password=hash_password(checked_password(password)) if password else None,
    )  # fmt: skip
    db.session.add(user)
    db.session.flush()
    changes: dict[str, list] = {"email": [None, email]}
    if username:
        changes["username"] = [None, username]
    changes["roles"] = [[], role_names(user)]
    changes["active"] = [None, True]
    if password:
        changes["password"] = [None, SET]
    USER.write(user, "create", changes, actor=actor, source=source)
    return user


def set_roles(
    user: User, roles: list[str], *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Give `user` exactly `roles`; return the change (empty when there is none).

    An admin cannot take the admin role from themself: there would be nobody to give it back.
    """
    old, new = role_names(user), sorted(set(roles))
    if old == new:
        return {}
    if _is(actor, user) and ADMIN in old and ADMIN not in new:
        raise AccountError("You cannot remove your own admin role.", field="roles")
    user.roles = _roles(new)
    # One's own sessions are spared: the admin making the change keeps working (and keeps
    # the admin role, see above); the new roles count from the next request all the same.
    if not _is(actor, user):
        security.datastore.set_uniquifier(user)
    changes = {"roles": [old, new]}
    USER.write(user, "update", changes, actor=actor, source=source)
    return changes


def set_active(
    user: User, active: bool, *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Deactivate or reactivate `user`. A deactivated user's sessions end at once."""
    if user.active == active:
        return {}
    if not active and _is(actor, user):
        raise AccountError("You cannot deactivate your own account.")
    changes = {"active": [user.active, active]}
    user.active = active
    if not active:
        security.datastore.set_uniquifier(user)
    USER.write(user, "update", changes, actor=actor, source=source)
    return changes


def reset_two_factor(user: User, *, actor: User | None, source: str = "web") -> dict[str, list]:
    """Forget the user's authenticator app: they sign in with their password alone until they
    set one up again (admins are sent to do so at once)."""
    if not user.tf_primary_method and not user.tf_totp_secret:
        return {}
    changes = {"two_factor": [user.tf_primary_method, None]}
    user.tf_primary_method = None
    user.tf_totp_secret = None
    user.tf_phone_number = None
    USER.write(user, "update", changes, actor=actor, source=source)
    return changes


def set_password(
    user: User, password: str, *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Set a new password (checked against the policy); every session of the user ends."""
    normalized = checked_password(password, user)
    changes = {"password": [SET, CHANGED] if user.password else [None, SET]}
    user.password = hash_password(normalized)
    security.datastore.set_uniquifier(user)
    USER.write(user, "update", changes, actor=actor, source=source)
    return changes


def issue_password_link(user: User, *, actor: User | None, source: str = "web") -> str:
    """A token for a one-time set-password link (see catalog.accounts.tokens); the audit row
    says one was issued, never what it was."""
    if not user.active:
        raise AccountError("Reactivate the account before issuing a set-password link.")
    USER.write(user, "update", {"password_link": [None, ISSUED]}, actor=actor, source=source)
    return tokens.make_token(user)
