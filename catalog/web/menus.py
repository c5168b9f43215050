"""Filter menus that change rarely (a list's categories and custom fields, the Changes
page's people), kept by each web process and read afresh when PostgreSQL says they changed.

Each group of menus has a version in `menu_versions`, set anew from a sequence by triggers
on the tables behind it (migration 0022). The versions come with the signed-in user, in the
statement that loads it (catalog/accounts/identity.py), so a page learns whether its menus
are current without a statement of its own; menus read at one version are used while the
version is unchanged, in this process only. Several processes each keep their own copy and
each sees every change on its next request: nothing goes stale across processes.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import MenuVersion

T = TypeVar("T")

# The versions of every group, as one JSON object {name: version}: a column of the user load.
VERSIONS = select(func.json_object_agg(MenuVersion.name, MenuVersion.version)).scalar_subquery()


def init_app(app: Flask) -> None:
    # A request's versions are its own, even where requests share an app context (tests).
    app.teardown_request(lambda error: g.pop("menu_versions", None))


def remember_versions(versions: dict | None) -> None:
    """The versions as read with the signed-in user, for this request's menus."""
    g.menu_versions = versions or {}


def _versions() -> dict:
    if "menu_versions" not in g:  # no signed-in user was loaded (or outside a request)
        g.menu_versions = db.session.scalar(select(VERSIONS)) or {}
    return g.menu_versions


def cached(name: str, load: Callable[[], T]) -> T:
    """The menus of group `name`: this process's copy while the version it was read at is
    current, else `load()` read and kept anew."""
    version = _versions().get(name)
    kept = current_app.extensions.setdefault("catalog_menus", {})
    entry = kept.get(name)
    if version is not None and entry is not None and entry[0] == version:
        return entry[1]
    value = load()
    # Read after the version: at worst newer than it, and then read again next time.
    kept[name] = (version, value)
    return value
