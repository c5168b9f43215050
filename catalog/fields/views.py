"""Custom field and field schema definitions. Admins only."""

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from catalog import audit
from catalog.fields import bp, queries, service
from catalog.fields.forms import TYPE_LABELS, FieldForm, SchemaForm
from catalog.models import CustomField, FieldSchema
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import flash_saved, form_status, save_form
from catalog.web.forms import options
from catalog.web.loaders import load_or_404
from catalog.web.pages import confirm_page, form_page
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
    return form_page(
        "fields/create.html", form,
        lambda: service.create_field(form.values(), actor=signed_in_user()),
        saved=lambda field: f"Field “{field.name}” created. Add it to a schema to use it.",
        then=url_for("fields.index"),
    )  # fmt: skip


def _get_field(field_id: int, *, lock: bool = False) -> CustomField:
    return load_or_404(select(CustomField).where(CustomField.id == field_id), lock=lock)


@bp.route("/fields/<id:field_id>", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def edit(field_id: int):
    field = _get_field(field_id, lock=request.method == "POST")
    form = FieldForm(data=FieldForm.data_of(field) if request.method == "GET" else None)
    outcome = save_form(
        form,
        lambda: service.update_field(
            field, form.values(), clear_values=form.clear_values.data, actor=signed_in_user()
        ),
        default_field="name",
    )
    if outcome:
        flash_saved(outcome.value, lambda changes: _field_saved(field, changes))
        return redirect(url_for("fields.index"))
    # Values in the way of a change of type or options: the page asks to clear them.
    in_use = outcome.error if isinstance(outcome.error, service.ValuesInUse) else None
    return render_template(
        "fields/edit.html", form=form, field=field, in_use=in_use,
        videos=service.value_count(field), schemas=queries.schemas_of(field),
        history=audit.history("custom_field", field.id, limit=queries.HISTORY_LIMIT),
        history_limit=queries.HISTORY_LIMIT,
    ), form_status(form)  # fmt: skip


def _field_saved(field: CustomField, changes: dict[str, list]) -> str:
    message = f"Field “{field.name}” saved."
    if cleared := changes.get("values_cleared", [0])[0]:
        message += f" {plural(cleared, 'value')} cleared."
    return message


@bp.route("/fields/<id:field_id>/delete", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def delete(field_id: int):
    field = _get_field(field_id, lock=request.method == "POST")
    name = field.name
    return confirm_page(
        "fields/delete.html",
        lambda: service.delete_field(field, actor=signed_in_user()),
        saved=lambda values: f"Field “{name}” deleted with its {plural(values, 'value')}.",
        then=url_for("fields.index"),
        context=lambda: {
            "field": field, "videos": service.value_count(field),
            "schemas": queries.schemas_of(field),
        },
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


@bp.get("/fields/schemas")
@require(Permission.FIELDS_MANAGE)
def schemas():
    return render_template("fields/schemas.html", schemas=queries.schema_list())


@bp.route("/fields/schemas/new", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def schema_create():
    form, fields = _schema_form(None)
    return form_page(
        "fields/schema_create.html", form,
        lambda: service.create_schema(form.values(), actor=signed_in_user()),
        saved=lambda schema: f"Schema “{schema.name}” created.",
        then=url_for("fields.schemas"),
        context=lambda: {"fields": fields, "type_labels": TYPE_LABELS},
    )  # fmt: skip


@bp.route("/fields/schemas/<id:schema_id>", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def schema_edit(schema_id: int):
    schema = _get_schema(schema_id, lock=request.method == "POST")
    form, fields = _schema_form(schema)
    return form_page(
        "fields/schema_edit.html", form,
        lambda: service.update_schema(schema, form.values(), actor=signed_in_user()),
        saved=lambda _: f"Schema “{schema.name}” saved.",
        then=url_for("fields.schemas"),
        context=lambda: {
            "fields": fields, "type_labels": TYPE_LABELS, "schema": schema,
            "history": audit.history("field_schema", schema.id, limit=queries.HISTORY_LIMIT),
            "history_limit": queries.HISTORY_LIMIT,
        },
    )  # fmt: skip


@bp.route("/fields/schemas/<id:schema_id>/delete", methods=["GET", "POST"])
@require(Permission.FIELDS_MANAGE)
def schema_delete(schema_id: int):
    schema = _get_schema(schema_id, lock=request.method == "POST")
    name = schema.name
    return confirm_page(
        "fields/schema_delete.html",
        lambda: service.delete_schema(schema, actor=signed_in_user()),
        saved=lambda _: f"Schema “{name}” deleted. Its fields and their values stay.",
        then=url_for("fields.schemas"),
        context=lambda: {"schema": schema},
    )  # fmt: skip
