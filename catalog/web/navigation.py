"""The main navigation: one list of the areas, which the base layout loops over."""

from typing import NamedTuple

from catalog.permissions import Permission


class NavItem(NamedTuple):
    endpoint: str
    label: str
    permission: Permission
    # Other blueprints whose pages belong to this area (undo pages are part of the log).
    also: tuple[str, ...] = ()

    @property
    def blueprints(self) -> tuple[str, ...]:
        """The link is marked active on every page of these blueprints, not only its own."""
        return (self.endpoint.partition(".")[0], *self.also)


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("videos.index", "Videos", Permission.CATALOG_READ),
    NavItem("library.index", "Library", Permission.CATALOG_READ),
    NavItem("channels.index", "Channels", Permission.CATALOG_READ),
    NavItem("production.board", "Production", Permission.CATALOG_READ),
    NavItem("reports.index", "Reports", Permission.CATALOG_READ),
    NavItem("categories.index", "Categories", Permission.CATEGORIES_MANAGE),
    NavItem("changes.index", "Changes", Permission.AUDIT_READ, also=("revert",)),
    NavItem("queue.index", "Queue", Permission.CATALOG_READ),
    NavItem("fields.index", "Fields", Permission.FIELDS_MANAGE),
    NavItem("accounts.users", "Accounts", Permission.USERS_MANAGE),
)
