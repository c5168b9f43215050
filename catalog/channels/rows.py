"""The channel list's rows as HTML, written here rather than by the template, as the video
list's are (catalog/videos/rows.py): 50 rows of eight cells were the list's largest cost in
the template, each cell a chain of lookups and an escape. Same markup, byte for byte
(tests/channels/test_rows.py renders both); the header, the empty list and everything
around the rows stay in templates/channels/index.html."""

from collections.abc import Mapping, Sequence
from typing import Any

from flask import url_for
from markupsafe import Markup

from catalog.web.text import escape, thousands


def channel_rows(rows: Sequence[Any], countries: Mapping[str, str]) -> Markup:
    """Each (Channel, ChannelStats) row as a <tr>; `countries` names the country codes."""
    detail = escape(url_for("channels.index") + "/")
    videos = escape(url_for("videos.index") + "?channel=")
    written = []
    for row in rows:
        c, s = row.Channel, row.ChannelStats
        hidden = ' <span class="badge text-bg-secondary">hidden</span>' if c.hidden else ""
        country = c.country
        if country:
            named = escape(countries.get(country, country))
            country = f'<span title="{named}">{escape(country)}</span>'
        written.append(
            '<tr data-testid="channel-row">\n'
            f'<td><a href="{detail}{escape(c.channel_id)}">{escape(c.name)}</a>{hidden}</td>\n'
            f'<td class="font-monospace small">{escape(c.channel_id)}</td>\n'
            f"<td>{country or ''}</td>\n"
            f"<td>{'Yes' if c.is_monetized else 'No'}</td>\n"
            f'<td class="text-end">{thousands(c.subscriber_count)}</td>\n'
            f'<td class="text-end">{thousands(c.view_count)}</td>\n'
            f'<td class="text-end"><a href="{videos}{escape(c.id)}&amp;hidden=all">'
            f"{thousands(s.video_count)}</a></td>\n"
            f'<td class="text-end">{thousands(s.total_views)}</td>\n'
            "</tr>\n"
        )
    return Markup("".join(written))  # noqa: S704  (every value put in is escaped)
