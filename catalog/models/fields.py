"""Custom fields: staff define their own fields, group them in schemas, and set values on videos.

Values live in typed columns (text, numeric, boolean) so that "Rating >= 4" or
"Presentation = great" is an index range, which a single JSON value column could not be.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, created_at_column, updated_at_column
from catalog.models.channel import Channel

FIELD_TYPES = ("text", "select", "rating", "boolean")
# Which typed column holds a value of each field type.
VALUE_COLUMNS = {
    "text": "value_text",
    "select": "value_text",
    "rating": "value_numeric",
    "boolean": "value_boolean",
}
MIN_RATING, MAX_RATING = 3, 10

schema_channels = Table(
    "schema_channels",
    Base.metadata,
    Column("schema_id", ForeignKey("field_schemas.id", ondelete="CASCADE"), primary_key=True),
    Column("channel_id", ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
)


class FieldConfig:
    """What a field's type and config say, for the model and for the light copies the video
    list reads (catalog.videos.menus.FieldChoice): the value column, the options, the scale."""

    field_type: str
    config: dict

    @property
    def value_column(self) -> str:
        return VALUE_COLUMNS[self.field_type]

    @property
    def options(self) -> list[str]:
        return list(self.config.get("options", []))

    @property
    def max_rating(self) -> int:
        return int(self.config.get("max_rating", 5))


class CustomField(FieldConfig, Base):
    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    field_type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # {"options": [...]} for select, {"max_rating": 5} for rating, {} otherwise.
    config: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    default_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint(
            "field_type IN ('text', 'select', 'rating', 'boolean')", name="known_field_type"
        ),
    )

    @property
    def audit_key(self) -> str:
        """How a change of this field's value is named in a video's audit row."""
        return f"field:{self.name}"

    def __repr__(self) -> str:
        return f"<CustomField {self.name} ({self.field_type})>"


# Names are unique regardless of case: "Rating" and "rating" would confuse everyone.
Index("uq_custom_fields_lower_name", func.lower(CustomField.name), unique=True)


class FieldSchema(Base):
    """A named, ordered group of fields; applies to its channels' videos, or to every video
    when attached to no channel."""

    __tablename__ = "field_schemas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    fields: Mapped[list["SchemaField"]] = relationship(
        back_populates="schema",
        order_by="SchemaField.display_order",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    channels: Mapped[list[Channel]] = relationship(secondary=schema_channels)

    def __repr__(self) -> str:
        return f"<FieldSchema {self.name}>"


class SchemaField(Base):
    """A field's place in a schema. No id of its own: the pair is the identity."""

    __tablename__ = "schema_fields"

    schema_id: Mapped[int] = mapped_column(
        ForeignKey("field_schemas.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="CASCADE"), primary_key=True
    )
    display_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    show_on_card: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    schema: Mapped[FieldSchema] = relationship(back_populates="fields")
    field: Mapped[CustomField] = relationship(lazy="joined")


class VideoFieldValue(Base):
    """One value of one field on one video, in the typed column its field's type uses."""

    __tablename__ = "video_field_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    value_text: Mapped[str | None] = mapped_column(Text)
    value_numeric: Mapped[Decimal | None] = mapped_column(Numeric)
    value_boolean: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        # Also the conflict target of the upsert, and the "(video_id, field_id)" index.
        UniqueConstraint("video_id", "field_id"),
        CheckConstraint(
            "num_nonnulls(value_text, value_numeric, value_boolean) = 1", name="one_value"
        ),
        # Filters and sorts walk these in order; video_id breaks ties for keyset pages.
        Index("ix_video_field_values_numeric", "field_id", "value_numeric", "video_id"),
        Index("ix_video_field_values_text", "field_id", "value_text", "video_id"),
    )

    @property
    def value(self) -> Any:
        """The value as its field type knows it: str, int/float or bool."""
        if self.value_numeric is not None:
            number = self.value_numeric
            return int(number) if number == number.to_integral_value() else float(number)
        return self.value_text if self.value_text is not None else self.value_boolean
