"""The forms of saved views and list settings. Each is posted from the list page itself."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length

from catalog.saved_views.service import NAME_MAX
from catalog.web.forms import options

SHARE_CHOICES = [
    ("", "Only me"), ("editor", "Editors"), ("auditor", "Auditors"), ("viewer", "Viewers"),
    ("everyone", "Everyone"),
]  # fmt: skip
QUERY_MAX = 4000
COLOUR_CHOICES = [("auto", "Auto colours"), ("light", "Light"), ("dark", "Dark")]


class SaveViewForm(FlaskForm):
    """A new view of the list's current state (`query`: its URL arguments)."""

    name = StringField("Name", [Length(max=NAME_MAX)])
    shared_with = SelectField("Share with", choices=options(SHARE_CHOICES), validate_choice=False)
    query = HiddenField(validators=[Length(max=QUERY_MAX)])


class SaveStateForm(FlaskForm):
    """Save the list's current state into the view it was opened from."""

    query = HiddenField(validators=[Length(max=QUERY_MAX)])


class EditViewForm(FlaskForm):
    name = StringField("Name", [Length(max=NAME_MAX)])
    shared_with = SelectField("Share with", choices=options(SHARE_CHOICES), validate_choice=False)


class DefaultViewForm(FlaskForm):
    """`view`: the id of the view to open the list with, or empty for the plain list."""

    view = HiddenField()


class ColourModeForm(FlaskForm):
    colour_mode = SelectField(
        "Colours", choices=options(COLOUR_CHOICES), validate_choice=False,
    )  # fmt: skip
