"""The history table's rows, written in Python (catalog/changes/history_rows.py), are byte
for byte what the history macros wrote: those macros are kept here as the reference, and
both render the same audit rows (every kind of entity and change, batches, the awkward
values) for readers with and without the permissions that add links."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from flask import current_app, g, render_template_string
from flask_login import login_user

from catalog.changes import diffs, references
from catalog.changes.history_rows import changes
from tests import factories

# templates/_macros/history.html and templates/revert/_revert_actions.html before the rows
# moved to history_rows.py.
MACROS = """{% from "_macros/tables.html" import table as data_table %}
{% macro items(values, kind) %}{% for item in values %}<span class="diff-item diff-{{ kind }}">{{ '+ ' if kind == 'added' else '− ' }}{{ item | display }}</span>{% if not loop.last %} {% endif %}{% endfor %}{% endmacro %}

{# Removed words struck through, added ones marked; long unchanged stretches cut to "…". #}
{% macro words(tokens) %}<span class="word-diff">{% for kind, text in tokens %}{% if kind == 'removed' %}<del class="diff-removed">{{ text }}</del>{% elif kind == 'added' %}<ins class="diff-added">{{ text }}</ins>{% elif kind == 'gap' %}<span class="diff-gap" title="unchanged text left out">…</span>{% else %}{{ text }}{% endif %}{% endfor %}</span>{% endmacro %}

{# One audit row's fields. Updates: field, before, after side by side. Creates (and exports)
   show the values they started with, deletes the last values (change_value shows an empty
   one as "empty"). `row` is an audit row or any object with `action` and `changes`. One
   macro call a row: the log shows 50 rows of a few fields each. #}
{% macro changes(row) %}
{% set one_sided = row.action in ('create', 'delete', 'export') %}
{% set entity = row.entity_type or 'video' %}
<table class="table table-sm table-borderless mb-0 small diff" data-testid="diff">
<thead class="visually-hidden"><tr><th>Field</th>{% if one_sided %}<th>{{ 'Last value' if row.action == 'delete' else 'Value' }}</th>{% else %}<th>Before</th><th>After</th>{% endif %}</tr></thead>
<tbody>
{% for change in row.changes | field_changes(entity) %}
<tr><th scope="row" class="fw-semibold" title="{{ change.key }}">{{ change.label }}{% if change.custom %} <span class="badge text-bg-light border fw-normal">custom field</span>{% endif %}</th>
{% if one_sided %}<td class="value" colspan="2">{{ (change.old if row.action == 'delete' else change.new) | change_value(change.key, entity) }}</td>
{% elif change.kind == 'list' and (change.added or change.removed) %}<td class="before">{% if change.removed %}{{ items(change.removed, 'removed') }}{% endif %}</td><td class="after">{% if change.added %}{{ items(change.added, 'added') }}{% endif %}</td>
{% elif change.kind == 'text' %}<td class="text-change" colspan="2">{{ words(change.tokens) }}</td>
{% else %}<td class="before"><span class="old">{{ change.old | change_value(change.key, entity) }}</span></td><td class="after"><span class="new">{{ change.new | change_value(change.key, entity) }}</span></td>
{% endif %}</tr>
{% endfor %}
</tbody>
</table>
{% endmacro %}

{% set badge_colours = {'create': 'success', 'update': 'primary', 'delete': 'danger', 'export': 'info'} %}

{# One line for a whole batch of changes (the collapsed log): its first row, its size, and
   its changes, loaded in place on demand. `t`: the table's decisions (see table). #}
{% macro batch_line(row, show_video, actions, scope, t) %}
{% set scoped = '' if scope == 'live' else 'scope=' ~ scope %}
<tr data-testid="change-row" class="batch-line">
  <td class="text-nowrap">{{ row.sync_time | when }}</td>
  <td>{{ row.user_email or 'system' }}</td>
  <td class="text-nowrap"><span class="badge text-bg-{{ badge_colours.get(row.action, 'secondary') }}">{{ row.action }}</span> <span class="badge text-bg-light border">{{ row.source }}</span> <span class="badge text-bg-secondary">batch</span></td>
  {% if show_video %}<td data-testid="batch-size">{{ row.batch_size | thousands }} {{ 'videos' if row.entity_type == 'video' else 'changes' }}</td>{% endif %}
  <td>
    <div class="small">{% for change in row.changes | field_changes(row.entity_type) %}<span class="fw-semibold">{{ change.label }}</span>{% if not loop.last %}, {% endif %}{% endfor %}</div>
    <details class="batch-details" hx-get="{{ t.batch.format(row.batch_id) }}{{ '?' ~ scoped if scoped }}" hx-trigger="toggle once" hx-target="find .batch-changes" hx-swap="innerHTML">
      <summary class="small">Show the changes</summary>
      <div class="batch-changes"><a href="{{ t.log_batch.format(row.batch_id) }}{{ '&' ~ scoped if scoped }}">All {{ row.batch_size | thousands }} changes</a></div>
    </details>
  </td>
  {# The actions hook acts on single changes; this line stands for many. #}
  {% if actions %}<td class="text-end">{% if scope == 'live' and t.may_edit %}<a class="btn btn-sm btn-outline-secondary py-0 text-nowrap" href="{{ t.undo_batch.format(row.batch_id) }}" data-testid="undo-batch-link">Undo batch…</a>{% endif %}</td>{% endif %}
</tr>
{% endmacro %}

{# `actions`, when given, is a macro called with each row and the table's decisions `t`; its
   output fills a last column. `grouped`: rows that head a batch stand for the whole batch
   (the collapsed log of /audit); `current_batch`: the batch being shown, whose rows need no
   link to it; `scope`: "live" or "archive", the table the rows come from.
   What is the same for every row is decided once in `t` (the reader's permissions, the
   links' patterns: url_for once, str.format per row, catalog/web/links.py), and each row is
   written here in one pass with one macro call for its changes: /audit shows 50 a page. #}
{% macro table(rows, show_video=false, actions=none, grouped=false, current_batch=none, scope='live') %}
{% set t = {
  'may_read_log': can(Permission.AUDIT_READ), 'may_edit': can(Permission.CATALOG_EDIT),
  'video': url_pattern('videos.detail', 'video_id'), 'channel': url_pattern('channels.detail', 'channel_id'),
  'as_of': url_pattern('revert.as_of', 'video_id'), 'log_batch': url_pattern('changes.index', 'batch'),
  'batch': url_pattern('changes.batch', 'batch_id'), 'undo_batch': url_pattern('revert.undo_batch', 'batch_id'),
  'revert': url_pattern('revert.revert_change', 'audit_id'), 'restore': url_pattern('revert.restore_video', 'audit_id'),
  'task': url_pattern('production.task', 'task_id'),
} %}
{{- look_up(rows) -}}
{% set head = ['When', 'Who', 'What'] + (['Entity'] if show_video else []) + ['Changes'] + ([''] if actions else []) %}
{% call(row) data_table(rows, head, empty='No changes recorded.', cls='align-top history', head_cls='') %}
  {# A batch of one change reads best as that change (with its link to the batch). #}
  {% if grouped and row.batch_id and row.batch_size and row.batch_size > 1 %}{{ batch_line(row, show_video, actions, scope, t) }}{% else %}
  <tr data-testid="change-row">
    <td class="text-nowrap">{{ row.sync_time | when }}</td>
    <td>{{ row.user_email or 'system' }}</td>
    <td class="text-nowrap"><span class="badge text-bg-{{ badge_colours.get(row.action, 'secondary') }}">{{ row.action }}</span> <span class="badge text-bg-light border">{{ row.source }}</span>
    {# A link from a change that was part of a batch to the whole batch (not when the batch
       is what is being shown): its changes in the log for those who may read the log, its
       own page for editors, who may open (and undo) batches of video changes. #}
    {% if row.batch_id and row.batch_id != current_batch %}
      {% if t.may_read_log %}<div><a class="badge text-bg-light border text-decoration-none" data-testid="batch-link" href="{{ t.log_batch.format(row.batch_id) }}">part of a batch</a></div>
      {% elif row.entity_type == 'video' and t.may_edit %}<div><a class="badge text-bg-light border text-decoration-none" data-testid="batch-link" href="{{ t.batch.format(row.batch_id) }}">part of a batch</a></div>{% endif %}
    {% endif %}</td>
    {% if show_video %}<td>{% if row.entity_type == 'video' %}<a href="{{ t.video.format(row.entity_key | urlencode) }}">{{ row.entity_key }}</a><div class="small text-body-secondary entity-title" title="{{ row.video_title or '' }}">{{ row.video_title or '' }}</div>{% elif row.entity_type == 'channel' %}<a href="{{ t.channel.format(row.entity_key | urlencode) }}">channel {{ row.entity_key }}</a>{% elif row.entity_type == 'task' and row.entity_id %}<a href="{{ t.task.format(row.entity_id) }}">task {{ row.entity_id }}</a><div class="small text-body-secondary font-monospace text-break">{{ row.entity_key or '' }}</div>{% elif row.entity_type == 'audit_log' %}the audit log{% else %}{{ row.entity_type | replace('_', ' ') }} {{ row.entity_key or '' }}{% endif %}</td>{% endif %}
    <td>{{ changes(row) }}</td>
    {% if actions %}<td class="text-end">{{ actions(row, t) }}</td>{% endif %}
  </tr>
  {% endif %}
{% endcall %}
{% endmacro %}

{# The history table's last column (the `actions` hook of _macros/history.html, given the
   table's decisions `t`): see a video as it was right after a change; for editors, revert
   the change, restore a deletion or undo the whole batch the change was part of. #}
{% macro actions(row, t) %}
{% if row.entity_type == 'video' and row.entity_key %}
<div class="d-flex flex-wrap gap-1 justify-content-end small">
  <a class="link-secondary text-nowrap" href="{{ t.as_of.format(row.entity_key | urlencode) }}?at={{ row.sync_time.isoformat() | urlencode }}" title="The video as it was right after this change">As of then</a>
  {% if t.may_edit %}
    {% if row.action == 'delete' %}
    <a class="btn btn-sm btn-outline-primary py-0" href="{{ t.restore.format(row.id) }}" data-testid="restore-link">Restore…</a>
    {% elif row.action in ('create', 'update') %}
    <a class="btn btn-sm btn-outline-secondary py-0" href="{{ t.revert.format(row.id) }}" data-testid="revert-link">Revert…</a>
    {% endif %}
    {% if row.batch_id %}<a class="btn btn-sm btn-outline-secondary py-0 text-nowrap" href="{{ t.undo_batch.format(row.batch_id) }}" data-testid="undo-batch-link">Undo its batch…</a>{% endif %}
  {% endif %}
</div>
{% endif %}
{% endmacro %}
"""  # noqa: E501, RUF001
TEMPLATE = (
    MACROS
    + """{{ table(rows, show_video=show_video,
actions=actions if with_actions else none, grouped=grouped, current_batch=current_batch,
scope=scope) }}"""
)
NEW = """{% from "_macros/history.html" import table %}{{ table(rows, show_video=show_video,
actions=with_actions, grouped=grouped, current_batch=current_batch, scope=scope) }}"""


def _reference(source: str, **context) -> str:
    """The reference macros rendered as the app rendered them, with the filters and the
    look-up they called (the app's templates no longer do); without the blank lines their
    definitions leave before what they write."""
    env = current_app.jinja_env.overlay()
    env.filters.update(
        field_changes=diffs.field_changes, display=diffs.display,
        change_value=references.change_value,
    )  # fmt: skip

    # The old template wrote look_up's empty answer; the function now answers nothing.
    def look_up(rows):
        references.look_up(rows)
        return ""

    return env.from_string(source).render(look_up=look_up, **context).lstrip("\n")


BATCH = uuid.UUID("12345678-1234-5678-1234-567812345678")
AT = datetime(2026, 11, 30, 9, 15, 42, tzinfo=UTC)


def _row(n: int, **fields) -> SimpleNamespace:
    row = {
        "id": n, "entity_type": "video", "entity_id": n, "entity_key": f"vid{n:08d}",
        "video_title": f"Title {n}", "action": "update", "source": "web",
        "user_email": "editor@example.com", "sync_time": AT, "batch_id": None,
        "batch_size": None, "changes": {"title": ["Old", "New"]},
    }  # fmt: skip
    return SimpleNamespace(**(row | fields))


def _rows() -> list[SimpleNamespace]:
    long_old = "A long description of the song, " * 4 + "with <tags> & 'quotes' at the end."
    long_new = long_old.replace("song", "tune").replace("end", "very end")
    return [
        _row(1),
        _row(
            2,
            video_title="<b>\"Rock\" & 'Roll'</b>",
            entity_key="a b&c/d?e",
            changes={
                "description": [long_old, long_new],
                "artists": [["Ana", "Bo"], ["Bo", "Cy <x>"]],
                "field:Mood": ["calm", "wild"],
                "views": [None, 1234],
                "category_id": [7, 8],
                "channel_id": [None, 9],
                "published_at": [None, "2026-01-02T03:04:05+00:00"],
            },
        ),
        _row(
            3,
            action="create",
            user_email=None,
            source="report",
            batch_id=BATCH,
            batch_size=1500,
            changes={"title": [None, "Fresh"], "tags": [None, []]},
        ),
        _row(
            4,
            action="delete",
            batch_id=BATCH,
            batch_size=None,
            changes={"title": ["Gone", None], "notes": ["", None]},
        ),
        _row(5, action="export", changes={"format": [None, "csv"]}),
        _row(
            6,
            entity_type="channel",
            entity_key="UC<chan>",
            entity_id=6,
            video_title=None,
            changes={"name": ["A", "B"]},
        ),
        _row(
            7,
            entity_type="task",
            entity_key="0123456789abcdef0123456789abcdef",
            video_title=None,
            changes={"status": ["queued", "claimed"]},
        ),
        _row(8, entity_type="task", entity_id=None, entity_key=None, video_title=None),
        _row(
            9,
            entity_type="audit_log",
            entity_key=None,
            video_title=None,
            action="archive",
            changes={"month": [None, "2026-01"]},
        ),
        _row(
            10,
            entity_type="worker_token",
            entity_key="bot & co",
            video_title=None,
            source="admin",
            changes={},
        ),
        _row(11, entity_type="video", entity_key=None, changes=None),
        _row(
            12,
            batch_id=BATCH,
            batch_size=2,
            entity_type="field",
            entity_key="Mood",
            video_title=None,
            changes={"field:Mood": ["a", "b"]},
        ),
    ]


@pytest.fixture(params=[None, "viewer", "auditor", "editor", "admin"])
def reader(request, db_session):
    return factories.UserFactory(roles=[request.param]) if request.param else None


@pytest.mark.parametrize("show_video", [True, False])
@pytest.mark.parametrize("with_actions", [True, False])
@pytest.mark.parametrize(
    ("grouped", "current_batch", "scope"),
    [(False, None, "live"), (True, None, "live"), (True, None, "archive"), (False, BATCH, "live")],
)
def test_the_rows_are_what_the_macros_wrote(
    app, reader, show_video, with_actions, grouped, current_batch, scope
):
    arguments = {
        "rows": _rows(), "show_video": show_video, "with_actions": with_actions,
        "grouped": grouped, "current_batch": current_batch, "scope": scope,
    }  # fmt: skip
    with app.test_request_context("/audit"):
        if reader:
            login_user(reader)
        g.reference_names = {("category_id", 7): "Pop & Rock", ("category_id", 8): None,
                             ("channel_id", 9): "<Chan>"}  # fmt: skip
        expected = _reference(TEMPLATE, **arguments)
        written = render_template_string(NEW, **arguments)
    assert written == expected
    assert written.count('data-testid="change-row"') == 12
    assert ("&lt;b&gt;&#34;Rock&#34; &amp; &#39;Roll&#39;&lt;/b&gt;" in written) == show_video
    assert "Cy &lt;x&gt;" in written


def test_an_empty_table_says_so(app, db_session):
    arguments = {"show_video": True, "with_actions": True, "grouped": False,
                 "current_batch": None, "scope": "live"}  # fmt: skip
    with app.test_request_context("/audit"):
        written = render_template_string(NEW, rows=iter(()), **arguments)
        expected = _reference(TEMPLATE, rows=[], **arguments)
    assert written == expected
    assert "No changes recorded." in written


def test_one_rows_changes_alone(app, db_session):
    """The changes of one row, as the report page shows them (the `changes` macro)."""
    row = _rows()[1]
    with app.test_request_context("/"):
        g.reference_names = {("category_id", 7): "Pop", ("category_id", 8): None,
                             ("channel_id", 9): "Chan"}  # fmt: skip
        expected = _reference(MACROS + "{{ changes(row) }}", row=row)
        written = render_template_string(
            '{% from "_macros/history.html" import changes %}{{ changes(row) }}', row=row
        )
        assert str(changes(row)) == written
    assert written == expected
    assert '<del class="diff-removed">' in written
    assert "#8 (deleted)" in written


def test_the_changes_of_a_mapping(app, db_session):
    """A report's preview keeps its sample rows as mappings: they read as rows do."""
    sample = {"video_id": "vid00000001", "action": "create",
              "changes": {"title": [None, "A & B"], "views": [None, 12]}}  # fmt: skip
    with app.test_request_context("/"):
        expected = _reference(MACROS + "{{ changes(row) }}", row=sample)
        written = str(changes(sample))
    assert written == expected
    assert "A &amp; B" in written
