"""What every area's factories share: the session they write through and the password hash
their users get, both set per test by the fixtures (tests/conftest.py)."""

from types import SimpleNamespace

import factory

state = SimpleNamespace(session=None, password_hash=None)


def use_session(session, password_hash: str) -> None:
    state.session = session
    state.password_hash = password_hash


def _session():
    return state.session


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _session
        sqlalchemy_session_persistence = "flush"
