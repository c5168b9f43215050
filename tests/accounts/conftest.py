"""Helpers of the account tests: an admin on `client`, a second browser, audit rows, links."""

import re
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from catalog.accounts import firebase
from catalog.models import MetadataSync
from tests.firebase_tokens import CertificateServer, Key, configure
from tests.helpers import csrf_token

STRONG_PASSWORD = "plum-orbit-lantern-47-quietly"
LINK = re.compile(r'value="(https?://[^"]+/accounts/set-password/[\w.-]+)"')


@pytest.fixture
def other_client(app, db_session):
    """A second browser, e.g. the managed user's own, with its own cookies."""
    return app.test_client()


def user_rows(session, user_id: int) -> list[MetadataSync]:
    session.expire_all()
    return list(
        session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "user", MetadataSync.entity_id == user_id)
            .order_by(MetadataSync.id)
        )
    )


def shown_link(client, user_id: int) -> str:
    """The set-password link the user's page shows once after it was made."""
    html = client.get(f"/accounts/users/{user_id}").get_data(as_text=True)
    match = LINK.search(html)
    assert match, "no set-password link on the page"
    return urlsplit(match.group(1)).path


# -- Firebase: tokens signed here, certificates served from this machine --------------------
@pytest.fixture(scope="module")
def key():
    return Key.make()


@pytest.fixture(scope="module")
def published(key):
    server = CertificateServer(keys=[key])
    yield server
    server.close()


@pytest.fixture
def certs(app, published, key, monkeypatch):
    """Firebase sign-in on, pointed at the local certificates (only `key` published)."""
    configure(app.config, published, monkeypatch)
    published.keys[:] = [key]
    published.max_age = 3600
    published.requests = 0
    firebase.certificates.clear()
    yield published
    firebase.certificates.clear()


def uid() -> str:
    return f"fb-{uuid.uuid4().hex}"


def post_token(client, token: str, *, address: str = "127.0.0.1", query: str = ""):
    page = client.get("/login")
    return client.post(
        f"/sign-in/firebase{query}",
        data={"id_token": token, "csrf_token": csrf_token(page)},
        environ_base={"REMOTE_ADDR": address},
    )
