"""Forms of the field definitions. They check shape and presence; the rules (unique names,
options, ranges, defaults against the type, values in use) are the service's."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from catalog.fields.service import (
    DEFAULT_MAX_RATING,
    MAX_OPTIONS,
    NAME_LENGTH,
    OPTION_LENGTH,
    TEXT_DEFAULT_LENGTH,
    Member,
)
from catalog.models.fields import MAX_RATING, MIN_RATING
from catalog.web.forms import options

TYPE_LABELS = {
    "text": "Text",
    "select": "Select (one of a list of options)",
    "rating": "Rating (1 to a maximum)",
    "boolean": "Yes / no",
}
DESCRIPTION_LENGTH = 2000
ORDER_MAX = 10_000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lines(value):
    """Textarea → list, one item per line, blanks dropped, order kept."""
    if isinstance(value, list):
        return value
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class LinesField(TextAreaField):
    """A list edited as the lines of a text area."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, filters=[_lines], **kwargs)

    def _value(self):
        return "\n".join(self.data or [])


class FieldForm(FlaskForm):
    name = StringField("Name", [DataRequired(), Length(max=NAME_LENGTH)], filters=[_strip])
    field_type = SelectField(
        "Type", choices=options([("", "Choose…"), *TYPE_LABELS.items()]), default=""
    )
    description = TextAreaField(
        "Description",
        [Optional(), Length(max=DESCRIPTION_LENGTH)],
        filters=[_strip],
        description="Optional: what the field means, for the people who fill it in.",
    )
    options = LinesField(
        "Options",
        description=f"Select fields only: one option per line, in the order they are offered; "
        f"at most {MAX_OPTIONS}, each up to {OPTION_LENGTH} characters.",
    )
    # Ranges are checked by the service, and only where the type uses the input.
    max_rating = IntegerField(
        "Maximum rating",
        [Optional()],
        default=DEFAULT_MAX_RATING,
        description=f"Rating fields only: ratings go from 1 to this, {MIN_RATING} to {MAX_RATING}.",
    )
    required = BooleanField("Required")
    default_value = StringField(
        "Default value",
        [Optional(), Length(max=TEXT_DEFAULT_LENGTH)],
        filters=[_strip],
        description="Optional. Select: one of the options; rating: 1 to the maximum; "
        "yes / no: “yes” or “no”; text: any text.",
    )
    clear_values = BooleanField(
        "Clear these values",
        description="Delete the values this change would make invalid, then save the change.",
    )

    def values(self) -> dict:
        """The submitted definition, as the service takes it."""
        return {
            "name": self.name.data,
            "field_type": self.field_type.data,
            "description": self.description.data,
            "required": self.required.data,
            "options": self.options.data,
            "max_rating": self.max_rating.data,
            "default_value": self.default_value.data,
        }

    @classmethod
    def data_of(cls, field) -> dict:
        """The form's data for an existing field."""
        default = field.default_value
        if isinstance(default, bool):
            default = "yes" if default else "no"
        return {
            "name": field.name,
            "field_type": field.field_type,
            "description": field.description,
            "required": field.required,
            "options": field.options,
            "max_rating": field.max_rating,
            "default_value": "" if default is None else str(default),
        }


class MemberForm(Form):
    """One field's row in a schema form: in the schema or not, its order, shown on cards."""

    field_id = HiddenField()
    included = BooleanField("In this schema")
    display_order = IntegerField("Order", [Optional(), NumberRange(min=0, max=ORDER_MAX)])
    show_on_card = BooleanField("Show on card")


class SchemaForm(FlaskForm):
    name = StringField("Name", [DataRequired(), Length(max=NAME_LENGTH)], filters=[_strip])
    description = TextAreaField(
        "Description", [Optional(), Length(max=DESCRIPTION_LENGTH)], filters=[_strip]
    )
    channel_ids = SelectMultipleField(
        "Channels",
        coerce=int,
        description="The schema's fields apply to the videos of these channels. "
        "Choose none and they apply to every video.",
    )
    members = FieldList(FormField(MemberForm))

    def chosen_members(self) -> list[Member]:
        """The ticked fields, as the service takes them."""
        chosen = []
        for entry in self.members:
            if entry.included.data:
                try:
                    field_id = int(entry.field_id.data)
                except (TypeError, ValueError):
                    continue  # not a row this page made
                chosen.append(
                    Member(field_id, entry.display_order.data, bool(entry.show_on_card.data))
                )
        return chosen

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "description": self.description.data,
            "channel_ids": self.channel_ids.data or [],
            "members": self.chosen_members(),
        }
