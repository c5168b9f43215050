from datetime import datetime
from functools import lru_cache
from typing import Any

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
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from catalog import identifiers
from catalog.models import CustomField, Video
from catalog.models.video import (
    CLAIM_STATUSES,
    ENGAGEMENT_FIELDS,
    MONETIZATION_FIELDS,
    PRIVACY_STATUSES,
    YES_NO,
)
from catalog.videos import custom_values
from catalog.videos.service import BULK_FIELDS
from catalog.web import timezones
from catalog.web.forms import BIGINT_MAX, INT_MAX, CountField, options

# The identifiers' one definition, anchored for WTForms' Regexp.
VIDEO_ID = identifiers.python_full(identifiers.VIDEO_ID)
ISRC = identifiers.python_full(identifiers.ISRC)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _block(value):
    """A text area's text: browsers send its line breaks as CRLF; they are stored as LF, so
    a text posted back unchanged stays unchanged."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _upper(value):
    return value.strip().upper().replace("-", "") if isinstance(value, str) else value


def _lines(value):
    """Textarea → list, one item per line, blanks dropped."""
    if isinstance(value, list):
        return value
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _blank(label: str, values: tuple[str, ...]) -> list[SelectChoice]:
    return options([("", label), *((v, v) for v in values)])


def valid_upc(form, field) -> None:
    """UPC-A (12 digits), EAN-13 (13) or GTIN-14 with a correct GS1 check digit."""
    code = field.data
    if not code:
        return
    if not identifiers.upc_shape(code):
        raise ValidationError("A UPC is 12 or 13 digits (14 for a GTIN-14).")
    if not identifiers.valid_upc(code):
        raise ValidationError("This UPC's check digit is wrong; please check the number.")


class ZonedDateTimeField(DateTimeLocalField):
    """A time shown and typed in the reader's time zone, to the second (a save must not
    drop the seconds it did not show); its data is an aware UTC time. The label names the
    zone. The form calls `use_zone` with the zone it is read in."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"])
        kwargs.setdefault("render_kw", {"step": "1"})
        super().__init__(label, validators, **kwargs)
        self.zone_name = timezones.DEFAULT
        self.plain_label = self.label.text
        self.typed: datetime | None = None  # the wall-clock time as posted

    def use_zone(self, name: str) -> None:
        """Read a typed (naive) time in zone `name` and show the time in it from now on."""
        self.zone_name = name
        self.label.text = f"{self.plain_label} ({name})"
        if isinstance(self.data, datetime) and self.data.tzinfo is None:
            self.typed = self.data
            self.data = timezones.to_utc(self.data, name)

    def unchanged(self, stored: datetime | None) -> bool:
        """Whether the posted time is `stored` as this field showed it: to the second, and
        in the hour a clock change repeats, which a wall-clock time alone cannot tell."""
        if stored is None or self.typed is None:
            return False
        shown = timezones.local(stored, self.zone_name).replace(tzinfo=None, microsecond=0)
        return shown == self.typed

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if not isinstance(self.data, datetime):
            return ""
        return timezones.local(self.data, self.zone_name).strftime(self.format[0])


class ZonedForm(FlaskForm):
    """A form whose times are in the reader's zone. The zone it was shown in comes back with
    it, so a form opened before the user changed their zone is read as it was shown."""

    time_zone = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.time_zone.data
        if not timezones.is_valid(name):
            name = timezones.current_name()
        self.time_zone.data = name
        for field in self:
            if isinstance(field, ZonedDateTimeField):
                field.use_zone(name)


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


