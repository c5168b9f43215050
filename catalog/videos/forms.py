import re
from datetime import UTC

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from catalog.formfields import BIGINT_MAX, INT_MAX, CountField
from catalog.models import CustomField
from catalog.models.video import (
    CLAIM_STATUSES,
    ENGAGEMENT_FIELDS,
    MONETIZATION_FIELDS,
    PRIVACY_STATUSES,
    YES_NO,
)
from catalog.videos import custom_values
from catalog.videos.service import BULK_FIELDS

VIDEO_ID = r"^[A-Za-z0-9_-]{11}$"
# ISRC: country (2 letters), registrant (3 alphanumerics), year (2 digits), designation (5).
ISRC = r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{2}[0-9]{5}$"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper().replace("-", "") if isinstance(value, str) else value


def _lines(value):
    """Textarea → list, one item per line, blanks dropped."""
    if isinstance(value, list):
        return value
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def options(pairs) -> list[SelectChoice]:
    """Menu options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def _blank(label: str, values: tuple[str, ...]) -> list[SelectChoice]:
    return options([("", label), *((v, v) for v in values)])


def valid_upc(form, field) -> None:
    """UPC-A (12 digits) or EAN-13 (13 digits) with a correct GS1 check digit."""
    code = field.data
    if not code:
        return
    if not re.fullmatch(r"[0-9]{12,13}", code):
        raise ValidationError("A UPC is 12 or 13 digits.")
    body, check = code[:-1], int(code[-1])
    # Weights 3,1,3,1… from the rightmost digit of the body.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    if (10 - total % 10) % 10 != check:
        raise ValidationError("This UPC's check digit is wrong; please check the number.")


class ListOfStrings(TextAreaField):
    """A list edited as lines of a text area, each line checked against `max_length`."""

    def __init__(self, label=None, validators=None, max_length=200, **kwargs):
        super().__init__(label, validators, filters=[_lines], **kwargs)
        self.max_length = max_length

    def _value(self):
        return "\n".join(self.data or [])

    def pre_validate(self, form):
        for item in self.data or []:
            if len(item) > self.max_length:
                raise ValidationError(
                    f"Each entry can be at most {self.max_length} characters; "
                    f"“{item[:30]}…” is {len(item)}."
                )


def _text(label: str, max_length: int, **kwargs) -> StringField:
    return StringField(label, [Optional(), Length(max=max_length)], filters=[_strip], **kwargs)


def _yes_no(label: str) -> SelectField:
    return SelectField(label, choices=_blank("Not set", YES_NO), default="")


FIELD_LABELS = {
    **{
        name: name.removesuffix("_enabled").replace("_", " ").capitalize()
        for name in MONETIZATION_FIELDS
    },
    **{name: name.replace("_", " ").capitalize() for name in ENGAGEMENT_FIELDS},
}


class VideoForm(FlaskForm):
    """Every editable field of a video. Choices of channel and category are set by the view."""

    version = HiddenField()
    video_id = StringField(
        "Video id",
        [DataRequired(), Regexp(VIDEO_ID, message="A YouTube video id is 11 characters: "
                                "letters, digits, - and _.")],
        filters=[_strip],
        description="The 11-character YouTube id, e.g. dQw4w9WgXcQ.",
    )  # fmt: skip
    asset_id = _text("Asset id", 50)
    custom_id = _text("Custom id", 100)

    title = _text("Title", 200)
    artist = ListOfStrings("Artists", max_length=200, description="One artist per line.")
    genre = ListOfStrings("Genres", max_length=100, description="One genre per line.")
    label = _text("Label", 200)
    channel_id = SelectField(
        "Channel", coerce=lambda v: int(v) if v else None, validate_choice=True
    )
    category_id = SelectField("Category", coerce=lambda v: int(v) if v else None)

    upc = StringField("UPC", [Optional(), valid_upc], filters=[_upper],
                      description="12 digits (UPC-A) or 13 (EAN-13).")  # fmt: skip
    isrc = StringField(
        "ISRC",
        [Optional(), Regexp(ISRC, message="An ISRC is 12 characters: CC XXX YY NNNNN, e.g. "
                            "USRC17607839.")],
        filters=[_upper],
    )  # fmt: skip
    claimed_status = SelectField(
        "Claim status", choices=_blank("Not claimed", CLAIM_STATUSES), default=""
    )
    claimed_by_another_owner = _yes_no("Claimed by another owner")
    other_owners_claiming = TextAreaField("Other owners claiming", filters=[_strip])

    privacy_status = SelectField("Privacy", choices=_blank("Not set", PRIVACY_STATUSES), default="")
    effective_policy = TextAreaField("Effective policy", filters=[_strip])
    video_length = CountField("Length (seconds)", INT_MAX)
    views = CountField("Views", BIGINT_MAX)
    upload_source = _text("Upload source", 20)
    time_published = DateTimeLocalField(
        "Published (UTC)", [Optional()], format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
    )
    hidden = BooleanField("Hidden")
    administered = BooleanField("Administered")
    is_short = BooleanField("Short")
    is_live_stream = BooleanField("Live stream")
    published = BooleanField("Published in the library")
    is_hero = BooleanField("Hero")
    notes = TextAreaField("Notes", [Optional(), Length(max=500)], filters=[_strip])

    def values(self) -> dict:
        """The submitted values by field name, as the service takes them."""
        data = {
            name: f.data
            for name, f in self._fields.items()
            if name not in ("version", "csrf_token") and not name.startswith("cf_")
        }
        if data.get("time_published"):
            data["time_published"] = data["time_published"].replace(tzinfo=UTC)
        return data


for _name in (*MONETIZATION_FIELDS, *ENGAGEMENT_FIELDS):
    setattr(VideoForm, _name, _yes_no(FIELD_LABELS[_name]))

FORM_GROUPS = (
    ("Identifiers", ("video_id", "asset_id", "custom_id")),
    ("Content", ("title", "artist", "genre", "label", "channel_id", "category_id")),
    ("Rights and claims", ("upc", "isrc", "claimed_status", "claimed_by_another_owner",
                           "other_owners_claiming")),
    ("Monetization", MONETIZATION_FIELDS),
    ("Engagement", ENGAGEMENT_FIELDS),
    ("Status", ("privacy_status", "effective_policy", "video_length", "views", "upload_source",
                "time_published", "hidden", "administered", "is_short", "is_live_stream",
                "published", "is_hero")),
    ("Notes", ("notes",)),
)  # fmt: skip


class BulkEditForm(FlaskForm):
    """Which fields to set on the selected videos, and to what. Unticked fields are left alone."""

    ids = HiddenField()
    scope = HiddenField()

    def chosen_values(self) -> dict:
        return {
            name: getattr(self, name).data
            for name in BULK_FIELDS
            if getattr(self, f"set_{name}").data
        }


for _name in BULK_FIELDS:
    setattr(BulkEditForm, _name, getattr(VideoForm, _name))
    setattr(BulkEditForm, f"set_{_name}", BooleanField("Set"))


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token: delete confirmations."""


