"""Argon2's cost: production-strength in the app's own configuration, a few milliseconds in
the tests' (tests/conftest.py CHEAP_ARGON2), where every sign-in verifies a hash."""

from flask import Flask
from flask_security import hash_password, verify_password
from sqlalchemy import select

from catalog import create_app
from catalog.extensions import db, security
from catalog.models import User
from tests.conftest import app_config
from tests.helpers import TEST_PASSWORD

# argon2id, version 1.3, 64 MiB of memory, 3 passes, 4 lanes: passlib's defaults, which
# catalog/config.py keeps.
PRODUCTION = "$argon2id$v=19$m=65536,t=3,p=4$"
CHEAP = "$argon2id$v=19$m=8,t=1,p=1$"


def test_the_tests_sign_in_against_cheap_hashes(password_hash: str):
    assert password_hash.startswith(CHEAP)


def test_the_production_configuration_stores_production_strength_hashes(app: Flask):
    config = app_config(app.config["SQLALCHEMY_DATABASE_URI"])
    del config["SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS"]
    # Flask-Security's state is its one Security object's (catalog.extensions.security),
    # which every create_app initialises again: the production app's password context would
    # stay with it, and every later test of this process would hash at production cost (and
    # the sign-in tests' dummy hash, at the cheap one, no longer match a stored hash's).
    shared_state = dict(vars(security))
    try:
        _stores_production_hashes(create_app(config))
    finally:
        vars(security).clear()
        vars(security).update(shared_state)
    with app.app_context():  # the tests' app hashes cheaply again
        assert hash_password(TEST_PASSWORD).startswith(CHEAP)


def _stores_production_hashes(production: Flask) -> None:
    with production.app_context():
        try:
            security.datastore.create_user(
                email="argon2@example.com", password=hash_password(TEST_PASSWORD)
            )
            db.session.flush()
            stored = db.session.scalar(
                select(User.password).where(User.email == "argon2@example.com")
            )
            assert stored.startswith(PRODUCTION), stored
            assert verify_password(TEST_PASSWORD, stored)
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
