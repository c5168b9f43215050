"""The draft's form: what staff type when Notion is not where drafts come from."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from catalog.extensions import db
from catalog.models import Channel
from catalog.models.task import TASK_PRIORITIES
from catalog.production import drafts
from catalog.web.forms import options


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _page_id(form, field) -> None:
    if field.data and drafts.normalise_page_id(field.data) is None:
        raise ValidationError(drafts.PAGE_ID_HELP)


def channel_choices() -> list:
    """Every channel, by name, for the channel menu (a task may be for a hidden one)."""
    rows = db.session.execute(
        select(Channel.id, Channel.name, Channel.channel_id).order_by(Channel.name, Channel.id)
    )
    return options(
        [("", "Choose a channel…"), *((str(pk), f"{name} ({key})") for pk, name, key in rows)]
    )


class DraftForm(FlaskForm):
    """A draft's fields. On a task past draft the view removes all but those that may still
    change (drafts.changeable)."""

    notion_page_id = StringField(
        "Notion page", [DataRequired("A task needs its Notion page id."), _page_id],
        filters=[_strip],
        description="The page's id (32 hexadecimal characters, with or without dashes) or its "
        "Notion URL. It is the key the Notion sync matches pages by.",
    )  # fmt: skip
    title = StringField(
        "Title",
        [DataRequired("A task needs a title."), Length(max=drafts.TITLE_MAX)],
        filters=[_strip],
    )
    channel_id = SelectField(
        "Channel", [DataRequired("Choose the channel the video is for.")], choices=[]
    )
    priority = SelectField(
        "Priority", choices=options((p, p.capitalize()) for p in TASK_PRIORITIES),
        default="normal",
    )  # fmt: skip
    topic = TextAreaField("Topic", [Optional(), Length(max=drafts.TOPIC_MAX)], filters=[_strip])
    story_direction = TextAreaField(
        "Story direction",
        [Optional(), Length(max=drafts.STORY_DIRECTION_MAX)],
        filters=[_strip],
    )

    def values(self) -> dict:
        """The submitted fields by name, as drafts.py takes them."""
        found = {name: f.data for name, f in self._fields.items() if name in drafts.FIELDS}
        if "channel_id" in found:
            found["channel_id"] = int(found["channel_id"]) if found["channel_id"] else None
        return found
