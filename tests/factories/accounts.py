"""Users: in the test's transaction (UserFactory), or committed for a server or worker that
reads the database from outside it (committed_user)."""

import uuid
from types import SimpleNamespace

import factory
from flask import Flask
from flask_security import hash_password
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import Role, User
from tests.factories.base import Base, state
from tests.helpers import TEST_PASSWORD


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}-{uuid.uuid4().hex[:6]}@example.com")
    active = True
    fs_uniquifier = factory.LazyFunction(lambda: uuid.uuid4().hex)
    password = factory.LazyFunction(lambda: state.password_hash)

    @factory.post_generation
    def roles(self, create, names, **kwargs):
        for name in names or ():
            self.roles.append(state.session.scalars(select(Role).where(Role.name == name)).one())
        state.session.flush()


def committed_user(app: Flask, role: str = "viewer", email: str | None = None, **fields):
    """A user with TEST_PASSWORD, committed in an app context of its own; what signing in
    needs of it (id, email, two-factor method and secret, session uniquifier), detached from
    any session."""
    email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    with app.app_context():
        user = User(
            email=email, active=True, fs_uniquifier=uuid.uuid4().hex,
            password=hash_password(TEST_PASSWORD),
            roles=[db.session.scalars(select(Role).where(Role.name == role)).one()], **fields,
        )  # fmt: skip
        db.session.add(user)
        db.session.commit()
        return SimpleNamespace(
            id=user.id, email=email, tf_primary_method=user.tf_primary_method,
            tf_totp_secret=user.tf_totp_secret, fs_uniquifier=user.fs_uniquifier,
        )  # fmt: skip
