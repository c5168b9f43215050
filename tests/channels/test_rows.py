"""The channel list's rows, written in Python (catalog/channels/rows.py), are byte for byte
what the list's template wrote for them: that template is kept here as the reference and
both render the same rows, the awkward values included."""

from types import SimpleNamespace

from flask import render_template_string

from catalog.channels.countries import COUNTRIES
from catalog.channels.rows import channel_rows

# templates/channels/index.html's rows before they moved to rows.py.
TEMPLATE = """
{% set detail = url_for('channels.index') ~ '/' %}
{% set videos = url_for('videos.index') ~ '?channel=' %}
{% for row in rows %}{% set c = row.Channel %}{% set s = row.ChannelStats %}
<tr data-testid="channel-row">
<td><a href="{{ detail }}{{ c.channel_id }}">{{ c.name }}</a>{% if c.hidden %} <span class="badge text-bg-secondary">hidden</span>{% endif %}</td>
<td class="font-monospace small">{{ c.channel_id }}</td>
<td>{% if c.country %}<span title="{{ countries.get(c.country, c.country) }}">{{ c.country }}</span>{% endif %}</td>
<td>{{ 'Yes' if c.is_monetized else 'No' }}</td>
<td class="text-end">{{ c.subscriber_count | thousands }}</td>
<td class="text-end">{{ c.view_count | thousands }}</td>
<td class="text-end"><a href="{{ videos }}{{ c.id }}&amp;hidden=all">{{ s.video_count | thousands }}</a></td>
<td class="text-end">{{ s.total_views | thousands }}</td>
</tr>
{% endfor %}"""  # noqa: E501


def _row(n: int, stats: dict | None = None, **channel) -> SimpleNamespace:
    shown = {
        "id": n, "channel_id": f"UC{n:022d}", "name": f"Channel {n}", "hidden": False,
        "country": "DE", "is_monetized": True, "subscriber_count": 1234567, "view_count": 0,
    }  # fmt: skip
    figures = {"video_count": 12, "total_views": 9876543210} | (stats or {})
    return SimpleNamespace(
        Channel=SimpleNamespace(**(shown | channel)), ChannelStats=SimpleNamespace(**figures)
    )


def test_the_rows_are_what_the_template_wrote(app):
    rows = [
        _row(1),
        _row(
            2,
            name="<b>\"Rock\" & 'Roll'</b>",
            hidden=True,
            country="ZZ",
            is_monetized=False,
            subscriber_count=None,
            view_count=None,
            channel_id="UC<&>",
        ),
        _row(3, country=None, stats={"video_count": 0, "total_views": None}),
    ]
    with app.test_request_context("/channels"):
        expected = render_template_string(TEMPLATE, rows=rows, countries=COUNTRIES)
        written = str(channel_rows(rows, COUNTRIES))
    assert written == expected.lstrip("\n")
    assert written.count('<tr data-testid="channel-row">') == 3
    assert "&lt;b&gt;&#34;Rock&#34; &amp; &#39;Roll&#39;&lt;/b&gt;" in written
    assert '<span title="Germany">DE</span>' in written
