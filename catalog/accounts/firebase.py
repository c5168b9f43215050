"""Firebase ID tokens, checked by the server itself: the browser's word is never taken.

A token is accepted when google-auth verifies its RS256 signature against one of Google's
published certificates (fetched from FIREBASE_CERTS_URL, kept as long as the answer's
Cache-Control allows, fetched again when a token names a key they lack), its `aud` is the
project, its `iss` is Firebase's for the project, `exp`/`iat` hold within 60 s of clock skew,
its `sub` is 1 to 128 characters, and the sign-in at Google (`auth_time`) is recent. The
reason of a refusal goes to the log, never to the person signing in.
"""

import json
import logging
import re
import threading
import time
import urllib.request
from dataclasses import dataclass

from google.auth import exceptions as google_exceptions
from google.auth import jwt

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
CLOCK_SKEW = 60  # seconds, for exp, iat and auth_time
MAX_UID_LENGTH = 128
# Firebase's ID tokens are about 1 kB; anything far larger is not one.
MAX_TOKEN_LENGTH = 8192
FETCH_TIMEOUT = 5  # seconds
ISSUER = "https://securetoken.google.com/{project_id}"
MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)


class InvalidToken(Exception):
    """The token was refused; the message says why, for the log only."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for: the Firebase uid, and the email only when Firebase
    says it was verified."""

    uid: str
    email: str | None
    auth_time: int


def clock() -> float:
    """Now, in seconds since the epoch (the tests move it to replay a token later)."""
    return time.time()


def _cache_seconds(cache_control: str | None) -> float:
    """How long an answer may be kept, by its Cache-Control (not at all without max-age)."""
    if not cache_control or NO_CACHE.search(cache_control):
        return 0.0
    match = MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else 0.0


def _fetch(url: str) -> tuple[dict[str, str], float]:
    """Google's certificate document ({kid: PEM certificate}) and how long it may be kept."""
    if not url.startswith(("https://", "http://")):
        raise InvalidToken(f"the certificate URL is not http(s): {url!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as answer:  # noqa: S310
            document = json.loads(answer.read(1024 * 1024))
            keep = _cache_seconds(answer.headers.get("Cache-Control"))
    except (OSError, ValueError) as exc:
        raise InvalidToken(f"the certificates could not be fetched: {exc}") from exc
    if not isinstance(document, dict) or not all(
        isinstance(kid, str) and isinstance(pem, str) for kid, pem in document.items()
    ):
        raise InvalidToken("the certificate document is not {kid: certificate}")
    return document, keep


class Certificates:
    """Google's signing certificates, shared by the threads of a process. Fetched when
    first needed and when their time is up; a key id they lack fetches them once more (keys
    rotate), but not more often than every `refresh_seconds`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._url: str | None = None
        self._certs: dict[str, str] = {}
        self._expires = 0.0
        self._fetched = float("-inf")
        self.fetches = 0  # how many times the document was fetched (the tests read it)

    def _refresh(self, url: str) -> None:
        now = time.monotonic()
        self._fetched = now
        self.fetches += 1
        certs, keep = _fetch(url)
        self._url, self._certs, self._expires = url, certs, now + keep

    def get(self, url: str, kid: str, refresh_seconds: float) -> str | None:
        """The certificate of `kid`, or None when Google publishes none by that id."""
        with self._lock:  # one fetch at a time; the others wait for its answer
            now = time.monotonic()
            stale = url != self._url or now >= self._expires
            rotated = kid not in self._certs and now - self._fetched >= refresh_seconds
            if stale or rotated:
                self._refresh(url)
            return self._certs.get(kid)

    def clear(self) -> None:
        with self._lock:
            self._url, self._certs, self._expires = None, {}, 0.0
            self._fetched = float("-inf")


certificates = Certificates()


def _number(claims, name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"the {name} claim is missing or not a number")
    return value


def verify(
    token: str,
    *,
    project_id: str,
    certs_url: str,
    max_auth_age: float,
    refresh_seconds: float = 30,
) -> Identity:
    """The identity a Firebase ID token proves, or InvalidToken."""
    if not project_id:
        raise InvalidToken("Firebase sign-in is not configured")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("no token, or not one of a plausible size")
    try:
        header = jwt.decode_header(token)
    except (google_exceptions.GoogleAuthError, ValueError, TypeError) as exc:
        raise InvalidToken(f"malformed token: {exc}") from exc
    # Only RS256, whatever google-auth would also accept (ES256) or a forger would like
    # ("none", or HS256 keyed with the public certificate).
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("no key id")
    certificate = certificates.get(certs_url, kid, refresh_seconds)
    if certificate is None:
        raise InvalidToken(f"unknown key id {kid!r}")
    try:
        claims = jwt.decode(
            token, certs={kid: certificate}, audience=project_id, clock_skew_in_seconds=CLOCK_SKEW
        )
    except (google_exceptions.GoogleAuthError, ValueError, TypeError) as exc:
        raise InvalidToken(f"not verified: {exc}") from exc
    if claims.get("aud") != project_id:
        raise InvalidToken("wrong audience")
    if claims.get("iss") != ISSUER.format(project_id=project_id):
        raise InvalidToken(f"wrong issuer {claims.get('iss')!r}")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_UID_LENGTH:
        raise InvalidToken("the subject is empty, longer than 128 characters or not text")
    now = clock()
    auth_time = _number(claims, "auth_time")
    if auth_time > now + CLOCK_SKEW:
        raise InvalidToken("signed in at Google in the future")
    if now - auth_time > max_auth_age:
        raise InvalidToken("the sign-in at Google is too old to be taken")
    email = claims.get("email")
    verified = claims.get("email_verified") is True
    return Identity(
        uid=subject,
        email=email if isinstance(email, str) and email and verified else None,
        auth_time=int(auth_time),
    )
