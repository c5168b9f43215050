"""Opening a list through a saved view: `/videos?view=<id>` is the view's state with the
URL's own arguments on top. One indexed look-up of the view by its key (none when the URL
names no view and the user has no default: the defaults come with the user's row).

A view stores the list's arguments as the list itself reads them (ListState.view_args(),
AuditFilters.args()): readable names that a bookmarked URL shares. What a view names that
has been deleted since (a custom field, a select option, a channel, a category) is left
out, and said so, when it is opened."""

from dataclasses import dataclass, field, replace
from typing import Any

from werkzeug.datastructures import MultiDict

from catalog.audit import jsonable
from catalog.changes.queries import parse_filters
from catalog.extensions import db
from catalog.models import SavedView, User
from catalog.saved_views.service import sees
from catalog.videos.queries import parse_state


@dataclass
class Opened:
    """A list request with the view it opens, if any. `args`: what the list reads (the
    view's state under the request's arguments); `notes`: what of the view no longer
    applies; `unsaved`: the list differs from the view as saved."""

    kind: str
    args: MultiDict
    view: SavedView | None = None
    notes: list[str] = field(default_factory=list)
    unsaved: bool = False
    # The request's own arguments, for links that keep the view (chips).
    own: MultiDict = field(default_factory=MultiDict)

    @property
    def view_param(self) -> dict[str, Any]:
        return {"view": self.view.id} if self.view else {}

    def kept(self) -> tuple[tuple[str, str], ...]:
        """What keeps the view in the list's links: its id, and a blank for each argument
        it stores (a blank clears the view's value, so a filter dropped since stays
        dropped). The video list's ListState.kept_view."""
        if self.view is None:
            return ()
        return (("view", str(self.view.id)), *((key, "") for key in self.view.args))


def _merged(stored: dict, args: MultiDict) -> MultiDict:
    merged = MultiDict()
    for key, value in stored.items():
        if key in args:
            continue
        for one in value if isinstance(value, list) else [value]:
            merged.add(key, str(one))
    for key in args:
        merged.setlist(key, args.getlist(key))
    return merged


def _lookup(view_id: int, kind: str) -> SavedView | None:
    # By primary key: the one indexed look-up a view costs.
    view = db.session.get(SavedView, view_id)
    return view if view is not None and view.kind == kind else None


def open_list(kind: str, args: MultiDict, user: User) -> Opened:
    """The arguments a `kind` list reads for this request, and the view they come from: the
    one `view=<id>` names, or with no arguments at all the user's default view
    (`view=none` is the plain list)."""
    own = MultiDict([(k, v) for k, v in args.items(multi=True) if k != "view"])
    wanted = args.get("view", "")
    view = None
    notes = []
    if wanted.isdigit() and len(wanted) < 10:
        view = _lookup(int(wanted), kind)
        if view is None or not sees(view, user):
            view = None
            notes.append("That saved view does not exist (any more), or is not shared with you.")
    elif not wanted and not any(v for v in args.values()):
        default = (user.default_views or {}).get(kind)
        if isinstance(default, int):
            view = _lookup(default, kind)
            view = view if view is not None and sees(view, user) else None
    if view is None:
        return Opened(kind, own, notes=notes, own=own)
    return Opened(kind, _merged(view.args, own), view, notes, own=own)


def _plain(args: dict) -> dict[str, Any]:
    """Arguments compared as text, whatever JSON made of them."""
    return {
        key: sorted(str(v) for v in value) if isinstance(value, list) else str(value)
        for key, value in args.items()
    }


def as_json(args: dict) -> dict[str, Any]:
    """Normalized arguments as JSON keeps them (dates and batch ids as text)."""
    return {
        key: value if isinstance(value, int | str | list) else str(jsonable(value))
        for key, value in args.items()
    }


def stored_state(
    args: dict, columns: list[str] | None, labels: dict[str, str], order: list[str] | None = None
) -> dict:
    """What a view keeps: the normalized arguments, the hidden columns and the columns'
    order, the chips' labels."""
    kept: dict[str, Any] = {"args": as_json(args)}
    if columns is not None:
        kept["columns"] = list(columns)
    if order is not None:
        kept["order"] = list(order)
    if labels:
        kept["labels"] = {key: label for key, label in labels.items() if key in args}
    return kept


def _dropped(opened: Opened, normalized: dict) -> list[str]:
    """The view's arguments (those the request does not replace) that its normalized state
    lost or changed: what it names no longer exists."""
    if opened.view is None:
        return []
    stored = {k: v for k, v in opened.view.args.items() if k not in opened.own}
    now = _plain(normalized)
    return [key for key, value in _plain(stored).items() if now.get(key) != value]


def _note(opened: Opened, keys: list[str]) -> None:
    labels = (opened.view.state.get("labels") or {}) if opened.view else {}
    # A rating filter is two arguments (cf3 and cf3_op) and one chip.
    named = dict.fromkeys(
        labels.get(key) or labels.get(key.removesuffix("_op")) or key for key in keys
    )
    for label in named:
        opened.notes.append(f"“{label}” no longer applies: what it named was deleted or changed.")


def check_videos(opened: Opened, state, fields: dict, channel_name: str | None, categories):
    """The video list's state with what no longer exists left out (a channel or category
    deleted: parse_state cannot know, it keeps their ids), noted, and the unsaved mark
    set. Returns the state the list shows."""
    gone = []
    if state.channel and channel_name is None:
        state, gone = replace(state, channel=None), [*gone, "channel"]
    if state.category and state.category not in {pair[0] for pair in categories}:
        state, gone = replace(state, category=None), [*gone, "category"]
    if opened.view is None:
        # A bookmarked URL naming what was deleted since: the same word, without labels.
        for key in gone:
            opened.notes.append(f"The {key} this link names no longer exists: not filtered by it.")
        return state
    saved = parse_state(MultiDict(_merged(opened.view.args, MultiDict())), fields).view_args()
    for key in gone:
        saved.pop(key, None)
    dropped = [key for key in _dropped(opened, saved) if key not in gone]
    _note(opened, [key for key in (*gone, *dropped) if key in opened.view.args])
    opened.unsaved = _plain(state.view_args()) != _plain(saved)
    return state


def check_args(opened: Opened, normalize, current: dict) -> None:
    """A list whose state is its normalized arguments (`normalize(args)`: the log's
    filters, the production board's): a view's arguments its parser no longer reads are
    noted, and the unsaved mark set against `current`, the list's arguments now."""
    if opened.view is None:
        return
    saved = as_json(normalize(MultiDict(_merged(opened.view.args, MultiDict()))))
    _note(opened, _dropped(opened, saved))
    opened.unsaved = _plain(as_json(current)) != _plain(saved)


def check_audit(opened: Opened, filters):
    """The audit log's filters, checked against the view they came from (check_args)."""
    check_args(opened, lambda args: parse_filters(args).args(), filters.args())
    return filters
