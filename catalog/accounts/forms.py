"""Forms of account administration. They apply the service's own rules for emails and
passwords so that every mistake shows at once; the service checks again, and alone decides
what needs the database (an email or user name already taken)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from catalog.accounts.service import ROLE_NAMES, AccountError, checked_password, normalize_email
from catalog.models.task import STAGES
from catalog.permissions import ROLE_DESCRIPTIONS
from catalog.web.forms import options


def _checked(rule, value):
    """Apply a service rule to a field's value; its refusal becomes the field's error."""
    try:
        return rule(value)
    except AccountError as exc:
        raise ValidationError(str(exc)) from exc


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as one checkbox per option."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _roles_field() -> CheckboxesField:
    return CheckboxesField(
        "Roles",
        choices=options((name, f"{name}: {ROLE_DESCRIPTIONS[name]}") for name in ROLE_NAMES),
        validators=[DataRequired(message="Choose at least one role.")],
    )


class CreateUserForm(FlaskForm):
    email = StringField("Email", [DataRequired(), Length(max=254)], filters=[_strip])
    username = StringField(
        "User name",
        [
            Optional(),
            Length(max=64),
            Regexp(r"^[\w.@+-]+$", message="Letters, digits and . _ @ + - only."),
        ],
        filters=[_strip],
        description="Optional; for display.",
    )
    roles = _roles_field()
    initial = RadioField(
        "How the person gets a password",
        choices=options(
            [
                ("link", "Generate a one-time set-password link to give them"),
                ("password", "Set an initial password now"),
            ]
        ),
        default="link",
    )
    # Never stripped, never shown again: a password is exactly what was typed.
    password = PasswordField(
        "Initial password",
        description='Only with "Set an initial password now": at least 12 characters, not a '
        "common password.",
        render_kw={"autocomplete": "new-password"},
    )

    def validate_email(self, field) -> None:
        field.data = _checked(normalize_email, field.data)

    def validate_password(self, field) -> None:
        if self.initial.data != "password":
            # A typed password would otherwise be dropped without a word: say so instead.
            if field.data:
                raise ValidationError(
                    "You chose a set-password link, so this password would not be used: "
                    'clear it, or choose "Set an initial password now".'
                )
            return
        if not field.data:
            raise ValidationError("Enter a password, or choose a set-password link instead.")
        _checked(checked_password, field.data)


class RolesForm(FlaskForm):
    roles = _roles_field()


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        [DataRequired()],
        description="At least 12 characters, not a common password.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        [DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field) -> None:
        _checked(checked_password, field.data)


class PipelineWorkerForm(FlaskForm):
    """A new pipeline worker: its name and the stages its token may claim work for. The
    service (catalog.production.workers) checks both again and whether the name is taken."""

    name = StringField(
        "Name",
        [
            DataRequired(),
            Length(max=100),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                message="Letters, digits and . _ - only, starting with a letter or digit.",
            ),
        ],
        filters=[_strip],
        description="Shown on the board and in the history as worker:<name>, e.g. gpu-render-1.",
    )
    stages = CheckboxesField(
        "Stages it may claim",
        choices=options((stage, stage) for stage in STAGES),
        validators=[DataRequired(message="Choose at least one stage.")],
    )
