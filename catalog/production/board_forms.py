"""The board's and the task page's forms: the review decisions, the priority, the bulk
actions' confirmation and a channel's capacity. (Buttons with nothing to type are
ConfirmForms: only the CSRF token.)"""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from catalog.models.task import TASK_PRIORITIES
from catalog.production.capacity import CAPACITY_MAX
from catalog.production.service import MESSAGE_LENGTH
from catalog.web.forms import CountField, options

PRIORITY_CHOICES = options((p, p.capitalize()) for p in TASK_PRIORITIES)
BULK_ACTIONS = {
    "queue": "Queue the drafts",
    "priority": "Change the priority",
    "retry": "Retry the errors",
}


class SendBackForm(FlaskForm):
    reason = StringField(
        "Reason (optional)",
        [Optional(), Length(max=MESSAGE_LENGTH)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        description="Goes into the error log, which the stage's worker reads.",
    )


class PriorityForm(FlaskForm):
    priority = SelectField("Priority", [InputRequired()], choices=PRIORITY_CHOICES)


class BulkForm(FlaskForm):
    """The confirmation of a bulk action: the count the person saw (apply refuses if the set
    has changed since)."""

    action = HiddenField(validators=[InputRequired()])
    new_priority = HiddenField()
    expected = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class CapacityForm(FlaskForm):
    capacity = CountField("Capacity", maximum=CAPACITY_MAX)
