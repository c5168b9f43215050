"""One-time set-password links, signed with the app's secret and valid for 72 hours.

A link names the user and a digest of what makes their credentials current: the
fs_uniquifier and the password hash. Setting a password changes both, so a link works once;
a deactivation, a role change or a newer password spoils it too. The payload of a signed
token is readable by whoever holds the link, hence a keyed digest rather than the values.
"""

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import User

SALT = "set-password"
VALID_FOR = timedelta(hours=72)


class InvalidLink(Exception):
    """The link cannot be used; `status` is 410 for a link that was good once, else 400."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    current = f"{user.fs_uniquifier}\0{user.password or ''}".encode()
    return hmac.new(key, current, hashlib.sha256).hexdigest()[:32]


def make_token(user: User) -> str:
    """A set-password token for `user` as they are now."""
    return _serializer().dumps([user.id, _fingerprint(user)])


def user_for_token(token: str, *, lock: bool = False) -> User:
    """The user a token was made for, if it may still be used; else InvalidLink.

    With `lock`, the user's row is locked first, so that of two uses racing with one link
    the second sees the first one's new password and is refused."""
    try:
        payload = _serializer().loads(token, max_age=int(VALID_FOR.total_seconds()))
    except SignatureExpired as exc:
        raise InvalidLink(
            "This link has expired. Ask an administrator for a new one.", 410
        ) from exc
    except BadSignature as exc:
        raise InvalidLink("This link is not valid. Check that it was copied whole.", 400) from exc
    match payload:
        case [int(user_id), str(fingerprint)]:
            pass
        case _:
            raise InvalidLink("This link is not valid. Check that it was copied whole.", 400)
    statement = select(User).where(User.id == user_id)
    if lock:
        statement = statement.with_for_update(of=User)
    user = db.session.scalars(statement).unique().first()
    if user is None or not user.active:
        raise InvalidLink("This account no longer exists or is deactivated.", 410)
    if not hmac.compare_digest(fingerprint, _fingerprint(user)):
        raise InvalidLink(
            "This link has already been used, or the account has changed since it was made. "
            "Ask an administrator for a new one if you still need it.",
            410,
        )
    return user
