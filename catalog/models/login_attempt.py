from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base

# What an attempt checked: the password at /login, the code of the second factor, or a
# Firebase ID token at /sign-in/firebase.
PASSWORD, SECOND_FACTOR, FIREBASE = "password", "second_factor", "firebase"


class LoginAttempt(Base):
    """One checked credential of a sign-in: a password, a second-factor code or a Firebase
    ID token. Recent
    failures per account and per address drive throttling; kept in PostgreSQL so that every
    web process sees the same count."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), server_default=PASSWORD)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint(
            f"kind IN ('{PASSWORD}', '{SECOND_FACTOR}', '{FIREBASE}')", name="kind_known"
        ),
        Index("ix_login_attempts_email_time", "email", "attempted_at"),
        Index("ix_login_attempts_ip_time", "ip", "attempted_at"),
    )
