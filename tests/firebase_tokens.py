"""Firebase ID tokens without the internet: RSA key pairs and self-signed certificates made
here, a local HTTP server publishing them as Google does ({kid: PEM certificate} with a
Cache-Control max-age), and tokens signed with them (google-auth's own signer), forged ones
too (alg none, HS256 keyed with the public certificate)."""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

PROJECT_ID = "catalog-test"
ISSUER = f"https://securetoken.google.com/{PROJECT_ID}"


@dataclass
class Key:
    """An RSA key pair, its self-signed certificate (PEM) and its key id."""

    kid: str
    private_pem: bytes
    certificate_pem: str

    @classmethod
    def make(cls) -> "Key":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=2))
            .sign(private, hashes.SHA256())
        )
        return cls(
            kid=uuid.uuid4().hex,
            private_pem=private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        )


def claims(uid: str, *, email: str | None = None, verified: bool = True, **changes) -> dict:
    """A Firebase ID token's claims for `uid`, issued now; `changes` override any of them
    (None removes one)."""
    now = int(time.time())
    values = {
        "iss": ISSUER, "aud": PROJECT_ID, "auth_time": now, "user_id": uid, "sub": uid,
        "iat": now, "exp": now + 3600,
        "firebase": {"identities": {}, "sign_in_provider": "google.com"},
    }  # fmt: skip
    if email is not None:
        values["email"] = email
        values["email_verified"] = verified
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def sign(key: Key, payload: dict, *, kid: str | None = None) -> str:
    """An RS256 token signed with `key`, naming `kid` (the key's own by default)."""
    signer = crypt.RSASigner.from_string(key.private_pem, key_id=kid or key.kid)
    return jwt.encode(signer, payload).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict, payload: dict) -> str:
    return ".".join(_b64(json.dumps(part).encode()) for part in (header, payload))


def unsigned(key: Key, payload: dict) -> str:
    """alg none: no signature at all."""
    return _segments({"alg": "none", "kid": key.kid, "typ": "JWT"}, payload) + "."


def hs256_with_public_key(key: Key, payload: dict) -> str:
    """The classic confusion: HMAC keyed with the certificate anyone can download."""
    signed = _segments({"alg": "HS256", "kid": key.kid, "typ": "JWT"}, payload)
    mac = hmac.new(key.certificate_pem.encode(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


@dataclass
class CertificateServer:
    """Google's certificate document, served from 127.0.0.1 by a thread."""

    keys: list[Key] = field(default_factory=list)
    max_age: int = 3600
    requests: int = 0

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps({k.kid: k.certificate_pem for k in server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Cache-Control", f"public, max-age={server.max_age}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # quiet
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._http.server_port}/robot/v1/metadata/x509/test"

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def configure(config: dict, server: CertificateServer, monkeypatch) -> None:
    """Point an app at `server` with Firebase sign-in on (undone after the test)."""
    for name, value in {
        "FIREBASE_PROJECT_ID": PROJECT_ID,
        "FIREBASE_API_KEY": "test-api-key",
        "FIREBASE_AUTH_DOMAIN": "",
        "FIREBASE_CERTS_URL": server.url,
        "FIREBASE_CERTS_REFRESH_SECONDS": 0,
    }.items():
        monkeypatch.setitem(config, name, value)
