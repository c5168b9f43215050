"""The watch page's reaction post (the progress beacons go to catalog.library.api)."""

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from catalog.library.reactions import LABELS
from catalog.models.library import REACTION_TYPES
from catalog.web.forms import options


class ReactionForm(FlaskForm):
    reaction = SelectField(
        "Reaction", [InputRequired()], choices=options((t, LABELS[t]) for t in REACTION_TYPES)
    )
