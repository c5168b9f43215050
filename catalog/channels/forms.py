from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from catalog.channels.countries import BY_NAME
from catalog.channels.service import valid_image_url
from catalog.identifiers import valid_channel_id
from catalog.web.forms import BIGINT_MAX, CountField

COUNTRY_CHOICES = [
    SelectChoice("", "Not set"),
    *(SelectChoice(code, f"{name} ({code})") for code, name in BY_NAME),
]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _channel_id(form, field) -> None:
    if field.data and not valid_channel_id(field.data):
        raise ValidationError(
            "A channel id is UC followed by 22 letters, digits, - or _ (24 characters)."
        )


def _image_url(form, field) -> None:
    if field.data and not valid_image_url(field.data):
        raise ValidationError("An image URL starts with http:// or https://.")


def _count(label: str) -> CountField:
    return CountField(label, BIGINT_MAX)


class ChannelForm(FlaskForm):
    """Every editable field of a channel. Edit deletes `channel_id`: it is the identity."""

    channel_id = StringField(
        "Channel id", [DataRequired(), _channel_id], filters=[_strip],
        description="The YouTube channel id: UC and 22 more characters.",
    )  # fmt: skip
    name = StringField(
        "Name", [DataRequired(), Length(max=200)], filters=[_strip],
        description="Renaming changes the channel, not the channel name its videos' reports "
        "gave them; each report brings its own.",
    )  # fmt: skip
    image_url = StringField(
        "Image URL", [Optional(), Length(max=500), _image_url], filters=[_strip]
    )
    country = SelectField("Country", choices=COUNTRY_CHOICES, default="")
    is_monetized = BooleanField("Monetized")
    subscriber_count = _count("Subscribers (YouTube)")
    video_count = _count("Videos (YouTube)")
    view_count = _count("Views (YouTube)")
    description = TextAreaField("Description", filters=[_strip])

    def values(self) -> dict:
        """The submitted values by field name, as the service takes them."""
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token"}
