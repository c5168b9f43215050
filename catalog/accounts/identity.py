"""The signed-in user, loaded with one indexed look-up per request and no roles join (and
with the filter menus' versions, catalog/web/menus.py).

Flask-Login asks the user loader for the session's user (its fs_uniquifier) on every
request. The roles the user had when they were last read travel in the session (a signed
cookie) with `users.roles_version`, a counter PostgreSQL moves whenever the user's roles
change (migration 0022, whatever changes them). The loader reads the user's row alone by
its unique fs_uniquifier; while the counter is the one the session recorded, the roles
come from the session, otherwise they are read afresh and recorded again. Deactivation
and a new uniquifier (a role change by someone else, a new password, signing out) end the
session as they did: the row is not found, or not active.

The mechanism is the loader's: every way of signing in (the password form, two-factor,
Firebase through login_user) ends in a session that names the user, and the loader reads
the roles when the session does not carry current ones. Flask-Login's user_logged_in, which
login_user sends, puts them in the session at sign-in already, so the first request after
it does not have to.
"""

from flask import Flask, session
from flask_login import user_logged_in
from flask_security.utils import set_request_attr
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from catalog.extensions import db
from catalog.models import Role, User
from catalog.web import menus

ROLES_KEY = "fs_roles"  # [fs_uniquifier, roles_version, [[role id, role name], ...]]
# The filter menus' versions come along: a list learns from this statement whether the
# menus its process keeps are current (catalog/web/menus.py).
# The roles are not joined (lazyload): they come from the session, or one statement when
# they do not. The option is built once here, not per request.
BY_UNIQUIFIER = (
    select(User, menus.VERSIONS.label("versions"))
    .where(User.fs_uniquifier == bindparam("uniquifier"))
    .options(lazyload(User.roles))
)


def init_app(app: Flask) -> None:
    app.login_manager.user_loader(load_user)
    # Static files are the same for everyone: no identity (Flask-Principal's default would
    # load the signed-in user, a statement per stylesheet or script served by the app).
    app.extensions["security"].principal.skip_static = True
    # Flask-Login's signal, sent by every way of signing in (all go through login_user).
    user_logged_in.connect(_carry_roles, app)
    menus.init_app(app)


def _carry_roles(app: Flask, user: User, **kwargs) -> None:
    """At sign-in the roles are at hand: they go into the session there, so the requests
    after it neither read them nor change the session (sessions.SIGN_IN_KEYS keeps them
    through the session's renewal)."""
    _remember(user)


def _remember(user: User) -> None:
    pairs = [[role.id, role.name] for role in user.roles]
    session[ROLES_KEY] = [user.fs_uniquifier, user.roles_version, pairs]


def load_user(uniquifier: str) -> User | None:
    """Flask-Security's session loader (core._user_loader), without the roles join."""
    if not uniquifier:
        return None
    found = db.session.execute(BY_UNIQUIFIER, {"uniquifier": str(uniquifier)}).first()
    if found is None or not found.User.active:
        return None
    user = found.User
    menus.remember_versions(found.versions)
    carried = session.get(ROLES_KEY)
    if (
        isinstance(carried, list)
        and len(carried) == 3
        and carried[:2] == [user.fs_uniquifier, user.roles_version]
    ):
        set_committed_value(user, "roles", [_role(*pair) for pair in carried[2]])
    else:
        _remember(user)  # the roles read afresh: one statement
    set_request_attr("fs_authn_via", "session")
    set_request_attr("fs_paa", session.get("fs_paa", 0))
    return user


def _role(role_id: int, name: str) -> Role:
    """The role as a row of this session, without reading it: merge(load=False) takes it
    as it is (the session's own copy if it has one); its other columns load if asked for."""
    role = Role(id=role_id, name=name)
    make_transient_to_detached(role)
    return db.session.merge(role, load=False)
