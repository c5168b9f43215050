"""Forms and form fields that more than one area uses."""

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token: confirmations of deletions and other actions."""


def options(pairs) -> list[SelectChoice]:
    """Menu options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class CountField(IntegerField):
    """A whole number from 0 to `maximum` (the database column's limit), optional. Each
    wrong value gets one message that says what is wrong with it: not a whole number,
    negative, or too large for the column."""

    def __init__(self, label: str, maximum: int = BIGINT_MAX, **kwargs) -> None:
        super().__init__(label, [self._check], **kwargs)
        self.maximum = maximum

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(
                f"Not a valid integer value: a whole number, digits only (not {valuelist[0]!r})."
            ) from None

    def _check(self, form, field) -> None:
        if field.process_errors or field.data is None:
            raise StopValidation()  # nothing to range-check; the parse error says why
        if field.data < 0:
            raise ValidationError("Not negative.")
        if field.data > self.maximum:
            raise ValidationError(f"Too large: at most {self.maximum:,}.")
