"""What the undo pages post back. Each form carries what its preview showed (the video's
version, the audit chain's position), so the undo can refuse when the video moved on since;
a post that lacks it did not come from the page, and is refused with 400 by the view."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, StopValidation

CHOICE = "choice-"


class WholeNumber(StringField):
    """A whole number the page wrote into the form; None when it is missing or is not one.
    Not a HiddenField: `form.hidden_tag()` would render it a second time, empty, ahead of
    the page's own input, and the empty one is what the browser's post would be read as."""

    def process_formdata(self, valuelist) -> None:
        try:
            self.data = int(valuelist[0]) if valuelist else None
        except ValueError:
            self.data = None

    def pre_validate(self, form) -> None:
        if self.flags.required and self.data is None:
            raise StopValidation("Missing: the page's form sends it.")


class Chosen(Field):
    """The fields a person chose to put back: one radio per field, named "choice-<key>" (the
    keys are the plan's, which a form cannot declare), "restore" or "keep"."""

    def process(self, formdata, data=None, extra_filters=None) -> None:
        self.process_errors = []
        self.raw_data = []
        self.data = set()
        if formdata is not None:
            self.data = {
                key.removeprefix(CHOICE)
                for key, value in formdata.items()
                if key.startswith(CHOICE) and value == "restore"
            }


class RevertChangeForm(FlaskForm):
    version = WholeNumber(validators=[InputRequired()])
    restore = Chosen()
    # The conflicts the preview showed: only those may be overwritten.
    conflict = SelectMultipleField(validate_choice=False)
    # Reverting a creation that changed since deletes those changes too: said so explicitly.
    confirm = BooleanField()

    def acknowledged(self, *, creation: bool) -> set[str]:
        """The conflicts the person saw and accepted to overwrite."""
        if creation and not self.confirm.data:
            return set()
        return set(self.conflict.data or [])


class RestoreToForm(FlaskForm):
    # None: the preview showed no video (restoring creates it again).
    version = WholeNumber()


class RestoreVideoForm(FlaskForm):
    """A deleted video comes back: nothing to choose, only the confirmation."""


class UndoBatchForm(FlaskForm):
    seen = WholeNumber(validators=[InputRequired()])
    conflicts = RadioField(choices=["skip", "overwrite"], default="skip", validate_choice=False)

    @property
    def overwrite(self) -> bool:
        return self.conflicts.data == "overwrite"