# -- custom fields ---------------------------------------------------------------------------
def custom_input(field: CustomField):
    """The input that fits a custom field's type; ratings as stars, booleans with "not set"."""
    validators = [DataRequired()] if field.required else [Optional()]
    kwargs = {"description": field.description or ""}
    if field.field_type == "rating":
        stars = [
            (str(n), f"{'★' * n}{'☆' * (field.max_rating - n)}  {n}")
            for n in range(1, field.max_rating + 1)
        ]
        return SelectField(
            field.name,
            validators,
            choices=options([("", "Not rated"), *stars]),
            default="",
            **kwargs,
        )
    if field.field_type == "select":
        return SelectField(
            field.name,
            validators,
            choices=options([("", "—"), *((o, o) for o in field.options)]),
            default="",
            **kwargs,
        )
    if field.field_type == "boolean":
        return SelectField(
            field.name,
            validators,
            choices=options([("", "Not set"), ("yes", "Yes"), ("no", "No")]),
            default="",
            **kwargs,
        )
    return TextAreaField(field.name, [*validators, Length(max=2000)], filters=[_strip], **kwargs)


def form_value(value) -> str:
    """A stored custom value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def with_custom_fields(
    form_class: type, fields: list[CustomField], *, settable: bool = False
) -> type:
    """`form_class` plus an input `cf_<id>` per field (and a `set_cf_<id>` tick for bulk edit)."""

    class WithCustomFields(form_class):
        custom_fields = fields

        def custom_values(self) -> dict:
            """{field: clean value} of the fields this form carries (for bulk: the ticked ones);
            a value that does not fit its field becomes an error on that input."""
            chosen = {}
            for field in self.custom_fields:
                if settable and not self[f"set_cf_{field.id}"].data:
                    continue
                try:
                    chosen[field] = custom_values.clean(field, self[f"cf_{field.id}"].data)
                except custom_values.InvalidValue as exc:
                    self[f"cf_{field.id}"].errors.append(str(exc))
            return chosen

    for field in fields:
        setattr(WithCustomFields, f"cf_{field.id}", custom_input(field))
        if settable:
            setattr(WithCustomFields, f"set_cf_{field.id}", BooleanField("Set"))
    return WithCustomFields
