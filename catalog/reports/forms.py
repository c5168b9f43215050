from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import DataRequired, ValidationError

from catalog.reports.storage import suffix_of


def _report_file(form, field) -> None:
    name = getattr(field.data, "filename", "") or ""
    if not suffix_of(name):
        raise ValidationError("Choose a .csv or .csv.gz file.")


class UploadForm(FlaskForm):
    file = FileField(
        "Report file",
        validators=[FileRequired("Choose a file."), _report_file],
        description="A YouTube Content Manager video report or a Catalog Tool CSV; "
        ".csv or .csv.gz.",
    )


class PickForm(FlaskForm):
    """A report already in the bucket; the choices are the bucket's listing."""

    key = SelectField("Report in the bucket", validators=[DataRequired()], choices=[])
