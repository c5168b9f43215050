from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from catalog.categories.service import NAME_MAX, SLUG_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class CategoryForm(FlaskForm):
    name = StringField("Name", [DataRequired(), Length(max=NAME_MAX)], filters=[_strip])
    slug = StringField(
        "Slug",
        [
            Optional(),
            Length(max=SLUG_MAX),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message="Lower-case letters and digits in words joined by single hyphens, "
                "e.g. hip-hop.",
            ),
        ],
        filters=[_lower],
        description="Unique; left blank, it is made from the name.",
    )
    is_active = BooleanField(
        "Active", default=True,
        description="Inactive categories are not offered in forms; their videos keep them.",
    )  # fmt: skip

    def values(self) -> dict:
        return {"name": self.name.data, "slug": self.slug.data, "is_active": self.is_active.data}
