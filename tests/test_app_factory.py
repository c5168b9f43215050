"""create_app's refusals at start-up."""

import pytest

from catalog import create_app
from catalog.pgserver import LocalPostgres

# Production secrets, so that the missing database is the only thing refused.
PRODUCTION_SECRETS = {
    "SECRET_KEY": "a-production-secret-key",
    "SECURITY_PASSWORD_SALT": "a-production-password-salt",
    "SECURITY_TOTP_SECRET": "a-production-totp-secret-0123456789",
}


def test_production_without_database_url_refuses_the_embedded_postgres(monkeypatch):
    started = []
    monkeypatch.setattr(LocalPostgres, "ensure_running", lambda self: started.append(self))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CATALOG_ENV", "production")
    for name, value in PRODUCTION_SECRETS.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="set DATABASE_URL"):
        create_app()
    with pytest.raises(RuntimeError, match="set DATABASE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": ""})
    assert started == []  # refused before any server was started under instance/


def test_development_without_database_url_still_starts_the_embedded_postgres(monkeypatch):
    started = []

    def ensure_running(self):
        started.append(self)
        # Stops the factory here: the point is only that it went for the embedded server.
        raise LookupError("not started in this test")

    monkeypatch.setattr(LocalPostgres, "ensure_running", ensure_running)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CATALOG_ENV", "development")
    with pytest.raises(LookupError):
        create_app()
    assert len(started) == 1
