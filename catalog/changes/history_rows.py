"""The history table's rows as HTML (templates/_macros/history.html's `table`), written here
rather than by the template, as the video list's rows are (catalog/videos/rows.py).

A row of the log is many small pieces (its time, who, badges, the entity and its link, a
small table of its changed fields, the revert actions), and in the template each piece was
a chain of lookups, filters, an escape and a Markup object: /audit's 50 rows made some
1,200 escapes and 400 macro calls a page, two thirds of its rendering. Here what is the
same for every row is decided once (`Decisions`: the reader's permissions, the links'
patterns) and each row is one string, in the same markup, byte for byte
(tests/changes/test_history_rows.py renders both)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from catalog.changes import diffs, references
from catalog.changes.diffs import ADDED, GAP, REMOVED, FieldChange
from catalog.permissions import Permission, can
from catalog.web.links import url_pattern
from catalog.web.text import escape, thousands
from catalog.web.timezones import when

BADGE_COLOURS = {"create": "success", "update": "primary", "delete": "danger", "export": "info"}
ONE_SIDED = ("create", "delete", "export")
# The links a row may carry, their URL put in by str.format (escaped).
BATCH_LINK = '<div><a class="badge text-bg-light border text-decoration-none" data-testid="batch-link" href="{}">part of a batch</a></div>'  # noqa: E501
AS_OF = '<a class="link-secondary text-nowrap" href="{}" title="The video as it was right after this change">As of then</a>\n'  # noqa: E501
RESTORE = '<a class="btn btn-sm btn-outline-primary py-0" href="{}" data-testid="restore-link">Restore…</a>\n'  # noqa: E501
REVERT = '<a class="btn btn-sm btn-outline-secondary py-0" href="{}" data-testid="revert-link">Revert…</a>\n'  # noqa: E501
UNDO = '<a class="btn btn-sm btn-outline-secondary py-0 text-nowrap" href="{}" data-testid="undo-batch-link">{}</a>'  # noqa: E501


@dataclass(frozen=True)
class Decisions:
    """What is the same for every row of a table: the reader's permissions and the links'
    patterns (url_for once, str.format per row: catalog/web/links.py)."""

    may_read_log: bool
    may_edit: bool
    video: str
    channel: str
    as_of: str
    log_batch: str
    batch: str
    undo_batch: str
    revert: str
    restore: str
    task: str

    @classmethod
    def now(cls) -> "Decisions":
        """The signed-in reader's, for this request."""
        return cls(
            may_read_log=can(Permission.AUDIT_READ),
            may_edit=can(Permission.CATALOG_EDIT),
            video=url_pattern("videos.detail", "video_id"),
            channel=url_pattern("channels.detail", "channel_id"),
            as_of=url_pattern("revert.as_of", "video_id"),
            log_batch=url_pattern("changes.index", "batch"),
            batch=url_pattern("changes.batch", "batch_id"),
            undo_batch=url_pattern("revert.undo_batch", "batch_id"),
            revert=url_pattern("revert.revert_change", "audit_id"),
            restore=url_pattern("revert.restore_video", "audit_id"),
            task=url_pattern("production.task", "task_id"),
        )


def history_rows(
    rows: Iterable[Any],
    *,
    show_video: bool = False,
    actions: bool = False,
    grouped: bool = False,
    current_batch: Any = None,
    scope: str = "live",
) -> Markup:
    """The table's rows (audit rows, of the live table or the archive), each a <tr>.
    `actions`: a last column with the revert actions; `grouped`: a row that heads a batch
    stands for the whole batch; `current_batch`: the batch being shown (its rows need no
    link to it)."""
    rows = list(rows)
    references.look_up(rows)  # the names of the channels and categories they mention
    t = Decisions.now()
    written = []
    for row in rows:
        if grouped and row.batch_id and row.batch_size and row.batch_size > 1:
            written.append(_batch_line(row, show_video, actions, scope, t))
        else:
            written.append(_row(row, show_video, actions, current_batch, t))
    return Markup("".join(written))  # noqa: S704  (every value put in is escaped)


def _badges(row: Any) -> str:
    colour = BADGE_COLOURS.get(row.action, "secondary")
    return (
        f'<span class="badge text-bg-{colour}">{escape(row.action)}</span> '
        f'<span class="badge text-bg-light border">{escape(row.source)}</span>'
    )


