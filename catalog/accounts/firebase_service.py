"""The rules of Firebase sign-in: who a verified Firebase identity may enter as, and the
admins' changes to how a user signs in. Only users an admin created ever enter; every link,
unlink and change of password sign-in leaves its audit row (entity "user") in the same
transaction. Nothing here commits or touches the request."""

from sqlalchemy import func, select

from catalog.accounts.firebase import Identity
from catalog.accounts.service import USER, AccountError
from catalog.extensions import db, security
from catalog.models import User

FIREBASE = "firebase"


class FirebaseRefused(AccountError):
    """No user may enter with this identity; what is shown never says why."""

    def __init__(self, reason: str):
        super().__init__("Firebase sign-in did not work for this account.")
        self.reason = reason  # for the log


def _is(actor: User | None, user: User) -> bool:
    return actor is not None and actor.id == user.id


def find_user(identity: Identity) -> User | None:
    """The user this identity speaks for: the one linked to its uid, else (for a verified
    email) the user of that email who has no Firebase identity yet. Nothing is written."""
    user = db.session.scalars(select(User).where(User.firebase_uid == identity.uid)).first()
    if user is None and identity.email:
        user = db.session.scalars(
            select(User).where(
                func.lower(User.email) == identity.email.strip().lower(),
                User.firebase_uid.is_(None),
            )
        ).first()
    return user


def admit(user: User | None, identity: Identity) -> User:
    """The user `identity` signs in as: `user` (find_user's), linked to the identity on its
    first Firebase sign-in (audited, as the user's own act), or FirebaseRefused."""
    if user is None:
        raise FirebaseRefused("no user has this Firebase identity or its verified email")
    if not user.active:
        raise FirebaseRefused("the user is deactivated")
    if user.firebase_uid is None:
        user.firebase_uid = identity.uid
        USER.record(
            user, "update", {"firebase_uid": [None, identity.uid]}, actor=user, source="web"
        )
    elif user.firebase_uid != identity.uid:  # find_user never returns such a user
        raise FirebaseRefused("the user is linked to another Firebase identity")
    user.auth_method = FIREBASE
    db.session.flush()
    return user


def unlink(user: User, *, actor: User | None, source: str = "web") -> dict[str, list]:
    """Forget the user's Firebase identity; the sessions it opened end (one's own are
    spared). A later Firebase sign-in with the user's verified email links again."""
    if user.firebase_uid is None:
        return {}
    changes = {"firebase_uid": [user.firebase_uid, None]}
    user.firebase_uid = None
    if not _is(actor, user):
        security.datastore.set_uniquifier(user)
    USER.record(user, "update", changes, actor=actor, source=source)
    db.session.flush()
    return changes


def set_password_sign_in(
    user: User, allowed: bool, *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Allow or refuse the password form for `user`. Off only for a user with a Firebase
    identity, who could not sign in at all otherwise; turning it off ends the user's
    sessions (one's own are spared), so none opened with the password outlives it."""
    if user.password_sign_in == allowed:
        return {}
    if not allowed and user.firebase_uid is None:
        raise AccountError(
            "Password sign-in stays on until the user has signed in with Firebase once."
        )
    changes = {"password_sign_in": [user.password_sign_in, allowed]}
    user.password_sign_in = allowed
    if not allowed and not _is(actor, user):
        security.datastore.set_uniquifier(user)
    USER.record(user, "update", changes, actor=actor, source=source)
    db.session.flush()
    return changes
