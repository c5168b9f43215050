"""The read side of account administration: the filtered user list and a user's history."""

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from catalog.extensions import db
from catalog.models import Role, User, roles_users
from catalog.permissions import ROLE_PERMISSIONS
from catalog.web.filters import contains_pattern

# Staff accounts number in the tens or hundreds, never millions: LIMIT/OFFSET pages and an
# exact count(*) cost nothing at that size, and give numbered pages, which suit a short list
# better than the keyset cursors the video list needs.
PAGE_SIZE = 50
MAX_PAGE = 10_000
HISTORY_LIMIT = 50
SIGN_IN_CHOICES = {
    "never": "Never",
    "7d": "Within 7 days",
    "30d": "Within 30 days",
    "90d": "Over 90 days ago",
}


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    role: str = ""
    active: str = ""
    signed_in: str = ""
    page: int = 1

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.role or self.active or self.signed_in)

    def args(self, **changes: Any) -> dict[str, Any]:
        """URL arguments, defaults left out."""
        state = replace(self, **changes)
        values = {
            "q": state.q, "role": state.role, "active": state.active,
            "signed_in": state.signed_in, "page": state.page if state.page != 1 else "",
        }  # fmt: skip
        return {key: value for key, value in values.items() if value != ""}


def parse_filters(args) -> UserFilters:
    """Filters from request arguments; anything unknown or malformed is ignored."""
    return UserFilters(
        q=(args.get("q") or "").strip()[:200],
        role=args.get("role") if args.get("role") in ROLE_PERMISSIONS else "",
        active=args.get("active") if args.get("active") in ("yes", "no") else "",
        signed_in=args.get("signed_in") if args.get("signed_in") in SIGN_IN_CHOICES else "",
        page=min(max(args.get("page", 1, type=int), 1), MAX_PAGE),
    )


def conditions(filters: UserFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.q:
        pattern = contains_pattern(filters.q)
        found.append(or_(User.email.ilike(pattern), User.username.ilike(pattern)))
    if filters.role:
        found.append(User.roles.any(Role.name == filters.role))
    if filters.active:
        found.append(User.active.is_(filters.active == "yes"))
    # current_login_at is the latest sign-in (last_login_at is the one before it).
    latest = User.current_login_at
    if filters.signed_in == "never":
        found.append(latest.is_(None))
    elif filters.signed_in == "7d":
        found.append(latest >= func.now() - timedelta(days=7))
    elif filters.signed_in == "30d":
        found.append(latest >= func.now() - timedelta(days=30))
    elif filters.signed_in == "90d":
        found.append(latest < func.now() - timedelta(days=90))
    return found


@dataclass
class UserPage:
    rows: list[User]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def users_page(filters: UserFilters, size: int = PAGE_SIZE) -> UserPage:
    """One page of users by email, with the count of every user the filters match."""
    where = conditions(filters)
    total = db.session.scalar(select(func.count()).select_from(User).where(*where)) or 0
    statement = (
        select(User)
        .where(*where)
        .order_by(User.email, User.id)
        .limit(size)
        .offset((filters.page - 1) * size)
    )
    # Roles come joined (User.roles is lazy="joined"), hence unique().
    rows = list(db.session.scalars(statement).unique())
    return UserPage(rows, total, filters.page, size)


def role_counts() -> dict[str, int]:
    """How many active users hold each role."""
    rows = db.session.execute(
        select(Role.name, func.count(User.id))
        .select_from(Role)
        .outerjoin(roles_users, roles_users.c.role_id == Role.id)
        .outerjoin(User, and_(User.id == roles_users.c.user_id, User.active))
        .group_by(Role.name)
    )
    return dict(rows.all())
