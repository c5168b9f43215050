"""Editing one value of a video in place on the list (issue 18 §3): privacy, claim status,
category, notes and the custom select and rating values of the card columns.

A cell's editor is a form of one input, `value`, built from the edit form's own field (the
same choices, validators and filters), and its save is the edit form's service call,
`service.update_video`, with the version the editor was opened at: the same version check,
the same audit row. Nothing here writes; the views (cell_views.py) commit."""

from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField
from wtforms.fields.choices import SelectChoice

from catalog.extensions import db
from catalog.fields.queries import applicable_fields
from catalog.models import CustomField, Video, VideoCategory
from catalog.videos import custom_values
from catalog.videos.forms import VideoForm, custom_input, form_value
from catalog.web.forms import options

# The list's column key → the video's attribute the cell edits.
VIDEO_COLUMNS = {
    "privacy": "privacy_status",
    "claim": "claimed_status",
    "category": "category_id",
    "notes": "notes",
}
# The video's values chosen from a fixed menu (offer_stored's case on the edit form).
MENUS = ("privacy_status", "claimed_status")
# The custom field types that edit in place (text and boolean values are edited on the form).
CUSTOM_TYPES = ("select", "rating")


class NotEditable(Exception):
    """The column does not edit in place (or its custom field does not apply to the video)."""


@dataclass(frozen=True)
class Cell:
    """One editable value of one video: the column key, what people call it, and either the
    video's attribute or the custom field it holds."""

    column: str
    label: str
    attribute: str | None = None
    field: CustomField | None = None

    def current(self, video: Video) -> Any:
        """The stored value (a custom field's as stored, None when it has none)."""
        if self.field is None:
            return getattr(video, self.attribute)
        return custom_values.current_values(video.id).get(self.field.id)


def cell_of(video: Video, column: str) -> Cell:
    """The cell `column` of `video`; NotEditable when it does not edit in place."""
    if column in VIDEO_COLUMNS:
        attribute = VIDEO_COLUMNS[column]
        return Cell(column, getattr(VideoForm, attribute).args[0], attribute=attribute)
    if column.startswith("cf") and column[2:].isdigit() and len(column) < 12:
        # As the edit form: only a field that applies to the video's channel.
        for field, _ in applicable_fields(video.channel_id):
            if field.id == int(column[2:]) and field.field_type in CUSTOM_TYPES:
                return Cell(column, field.name, field=field)
    raise NotEditable(column)


def _category_choices(current: int | None) -> list[SelectChoice]:
    """As the edit form offers them: active categories, an inactive one only when in use."""
    categories = db.session.execute(
        select(VideoCategory.id, VideoCategory.name, VideoCategory.is_active).order_by(
            VideoCategory.sort_order, VideoCategory.name
        )
    )
    return options(
        [("", "No category"), *((i, n) for i, n, active in categories if active or i == current)]
    )


def editor_form(cell: Cell, video: Video, current: Any) -> FlaskForm:
    """The cell's form: its `value` input is the edit form's field for the same value (a
    custom field's as the form builds it), and `version` the version it is saved against."""

    class CellForm(FlaskForm):
        version = HiddenField()

    if cell.field is not None:
        CellForm.value = custom_input(cell.field, current)
        data = {"value": form_value(current), "version": video.version}
    else:
        CellForm.value = getattr(VideoForm, cell.attribute)
        data = {"value": current, "version": video.version}
    form = CellForm(data=data)
    if cell.attribute == "category_id":
        form.value.choices = _category_choices(current)
    elif (
        cell.attribute in MENUS and current and current not in {c.value for c in form.value.choices}
    ):
        # A stored value the menu no longer lists stays offered, as on the edit form.
        form.value.choices = [
            *form.value.choices,
            SelectChoice(current, f"{current} (not a listed value)"),
        ]
    return form


def save_arguments(cell: Cell, form: FlaskForm) -> tuple[dict, dict]:
    """What update_video takes for this cell: (values, custom). A custom value that does not
    fit its field raises custom_values.InvalidValue (a RuleError)."""
    if cell.field is None:
        return {cell.attribute: form.value.data}, {}
    return {}, {cell.field: custom_values.clean(cell.field, form.value.data)}


def shown(cell: Cell, video: Video, value: Any) -> dict:
    """What the list's cell shows for `value`, for templates/videos/cell.html."""
    if cell.attribute == "category_id":
        name = db.session.scalar(select(VideoCategory.name).where(VideoCategory.id == value))
        return {"text": name or ""}
    if cell.field is not None and cell.field.field_type == "rating" and value is not None:
        return {"stars": int(value), "top": cell.field.max_rating}
    return {"text": "" if value is None else str(value)}