def _who(row: Any) -> str:
    return escape(row.user_email) if row.user_email else "system"


def _row(row: Any, show_video: bool, actions: bool, current_batch: Any, t: Decisions) -> str:
    batch_link = ""
    if row.batch_id and row.batch_id != current_batch:
        if t.may_read_log:
            batch_link = BATCH_LINK.format(escape(t.log_batch.format(row.batch_id))) + "\n"
        elif row.entity_type == "video" and t.may_edit:
            batch_link = BATCH_LINK.format(escape(t.batch.format(row.batch_id)))
    entity = f"<td>{_entity(row, t)}</td>" if show_video else ""
    last = f'<td class="text-end">{_actions(row, t)}</td>' if actions else ""
    return (
        '<tr data-testid="change-row">\n'
        f'<td class="text-nowrap">{when(row.sync_time)}</td>\n'
        f"<td>{_who(row)}</td>\n"
        f'<td class="text-nowrap">{_badges(row)}\n{batch_link}</td>\n'
        f"{entity}<td>{changes(row)}</td>\n{last}</tr>\n"
    )


def _entity(row: Any, t: Decisions) -> str:
    """What the change was made to: a video, a channel or a task linked, else named."""
    kind, key = row.entity_type, row.entity_key
    if kind == "video":
        title = escape(row.video_title or "")
        return (
            f'<a href="{escape(t.video.format(_quoted(key)))}">{escape(key)}</a>'
            f'<div class="small text-body-secondary entity-title" title="{title}">{title}</div>'
        )
    if kind == "channel":
        return f'<a href="{escape(t.channel.format(_quoted(key)))}">channel {escape(key)}</a>'
    if kind == "task" and row.entity_id:
        return (
            f'<a href="{escape(t.task.format(row.entity_id))}">task {escape(row.entity_id)}</a>'
            f'<div class="small text-body-secondary font-monospace text-break">'
            f"{escape(key or '')}</div>"
        )
    if kind == "audit_log":
        return "the audit log"
    return f"{escape(str(kind).replace('_', ' '))} {escape(key or '')}"


def _quoted(value: Any) -> str:
    """As Jinja's urlencode filter writes a value into a URL's path."""
    return quote(str(value) if value is not None else "None", safe="/")


def _actions(row: Any, t: Decisions) -> str:
    """The revert actions (a table's last column): see a video as it was right after the
    change; for editors, revert the change, restore a deletion or undo its batch."""
    if not (row.entity_type == "video" and row.entity_key):
        return ""
    at = quote(row.sync_time.isoformat(), safe="/")
    as_of = f"{t.as_of.format(_quoted(row.entity_key))}?at={at}"
    found = [
        '<div class="d-flex flex-wrap gap-1 justify-content-end small">\n',
        AS_OF.format(escape(as_of)),
    ]
    if t.may_edit:
        if row.action == "delete":
            found.append(RESTORE.format(escape(t.restore.format(row.id))))
        elif row.action in ("create", "update"):
            found.append(REVERT.format(escape(t.revert.format(row.id))))
        if row.batch_id:
            found.append(UNDO.format(escape(t.undo_batch.format(row.batch_id)), "Undo its batch…"))
    found.append("</div>\n")
    return "".join(found)


def _batch_line(row: Any, show_video: bool, actions: bool, scope: str, t: Decisions) -> str:
    """One line for a whole batch of changes (the collapsed log): its first row, its size,
    and its changes, loaded in place on demand."""
    scoped = "" if scope == "live" else f"scope={scope}"
    size = thousands(row.batch_size)
    what = "videos" if row.entity_type == "video" else "changes"
    labels = ", ".join(
        f'<span class="fw-semibold">{escape(change.label)}</span>'
        for change in diffs.field_changes(row.changes, row.entity_type)
    )
    batch_url = escape(t.batch.format(row.batch_id) + (f"?{scoped}" if scoped else ""))
    log_url = escape(t.log_batch.format(row.batch_id) + (f"&{scoped}" if scoped else ""))
    undo = ""
    if actions:
        link = ""
        if scope == "live" and t.may_edit:
            link = UNDO.format(escape(t.undo_batch.format(row.batch_id)), "Undo batch…")
        undo = f'<td class="text-end">{link}</td>'
    video = f'<td data-testid="batch-size">{size} {what}</td>' if show_video else ""
    return (
        '<tr data-testid="change-row" class="batch-line">\n'
        f'<td class="text-nowrap">{when(row.sync_time)}</td>\n'
        f"<td>{_who(row)}</td>\n"
        f'<td class="text-nowrap">{_badges(row)} <span class="badge text-bg-secondary">batch</span></td>\n'  # noqa: E501
        f"{video}<td>\n"
        f'<div class="small">{labels}</div>\n'
        f'<details class="batch-details" hx-get="{batch_url}" hx-trigger="toggle once" hx-target="find .batch-changes" hx-swap="innerHTML">\n'  # noqa: E501
        '<summary class="small">Show the changes</summary>\n'
        f'<div class="batch-changes"><a href="{log_url}">All {size} changes</a></div>\n'
        "</details>\n"
        f"</td>\n{undo}</tr>\n"
    )


