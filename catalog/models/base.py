"""The declarative base and the one naming convention every constraint and index follows."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def assign(self, values: Mapping[str, Any]) -> dict[str, list]:
        """Set the attributes whose value differs; return {name: [old, new]} for them (the
        `changes` an audit row records; empty when nothing differed)."""
        changes: dict[str, list] = {}
        for name, new in values.items():
            old = getattr(self, name)
            if old != new:
                changes[name] = [old, new]
                setattr(self, name, new)
        return changes


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