class VideoForm(ZonedForm):
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
    other_owners_claiming = TextAreaField("Other owners claiming", filters=[_block])

    privacy_status = SelectField("Privacy", choices=_blank("Not set", PRIVACY_STATUSES), default="")
    effective_policy = TextAreaField("Effective policy", filters=[_block])
    video_length = CountField("Length (seconds)", INT_MAX)
    views = CountField("Views", BIGINT_MAX)
    upload_source = _text("Upload source", 20)
    time_published = ZonedDateTimeField("Published", [Optional()])
    hidden = BooleanField("Hidden")
    administered = BooleanField("Administered")
    is_short = BooleanField("Short")
    is_live_stream = BooleanField("Live stream")
    published = BooleanField("Published in the library")
    is_hero = BooleanField("Hero")
    notes = TextAreaField("Notes", [Optional(), Length(max=500)], filters=[_block])

    def offer_stored(self, video: Video) -> None:
        """Add to each menu the video's value when the menu does not list it (a value from
        before the list was narrowed, or written by other means): otherwise the browser
        sends the first option instead, and a save of anything else would clear it."""
        for name, field in self._fields.items():
            value = getattr(video, name, None)
            if not isinstance(field, SelectField) or not isinstance(value, str) or not value:
                continue
            if value not in {choice.value for choice in field.choices}:
                field.choices = [
                    *field.choices,
                    SelectChoice(value, f"{value} (not a listed value)"),
                ]

    def values(self, current: Video | None = None) -> dict:
        """The submitted values by field name, as the service takes them.

        A time that comes back as the form showed it was not changed and keeps its stored
        value: the form shows no fraction of a second, and cannot tell the two 01:30s of the
        night a clock goes back apart."""
        data = {
            name: f.data
            for name, f in self._fields.items()
            if name not in ("version", "csrf_token", "time_zone") and not name.startswith("cf_")
        }
        if current is not None and self.time_published.unchanged(current.time_published):
            data["time_published"] = current.time_published
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

# What people call each field of a video on pages that show its values (the history, the
# undo pages): read once off the form's declared fields, so the form stays the one place a
# label is written and no page builds a form to read them. Times carry no zone here: the
# values shown beside them name theirs.
LABELS: dict[str, str] = {
    name: unbound.args[0]
    for name, unbound in vars(VideoForm).items()
    if isinstance(unbound, UnboundField) and unbound.args
} | {"channel_display_name": "Channel name", "administered_at": "Administered at"}


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


# -- custom fields ---------------------------------------------------------------------------
def _kept(choices: list, current) -> list:
    """`choices` plus the stored value when the field no longer offers it (an option removed,
    a maximum lowered): shown as it is, so that a save that does not touch it keeps it."""
    value = form_value(current)
    if value and value not in {choice[0] for choice in choices}:
        choices = [*choices, (value, f"{value} (no longer an option)")]
    return choices


def custom_input(field: CustomField, current=None):
    """The input that fits a custom field's type; ratings as stars, booleans with "not set".
    `current`: the video's stored value, offered even when the field no longer allows it."""
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
            choices=options(_kept([("", "Not rated"), *stars], current)),
            default="",
            **kwargs,
        )
    if field.field_type == "select":
        return SelectField(
            field.name,
            validators,
            choices=options(_kept([("", "—"), *((o, o) for o in field.options)], current)),
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
    return TextAreaField(field.name, [*validators, Length(max=2000)], filters=[_block], **kwargs)


def form_value(value) -> str:
    """A stored custom value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def with_custom_fields(
    form_class: type,
    fields: list[CustomField],
    *,
    settable: bool = False,
    current: dict[int, Any] | None = None,
) -> type:
    """`form_class` plus an input `cf_<id>` per field (and a `set_cf_<id>` tick for bulk edit).
    `current`: the edited video's values {field id: value}; one that comes back as it was
    shown is no change, even when its field would no longer accept it."""
    current = current or {}

    class WithCustomFields(form_class):
        custom_fields = fields

        def custom_values(self) -> dict:
            """{field: clean value} of the fields this form carries (for bulk: the ticked ones;
            for an edit: those whose value was changed); a value that does not fit its field
            becomes an error on that input."""
            chosen = {}
            for field in self.custom_fields:
                if settable and not self[f"set_cf_{field.id}"].data:
                    continue
                if field.id in current and self[f"cf_{field.id}"].data == form_value(
                    current[field.id]
                ):
                    continue
                try:
                    chosen[field] = custom_values.clean(field, self[f"cf_{field.id}"].data)
                except custom_values.InvalidValue as exc:
                    self[f"cf_{field.id}"].errors.append(str(exc))
            return chosen

    for field in fields:
        setattr(WithCustomFields, f"cf_{field.id}", custom_input(field, current.get(field.id)))
        if settable:
            setattr(WithCustomFields, f"set_cf_{field.id}", BooleanField("Set"))
    return WithCustomFields


@lru_cache(maxsize=64)
def field_labels(zone: str) -> dict[str, str]:
    """Each field of the video form by name, as its label reads in `zone` (times name their
    zone): made once per zone and process, as the labels are otherwise the class's."""
    form = VideoForm(formdata=None, data={"time_zone": zone}, meta={"csrf": False})
    return {field.name: field.label.text for field in form}
