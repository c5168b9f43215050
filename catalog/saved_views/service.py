"""The rules for saved views and the list settings that go with them. Every change of a
view leaves its audit row (entity "view") in the caller's transaction; nothing here commits.

A view is its owner's: only they rename it, save a new state into it or delete it, except
that an admin (who manages users) also manages the views shared with others. The column
choice, the default views and the colour mode are a person's display preferences, not
catalog data, and like the library's watch progress they leave no audit row."""

from sqlalchemy import func, select, update

from catalog import audit
from catalog.extensions import db
from catalog.models import Role, SavedView, User, roles_users
from catalog.models.saved_view import COLOUR_MODES, LIST_KINDS, SHARE_TARGETS
from catalog.permissions import Permission
from catalog.rules import RuleError

NAME_MAX = SavedView.__table__.c.name.type.length
VIEW = audit.Entity("view", key=lambda view: f"{view.kind}:{view.name}")
# A column key as the lists name them (video_id, cf12): no markup, no paths.
COLUMN_KEY_MAX = 40
COLUMNS_MAX = 100


class ViewError(RuleError):
    """A view the rules refuse; `field` names the form field it belongs to."""


def manages(view: SavedView, user: User) -> bool:
    """May `user` rename, update or delete `view`? Its owner; an admin, once it is shared."""
    if view.owner_id == user.id:
        return True
    return view.shared_with is not None and user.has_permission(Permission.USERS_MANAGE)


def sees(view: SavedView, user: User) -> bool:
    """May `user` open `view`? Its owner, whoever it is shared with, and an admin any shared
    view (to manage it)."""
    if manages(view, user) or view.shared_with == "everyone":
        return True
    return view.shared_with is not None and any(r.name == view.shared_with for r in user.roles)


def _name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ViewError("A view needs a name.", "name")
    if len(name) > NAME_MAX:
        raise ViewError(f"A name can be at most {NAME_MAX} characters.", "name")
    return name


def _shared_with(value: str | None) -> str | None:
    if not value:
        return None
    if value not in SHARE_TARGETS:
        raise ViewError("Share it with a role from the list, or with nobody.", "shared_with")
    return value


def _check_free(owner_id: int, kind: str, name: str, view_id: int | None = None) -> None:
    taken = select(SavedView.id).where(
        SavedView.owner_id == owner_id, SavedView.kind == kind,
        func.lower(SavedView.name) == name.lower(), SavedView.id != (view_id or 0),
    )  # fmt: skip
    if db.session.scalar(taken) is not None:
        raise ViewError(f"You already have a view named “{name}” of this list.", "name")


def create(
    owner: User, kind: str, name: str, state: dict, *, shared_with: str | None = None,
    actor: User, source: str = "web",
) -> SavedView:  # fmt: skip
    """Save `state` (the list's normalized arguments, columns and labels) as a new view."""
    if kind not in LIST_KINDS:
        raise ValueError(f"{kind}: not a list")
    name = _name(name)
    _check_free(owner.id, kind, name)
    view = SavedView(
        owner_id=owner.id, kind=kind, name=name, state=state, shared_with=_shared_with(shared_with)
    )
    db.session.add(view)
    db.session.flush()
    VIEW.record(
        view, "create",
        {"name": [None, name], "state": [None, state], "shared_with": [None, view.shared_with]},
        actor=actor, source=source,
    )  # fmt: skip
    return view


def _require_manager(view: SavedView, actor: User) -> None:
    if not manages(view, actor):
        raise ViewError("Only the view's owner (or an admin, for a shared view) may change it.")


def save_state(view: SavedView, state: dict, *, actor: User, source: str = "web") -> dict:
    """Save a new state into `view`; returns the change ({} when it is the same)."""
    _require_manager(view, actor)
    if view.state == state:
        return {}
    changes = {"state": [view.state, state]}
    view.state = state
    db.session.flush()
    VIEW.record(view, "update", changes, actor=actor, source=source)
    return changes