def changes(row: Any) -> Markup:
    """One audit row's fields as a small table. Updates: field, before, after side by side.
    Creates (and exports) show the values they started with, deletes the last values
    (change_value shows an empty one as "empty"). `row` is an audit row or any object with
    `action` and `changes`, or a mapping of them (a report's preview keeps its sample so)."""
    if isinstance(row, Mapping):
        row = SimpleNamespace(**row)
    one_sided = row.action in ONE_SIDED
    entity = getattr(row, "entity_type", None) or "video"
    if one_sided:
        heads = f"<th>{'Last value' if row.action == 'delete' else 'Value'}</th>"
    else:
        heads = "<th>Before</th><th>After</th>"
    lines = [
        '<table class="table table-sm table-borderless mb-0 small diff" data-testid="diff">\n'
        f'<thead class="visually-hidden"><tr><th>Field</th>{heads}</tr></thead>\n<tbody>\n'
    ]
    for change in diffs.field_changes(row.changes, entity):
        lines.append(_field(change, row.action, one_sided, entity))
    lines.append("</tbody>\n</table>\n")
    return Markup("".join(lines))  # noqa: S704  (every value put in is escaped)


def _field(change: FieldChange, action: str, one_sided: bool, entity: str) -> str:
    custom = ' <span class="badge text-bg-light border fw-normal">custom field</span>'
    head = (
        f'<tr><th scope="row" class="fw-semibold" title="{escape(change.key)}">'
        f"{escape(change.label)}{custom if change.custom else ''}</th>\n"
    )
    if one_sided:
        value = change.old if action == "delete" else change.new
        cells = f'<td class="value" colspan="2">{_value(value, change.key, entity)}</td>'
    elif change.kind == "list" and (change.added or change.removed):
        removed = _items(change.removed, "removed") if change.removed else ""
        added = _items(change.added, "added") if change.added else ""
        cells = f'<td class="before">{removed}</td><td class="after">{added}</td>'
    elif change.kind == "text":
        cells = f'<td class="text-change" colspan="2">{_words(change.tokens)}</td>'
    else:
        cells = (
            f'<td class="before"><span class="old">{_value(change.old, change.key, entity)}'
            f'</span></td><td class="after"><span class="new">'
            f"{_value(change.new, change.key, entity)}</span></td>"
        )
    return f"{head}{cells}\n</tr>\n"


def _value(value: Any, key: str, entity: str) -> str:
    """One side of a change (references.change_value: Markup as it is, text escaped)."""
    shown = references.change_value(value, key, entity)
    return str(shown) if isinstance(shown, Markup) else escape(shown)


def _items(values: tuple, kind: str) -> str:
    """What a list lost or gained, item by item."""
    sign = "+ " if kind == ADDED else "− "  # noqa: RUF001  (a minus sign, as shown)
    return " ".join(
        f'<span class="diff-item diff-{kind}">{sign}{escape(diffs.display(item))}</span>'
        for item in values
    )


def _words(tokens: tuple[tuple[str, str], ...]) -> str:
    """Removed words struck through, added ones marked; long unchanged stretches cut."""
    parts = []
    for kind, text in tokens:
        if kind == REMOVED:
            parts.append(f'<del class="diff-removed">{escape(text)}</del>')
        elif kind == ADDED:
            parts.append(f'<ins class="diff-added">{escape(text)}</ins>')
        elif kind == GAP:
            parts.append('<span class="diff-gap" title="unchanged text left out">…</span>')
        else:
            parts.append(escape(text))
    return f'<span class="word-diff">{"".join(parts)}</span>'
