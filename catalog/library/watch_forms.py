"""The watch page's two posts: the player's progress report and a reaction."""

from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectField
from wtforms.validators import InputRequired, Optional

from catalog.library.reactions import LABELS
from catalog.models.library import REACTION_TYPES
from catalog.web.forms import options


class ProgressForm(FlaskForm):
    """A beacon from the player (navigator.sendBeacon posts it as a form, CSRF token
    included). `user_id` is optional; when sent, it must be the signed-in person's."""

    position = FloatField("Position", [InputRequired()])
    played = FloatField("Played", [InputRequired()])
    user_id = IntegerField("User", [Optional()])


class ReactionForm(FlaskForm):
    reaction = SelectField(
        "Reaction", [InputRequired()], choices=options((t, LABELS[t]) for t in REACTION_TYPES)
    )