def edit(
    view: SavedView, *, name: str, shared_with: str | None, actor: User, source: str = "web"
) -> dict:
    """Rename `view` and choose whom it is shared with; returns the changes."""
    _require_manager(view, actor)
    name = _name(name)
    shared = _shared_with(shared_with)
    if view.owner_id != actor.id and shared is None:
        # An admin managing someone's shared view may not turn it into their private one.
        raise ViewError("Only its owner can make a shared view personal again.", "shared_with")
    _check_free(view.owner_id, view.kind, name, view.id)
    changes = {
        key: [old, new]
        for key, old, new in (("name", view.name, name), ("shared_with", view.shared_with, shared))
        if old != new
    }
    if not changes:
        return {}
    view.name, view.shared_with = name, shared
    db.session.flush()
    if "shared_with" in changes and shared is not None:
        _forget_defaults(view, keep_owner=True, shared_with=shared)
    elif "shared_with" in changes:
        _forget_defaults(view, keep_owner=True)
    VIEW.record(view, "update", changes, actor=actor, source=source)
    return changes


def delete(view: SavedView, *, actor: User, source: str = "web") -> None:
    """Delete `view`; it stops being anyone's default."""
    _require_manager(view, actor)
    _forget_defaults(view, keep_owner=False)
    VIEW.record(
        view, "delete",
        {"name": [view.name, None], "state": [view.state, None],
         "shared_with": [view.shared_with, None]},
        actor=actor, source=source,
    )  # fmt: skip
    db.session.delete(view)
    db.session.flush()


def _forget_defaults(view: SavedView, *, keep_owner: bool, shared_with: str | None = None) -> None:
    """Take `view` out of the default views of those who can no longer open it: everyone
    (deleted), or all but its owner and, when shared, those it is shared with."""
    is_default = User.default_views[view.kind].astext == str(view.id)
    statement = update(User).where(is_default)
    if keep_owner:
        statement = statement.where(User.id != view.owner_id)
    if shared_with == "everyone":
        return
    if shared_with is not None:
        holders = select(roles_users.c.user_id).join(Role).where(Role.name == shared_with)
        statement = statement.where(User.id.not_in(holders))
    db.session.execute(
        statement.values(default_views=User.default_views.op("-")(view.kind)),
        execution_options={"synchronize_session": False},
    )


def set_default(user: User, kind: str, view: SavedView | None) -> None:
    """Make `view` (None: the plain list) what `user` sees when opening the `kind` list."""
    if kind not in LIST_KINDS:
        raise ValueError(f"{kind}: not a list")
    if view is not None and (view.kind != kind or not sees(view, user)):
        raise ViewError("That view is not one you can open.")
    defaults = dict(user.default_views or {})
    if view is None:
        defaults.pop(kind, None)
    else:
        defaults[kind] = view.id
    user.default_views = defaults


def _column_keys(keys: list) -> list[str]:
    """Column names only (no markup, no paths), each once, in their order."""
    if not isinstance(keys, list):
        raise ViewError("The column choice is a list of column names.")
    named = (
        c for c in keys if isinstance(c, str) and c.isidentifier() and len(c) <= COLUMN_KEY_MAX
    )
    return list(dict.fromkeys(named))[:COLUMNS_MAX]


def order_key(kind: str) -> str:
    """Where a user's list_columns keep the `kind` list's column order (beside the hidden
    columns under `kind`, which keeps what was stored before orders were)."""
    return f"{kind}_order"


def set_columns(user: User, kind: str, hidden: list, order: list | None = None) -> list[str]:
    """Keep the columns `user` hides in the `kind` list, and the order of its columns (None:
    the order kept stays); returns the hidden ones as kept."""
    if kind not in LIST_KINDS:
        raise ValueError(f"{kind}: not a list")
    kept = sorted(_column_keys(hidden))
    settings = {**(user.list_columns or {}), kind: kept}
    if order is not None:
        settings[order_key(kind)] = _column_keys(order)
    user.list_columns = settings
    return kept


def set_colour_mode(user: User, mode: str) -> None:
    """Light, dark, or "auto" (the system's setting)."""
    if mode not in COLOUR_MODES:
        raise ViewError("Choose light, dark or automatic.", "colour_mode")
    user.colour_mode = mode


def visible_views(user: User, kind: str) -> list[SavedView]:
    """The views of the `kind` list that `user` can open: their own, then those shared with
    one of their roles or everyone (an admin: every shared view), by name."""
    shared = SavedView.shared_with.in_(["everyone", *(role.name for role in user.roles)])
    if user.has_permission(Permission.USERS_MANAGE):
        shared = SavedView.shared_with.is_not(None)
    mine = SavedView.owner_id == user.id
    return list(
        db.session.scalars(
            select(SavedView)
            .where(SavedView.kind == kind, mine | shared)
            .order_by((~mine).asc(), func.lower(SavedView.name), SavedView.id)
        )
    )
