"""The player's progress beacons: a short-lived signed token instead of the session.

A beacon arrives every ten seconds from every open player, so what each one costs adds up:
through the pages' path it was about 3 ms of a worker's CPU (the session cookie read and
checked, the CSRF token checked, the user loaded with their roles, then the upsert). The
watch page, already signed in and checked, issues a token instead, and beacons go to
/api/library/progress (no session there, see catalog.web.headers): the token is checked
in Python (an HMAC, no database), and the person in the same statement as the upsert
(catalog.library.progress.record_beacon).

The token says: this user, this video, until this time, in this sign-in. It is
`user.video.expires.tag.signature`, the signature an HMAC-SHA256 of the rest under a key
derived from SECRET_KEY for this purpose alone; `tag` is a digest of the user's
fs_uniquifier, which signing out renews.

What it keeps, and what it trades:
- Authenticated and bound: only the server can make a token, for one person and one video;
  a token for another video or person, altered, or expired is refused (401), and the
  report's optional `user_id` must be the token's. It stands in for the CSRF token: a
  page of another site can neither read it nor make one.
- Permission: the person is looked up on every beacon, in the upsert's own statement: a
  deactivated person, one whose roles no longer include reading the catalog, or one who
  has signed out since (every session of theirs ended) is refused at once (403).
- The trade: between the watch page and the token's expiry (TOKEN_SECONDS), a beacon does
  not pass the session's own checks (its idle and absolute lifetimes, the admins'
  two-factor gate): a page left open reports progress until its token expires even if its
  session would have expired, and a stolen token reports progress on one video for that
  person (which is all it can do) until then. Progress is personal activity, not catalog
  data, and the token opens nothing else. A page open longer than TOKEN_SECONDS stops
  reporting (its beacons are refused) until it is reloaded."""

import hashlib
import hmac
import time
from base64 import urlsafe_b64encode
from dataclasses import dataclass

from flask import current_app

TOKEN_SECONDS = 12 * 3600  # a working day of watching on one page
TAG_LENGTH = 16  # hex characters of the fs_uniquifier's digest
PURPOSE = b"catalog.library.progress-beacon"


@dataclass(frozen=True)
class Beacon:
    user_id: int
    video: int  # the video's primary key
    tag: str


def uniquifier_tag(fs_uniquifier: str) -> str:
    """The part of a user's sign-in generation a token carries (as the upsert computes it:
    the hex sha256 of fs_uniquifier, cut)."""
    return hashlib.sha256(fs_uniquifier.encode()).hexdigest()[:TAG_LENGTH]


def _key() -> bytes:
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, PURPOSE, hashlib.sha256).digest()


def _sign(payload: str) -> str:
    digest = hmac.new(_key(), payload.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(user_id: int, fs_uniquifier: str, video: int, now: float | None = None) -> str:
    """A token for `user_id`'s beacons about `video` (its primary key), for TOKEN_SECONDS."""
    expires = int((now or time.time()) + TOKEN_SECONDS)
    payload = f"{user_id}.{video}.{expires}.{uniquifier_tag(fs_uniquifier)}"
    return f"{payload}.{_sign(payload)}"


def read(token: str, now: float | None = None) -> Beacon | None:
    """The token's beacon when the server signed it and it has not expired, else None."""
    payload, _, signature = token.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 4 or not hmac.compare_digest(signature.encode(), _sign(payload).encode()):
        return None
    user_id, video, expires, tag = parts
    if int(expires) < (now or time.time()):
        return None
    return Beacon(int(user_id), int(video), tag)
