"""Saved views: a named state of a list (its filters, sort, page size and columns) that a
user keeps, personal or shared with a role. The state is stored as the list's own URL
arguments (`channel=…&rating_gte=4`), so a view reads like the URL it opens."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base, created_at_column, updated_at_column

LIST_KINDS = ("videos", "audit", "production")
# A role name, or every signed-in user.
SHARE_TARGETS = ("editor", "auditor", "viewer", "everyone")
COLOUR_MODES = ("auto", "light", "dark")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("owner_id", "kind", "name"),
        CheckConstraint(f"kind IN ({_quoted(LIST_KINDS)})", name="kind_known"),
        CheckConstraint(
            f"shared_with IS NULL OR shared_with IN ({_quoted(SHARE_TARGETS)})",
            name="shared_with_known",
        ),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        # The shared views of a list, which everyone's view menu reads.
        Index(
            "ix_saved_views_kind_shared_with",
            "kind",
            "shared_with",
            postgresql_where=text("shared_with IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    # {"args": {URL argument: value or list of values}, "columns": [hidden column keys],
    #  "order": [column keys in the order shown],
    #  "labels": {URL argument: what its chip read when saved}}; labels name in a note
    # what a view's filter meant once the thing it named is deleted.
    state: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    shared_with: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def args(self) -> dict:
        return dict(self.state.get("args") or {})

    @property
    def columns(self) -> list[str] | None:
        return self.state.get("columns")

    @property
    def order(self) -> list[str] | None:
        return self.state.get("order")

    def __repr__(self) -> str:
        return f"<SavedView {self.id} {self.kind}:{self.name}>"
