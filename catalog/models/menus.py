from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base


class MenuVersion(Base):
    """The version of a group of filter menus, set anew by PostgreSQL whenever a table behind
    them changes (migration 0022); see catalog/web/menus.py."""

    __tablename__ = "menu_versions"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
