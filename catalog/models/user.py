from datetime import datetime

from flask_security import RoleMixin, UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, created_at_column
from catalog.permissions import ROLE_PERMISSIONS, permissions_of

roles_users = Table(
    "roles_users",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(Base, RoleMixin):
    """A named role; what it may do is declared in catalog.permissions, not stored."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))

    def get_permissions(self) -> set[str]:
        return set(ROLE_PERMISSIONS.get(self.name, ()))

    def __repr__(self) -> str:
        return f"<Role {self.name}>"


class User(Base, UserMixin):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("colour_mode IN ('auto', 'light', 'dark')", name="colour_mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    fs_uniquifier: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    firebase_uid: Mapped[str | None] = mapped_column(String(128), unique=True)
    # How the user last signed in: "password" or "firebase" (the first step, when a second
    # factor follows); "flask-security", the first migration's default, until then.
    auth_method: Mapped[str] = mapped_column(
        String(20), default="flask-security", server_default="flask-security"
    )
    # Off for someone who signs in with Firebase only: the password form refuses them.
    password_sign_in: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    current_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_login_ip: Mapped[str | None] = mapped_column(String(64))
    last_login_ip: Mapped[str | None] = mapped_column(String(64))
    login_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Moved by PostgreSQL whenever the user's roles change (migration 0022): the roles a
    # session carries count only while it is unchanged (catalog/accounts/identity.py).
    roles_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    # Two-factor sign-in (Flask-Security): the method and the encrypted TOTP secret.
    tf_primary_method: Mapped[str | None] = mapped_column(String(64))
    tf_totp_secret: Mapped[str | None] = mapped_column(String(255))
    tf_phone_number: Mapped[str | None] = mapped_column(String(128))
    # The IANA zone (e.g. "Europe/Berlin") the user reads and types times in; None: not
    # chosen yet, times are shown in UTC (catalog/web/timezones.py).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # The lists' column choice, per list ({"videos": [hidden column keys]}), kept here so it
    # follows the user to another browser; their default saved view per list ({"videos":
    # view id}), on this row so that opening a list without one costs no look-up.
    list_columns: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    default_views: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    # Light or dark pages; "auto" follows the system's setting (static/js/colour-mode.js).
    colour_mode: Mapped[str] = mapped_column(String(5), default="auto", server_default="auto")

    # Joined where users are listed with their roles; the signed-in user is loaded without
    # them (catalog/accounts/identity.py).
    roles: Mapped[list[Role]] = relationship(secondary=roles_users, lazy="joined")

    def has_permission(self, permission: str) -> bool:
        """Flask-Security's check, from the roles' permissions computed once (not a set per
        role per check: a list page asks for every row's controls)."""
        return permission in permissions_of(tuple(sorted(role.name for role in self.roles)))

    @property
    def is_admin(self) -> bool:
        """The original schema stored this flag; here it follows from the admin role."""
        return any(role.name == "admin" for role in self.roles)

    @property
    def display_name(self) -> str:
        return self.username or self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"
