"""Helpers of the account tests: an admin on `client`, a second browser, audit rows, links."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from catalog.models import MetadataSync

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
