"""Named permissions and what each role may do. Views check permissions, never role names."""

from enum import StrEnum
from functools import cache, wraps

from flask import abort
from flask_security import auth_required, current_user


class Permission(StrEnum):
    CATALOG_READ = "catalog-read"
    CATALOG_EDIT = "catalog-edit"
    AUDIT_READ = "audit-read"
    USERS_MANAGE = "users-manage"
    FIELDS_MANAGE = "fields-manage"
    CATEGORIES_MANAGE = "categories-manage"  # admin only: it holds every permission


ROLE_DESCRIPTIONS = {
    "admin": "Everything, including users, roles and field definitions",
    "editor": "Staff: edit videos, channels and values, upload reports",
    "auditor": "Reads everything including the audit log; changes nothing",
    "viewer": "Reads the catalog",
}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "editor": frozenset({Permission.CATALOG_READ, Permission.CATALOG_EDIT}),
    "auditor": frozenset({Permission.CATALOG_READ, Permission.AUDIT_READ}),
    "viewer": frozenset({Permission.CATALOG_READ}),
}


@cache
def permissions_of(role_names: tuple[str, ...]) -> frozenset[Permission]:
    """What holding these roles allows: computed once per set of roles, not per check."""
    return frozenset().union(*(ROLE_PERMISSIONS.get(name, ()) for name in role_names))


def granted() -> frozenset[Permission]:
    """The signed-in user's permissions (none when signed out). A page decides what to show
    from this one set (`can`), instead of asking the user object for every control."""
    user = current_user._get_current_object()
    if user is None or not user.is_authenticated:
        return frozenset()
    return permissions_of(tuple(sorted(role.name for role in user.roles)))


def require(permission: Permission):
    """Decorate a view: the user must be signed in and hold `permission`, else 403."""

    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.has_permission(permission):
                abort(403)
            return view(*args, **kwargs)

        return auth_required("session")(checked)

    return decorator


def can(permission: Permission) -> bool:
    """For templates: may the signed-in user do this? Controls are hidden when not."""
    return permission in granted()


def signed_in_user():
    """The signed-in User itself (not the request-bound proxy), as services take their actor."""
    return current_user._get_current_object()
