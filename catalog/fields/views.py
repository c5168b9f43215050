"""Custom field and field schema definitions. Admins only."""

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog import audit
from catalog.fields import bp, queries, service
from catalog.fields.forms import TYPE_LABELS, FieldForm, SchemaForm
from catalog.models import CustomField, FieldSchema
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import commit_or_explain, form_status, save_form
from catalog.web.forms import ConfirmForm, options
from catalog.web.loaders import load_or_404
from catalog.web.text import plural

# Custom fields.


@bp.get("/fields")
@require(Permission.FIELDS_MANAGE)
def index():
    return render_template(
        "fields/index.html", fields=queries.field_list(), type_labels=TYPE_LABELS
    )


@bp.route("/fields/new", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def create():
    form = FieldForm()
    outcome = save_form(
        form,
        lambda: service.create_field(form.values(), actor=signed_in_user()),
        default_field="name",
    )
    if field := outcome.value:
        flash(f"Field “{field.name}” created. Add it to a schema to use it.", "success")
        return redirect(url_for("fields.index"))
    status = form_status(form)
    return render_template("fields/create.html", form=form), status


@bp.route("/fields/<id:field_id>", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def edit(field_id: int):
    field = load_or_404(
        select(CustomField).where(CustomField.id == field_id), lock=request.method == "POST"
    )
    form = FieldForm(data=FieldForm.data_of(field) if request.method == "GET" else None)
    in_use = None
    outcome = save_form(
        form,
        lambda: service.update_field(
            field, form.values(), clear_values=form.clear_values.data, actor=signed_in_user()
        ),
        default_field="name",
    )
    if not outcome and isinstance(outcome.error, service.ValuesInUse):
        in_use = outcome.error
    if outcome:
        if changes := outcome.value:
            cleared = changes.get("values_cleared", [0])[0]
            message = f"Field “{field.name}” saved."
            if cleared:
                message += f" {plural(cleared, 'value')} cleared."
            flash(message, "success")
        else:
            flash("Nothing changed, so nothing was saved.", "info")
        return redirect(url_for("fields.index"))
    status = form_status(form)
    return render_template(
        "fields/edit.html", form=form, field=field, in_use=in_use,
        videos=service.value_count(field), schemas=queries.schemas_of(field),
        history=audit.history("custom_field", field.id, limit=queries.HISTORY_LIMIT),
        history_limit=queries.HISTORY_LIMIT,
    ), status  # fmt: skip


@bp.route("/fields/<id:field_id>/delete", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def delete(field_id: int):
    field = load_or_404(
        select(CustomField).where(CustomField.id == field_id), lock=request.method == "POST"
    )
    form = ConfirmForm()
    if form.validate_on_submit():
        name = field.name
        if outcome := commit_or_explain(
            lambda: service.delete_field(field, actor=signed_in_user())
        ):
            flash(f"Field “{name}” deleted with its {plural(outcome.value, 'value')}.", "success")
            return redirect(url_for("fields.index"))
    return render_template(
        "fields/delete.html", form=form, field=field, videos=service.value_count(field),
        schemas=queries.schemas_of(field),
    )  # fmt: skip


# Field schemas.


def _get_schema(schema_id: int, *, lock: bool = False) -> FieldSchema:
    return load_or_404(select(FieldSchema).where(FieldSchema.id == schema_id), lock=lock)


def _member_rows(schema: FieldSchema | None, fields: list[CustomField]) -> list[dict]:
    """A row per field for the schema form: the schema's fields in order, then the others."""
    members = sorted(schema.fields, key=lambda m: m.display_order) if schema else []
    inside = {member.field_id for member in members}
    rows = [
        {"field_id": m.field_id, "included": True, "display_order": position,
         "show_on_card": m.show_on_card}
        for position, m in enumerate(members, start=1)
    ]  # fmt: skip
    rows += [
        {"field_id": f.id, "included": False, "display_order": None, "show_on_card": False}
        for f in fields
        if f.id not in inside
    ]
    return rows


def _schema_form(schema: FieldSchema | None) -> tuple[SchemaForm, dict[int, CustomField]]:
    fields = queries.all_fields()
    data = None
    if request.method == "GET":
        data = {
            "name": schema.name if schema else "",
            "description": schema.description if schema else "",
            "channel_ids": [channel.id for channel in schema.channels] if schema else [],
            "members": _member_rows(schema, fields),
        }
    form = SchemaForm(data=data)
    form.channel_ids.choices = options(queries.channel_choices())
    return form, {field.id: field for field in fields}


def _schema_page(template: str, form: SchemaForm, fields, **context):
    status = form_status(form)
    return render_template(
        template, form=form, fields=fields, type_labels=TYPE_LABELS, **context
    ), status


@bp.get("/fields/schemas")
@require(Permission.FIELDS_MANAGE)
def schemas():
    return render_template("fields/schemas.html", schemas=queries.schema_list())


@bp.route("/fields/schemas/new", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def schema_create():
    form, fields = _schema_form(None)
    outcome = save_form(
        form,
        lambda: service.create_schema(form.values(), actor=signed_in_user()),
        default_field="name",
    )
    if schema := outcome.value:
        flash(f"Schema “{schema.name}” created.", "success")
        return redirect(url_for("fields.schemas"))
    return _schema_page("fields/schema_create.html", form, fields)


@bp.route("/fields/schemas/<id:schema_id>", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def schema_edit(schema_id: int):
    schema = _get_schema(schema_id, lock=request.method == "POST")
    form, fields = _schema_form(schema)
    outcome = save_form(
        form,
        lambda: service.update_schema(schema, form.values(), actor=signed_in_user()),
        default_field="name",
    )
    if outcome:
        if outcome.value:
            flash(f"Schema “{schema.name}” saved.", "success")
        else:
            flash("Nothing changed, so nothing was saved.", "info")
        return redirect(url_for("fields.schemas"))
    return _schema_page(
        "fields/schema_edit.html", form, fields, schema=schema,
        history=audit.history("field_schema", schema.id, limit=queries.HISTORY_LIMIT),
        history_limit=queries.HISTORY_LIMIT,
    )  # fmt: skip


@bp.route("/fields/schemas/<id:schema_id>/delete", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def schema_delete(schema_id: int):
    schema = _get_schema(schema_id, lock=request.method == "POST")
    form = ConfirmForm()
    if form.validate_on_submit():
        name = schema.name
        if commit_or_explain(lambda: service.delete_schema(schema, actor=signed_in_user())):
            flash(f"Schema “{name}” deleted. Its fields and their values stay.", "success")
            return redirect(url_for("fields.schemas"))
    return render_template("fields/schema_delete.html", form=form, schema=schema)
