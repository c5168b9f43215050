"""The fake API server (one per test session, emptied for each test) and the app configured
to use it. Nothing here reaches the network: the server listens on 127.0.0.1."""

import pytest

from tests.youtube import fakeapi


@pytest.fixture(scope="session")
def fake_server():
    api, server = fakeapi.start()
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_api(app, fake_server, monkeypatch):
    """The fake API, empty, with the app pointed at it (quota 100 calls, no delay)."""
    fake_server.reset()
    settings = {
        "YOUTUBE_API_BASE_URL": f"{fake_server.url}/youtube/v3",
        "YOUTUBE_API_KEY": fakeapi.DATA_KEY,
        "YOUTUBE_DAILY_QUOTA": 100,
        "YOUTUBE_MIN_DELAY": 0.0,
        "YOUTUBE_RIGHTS_API_URL": f"{fake_server.url}/rights/v1",
        "YOUTUBE_RIGHTS_API_KEY": fakeapi.RIGHTS_KEY,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield fake_server
    fake_server.reset()
