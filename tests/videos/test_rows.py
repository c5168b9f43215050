"""The video list's rows, written in Python (catalog/videos/rows.py), are byte for byte what
the list's template wrote for them: that template is kept here as the reference and both
render the same rows, the awkward values included."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from flask import render_template_string

from catalog.videos import columns
from catalog.videos.menus import FieldChoice
from catalog.videos.rows import video_rows

# templates/videos/index.html's rows before they moved to rows.py.
TEMPLATE = """
  {%- set detail = url_for('videos.index') ~ '/' %}
  {%- for row in rows %}{% set v = row.Video %}{% set values = row.card_values or {} %}
<tr>{% if editable %}<td><input type="checkbox" name="ids" value="{{ v.id }}" aria-label="Select {{ v.video_id }}">{% endif %}
{%- for key, label, kind, f, top, sortable, _ in columns %}
{%- if kind == 'video_id' %}<td><a href="{{ detail }}{{ v.video_id }}">{{ v.video_id }}</a>{% if v.hidden %} <span class="badge text-bg-secondary">hidden</span>{% endif %}
{%- elif kind == 'title' %}<td>{{ v.title or '' }}
{%- elif kind == 'channel' %}<td>{{ v.channel_display_name or '' }}
{%- elif kind == 'artist' %}<td>{{ v.artists or '' }}
{%- elif kind == 'category' %}<td>{{ row.category_name or '' }}
{%- elif kind == 'claim' %}<td>{{ v.claimed_status or '' }}
{%- elif kind == 'privacy' %}<td>{{ v.privacy_status or '' }}
{%- elif kind == 'views' %}<td class="n">{{ v.views | thousands }}
{%- elif kind == 'notes' %}<td>{{ v.notes | truncate(60, leeway=0) if v.notes else '' }}
{%- elif kind == 'changed' %}<td class="s">{% if row.changed_at %}{{ row.changed_at | local_text(zone=False) }}<br>{{ row.changed_by or row.changed_source }}{% endif %}
{%- else %}{% set value = values[key[2:]] %}<td>{% if value is undefined or value is none %}{% elif top %}<span title="{{ value }} of {{ top }}">{{ '★' * (value | int) }}{{ '☆' * (top - value | int) }}</span>{% elif kind == 'bool' %}{{ 'Yes' if value else 'No' }}{% else %}{{ value }}{% endif %}
{%- endif %}
{%- endfor %}
{%- endfor %}"""  # noqa: E501

FIELDS = [
    FieldChoice(id=1, name="Mood", field_type="select", config={}, on_card=True),
    FieldChoice(id=2, name="Score", field_type="rating", config={"max_rating": 5}, on_card=True),
    FieldChoice(id=3, name="Cleared", field_type="boolean", config={}, on_card=True),
    FieldChoice(id=4, name="Budget", field_type="number", config={}, on_card=True),
]


def _row(n: int, **video) -> SimpleNamespace:
    shown = {
        "id": n, "video_id": f"vid{n:08d}", "hidden": False, "title": f"Title {n}",
        "channel_display_name": "River Songs", "artists": "Ana, Bo", "claimed_status": "claim",
        "privacy_status": "public", "views": 1234567, "notes": None,
    }  # fmt: skip
    return SimpleNamespace(
        Video=SimpleNamespace(**(shown | video)),
        card_values={"1": "calm", "2": 3, "3": True, "4": 12.5},
        category_name="Music",
        changed_at=datetime(2026, 11, 30, 9, 15, tzinfo=UTC),
        changed_by="editor@example.com",
        changed_source="web",
    )


def _rows() -> list[SimpleNamespace]:
    awkward = _row(2, title='<b>"Rock" & \'Roll\'</b>', hidden=True, artists="",
                   notes="A long note about this video, more than sixty characters in all, "
                         "so that the list shortens it at a word.",
                   views=None, claimed_status=None, privacy_status="<unlisted>")  # fmt: skip
    awkward.card_values = {"1": "a < b & c", "2": 5.0, "3": False}
    awkward.changed_at, awkward.category_name = None, None
    unnamed = _row(3, notes="Short & sweet", views=0)
    unnamed.card_values = None
    unnamed.changed_by, unnamed.changed_source = None, "report"
    return [_row(1), awkward, unnamed]


@pytest.mark.parametrize("editable", [True, False])
@pytest.mark.parametrize("order", [None, ["changed", "cf2", "notes", "title", "video_id"]])
def test_the_rows_are_what_the_template_wrote(app, editable, order):
    shown = columns.ordered(order, FIELDS)
    rows = _rows()
    written = _same(app, rows, shown, editable)
    assert written.count("<tr>") == 3
    assert "&lt;b&gt;&#34;Rock&#34; &amp; &#39;Roll&#39;&lt;/b&gt;" in written
    assert "hidden</span>" in written
    assert "more than sixty characters...<" in written
    assert "in all" not in written
    assert '<span title="5.0 of 5">★★★★★</span>' in written


def test_rows_without_card_columns_have_no_card_values(app):
    """Without card fields the list's rows have no card_values column at all."""
    rows = _rows()
    for row in rows:
        del row.card_values
    written = _same(app, rows, columns.ordered(None, []), True)
    assert written.count("<tr>") == 3


def _same(app, rows: list, shown: list, editable: bool) -> str:
    with app.test_request_context("/videos"):
        expected = render_template_string(TEMPLATE, rows=rows, columns=shown, editable=editable)
        written = str(video_rows(rows, shown, editable))
    assert written == expected
    return written
