"""Account administration: users, roles, set-password links. Admins only, except the
set-password page, which the link itself authorizes."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_security import current_user, url_for_security
from flask_security.utils import validate_redirect_url
from sqlalchemy import select

from catalog import audit
from catalog.accounts import bp, queries, service, tokens
from catalog.accounts.forms import CreateUserForm, RolesForm, SetPasswordForm
from catalog.models import User
from catalog.permissions import (
    ROLE_DESCRIPTIONS,
    ROLE_PERMISSIONS,
    Permission,
    require,
    signed_in_user,
)
from catalog.web.actions import commit_or_explain, form_status
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404
from catalog.web.pages import form_page

# A set-password link waits here, in the admin's own session, for the page after the POST.
LINK_KEY = "accounts_password_link"
# Where a successful two-factor set-up ends (first set-up, and a change of method).
TWO_FACTOR_DONE_ENDPOINTS = (
    "security.two_factor_token_validation",
    "security.two_factor_setup_validate",
)
PERMISSION_LABELS = {
    Permission.CATALOG_READ: "Read the catalog: videos, channels, values",
    Permission.CATALOG_EDIT: "Edit the catalog and upload reports",
    Permission.AUDIT_READ: "Read the change history (audit log) and export it",
    Permission.USERS_MANAGE: "Manage users and their roles",
    Permission.FIELDS_MANAGE: "Define custom fields and schemas",
    Permission.CATEGORIES_MANAGE: "Manage video categories: names, slugs, order, active flag",
}


def get_user(user_id: int, *, lock: bool = False) -> User:
    return load_or_404(select(User).where(User.id == user_id), lock=lock)


def _hand_over(user: User, token: str | None) -> None:
    if token is None:  # an account created with a password: no link to give
        return
    url = url_for("accounts.set_password", token=token, _external=True)
    session[LINK_KEY] = {"user_id": user.id, "url": url}


def _take_link(user: User) -> str | None:
    link = session.get(LINK_KEY)
    if link and link.get("user_id") == user.id:
        session.pop(LINK_KEY)
        return link.get("url")
    return None


@bp.get("/accounts")
@require(Permission.USERS_MANAGE)
def index():
    """The accounts area opens on its users (the README and the pipeline's notes name it so)."""
    return redirect(url_for("accounts.users"))


@bp.get("/accounts/users")
@require(Permission.USERS_MANAGE)
def users():
    filters = queries.parse_filters(request.args)
    return render_template(
        "accounts/users.html", filters=filters, page=queries.users_page(filters),
        roles=service.ROLE_NAMES, sign_in_choices=queries.SIGN_IN_CHOICES,
    )  # fmt: skip


@bp.route("/accounts/users/new", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def create():
    form = CreateUserForm()
    with_password = form.initial.data == "password"

    def create_user() -> tuple[User, str | None]:
        user = service.create_user(
            form.email.data, username=form.username.data, roles=form.roles.data,
            password=form.password.data if with_password else None, actor=signed_in_user(),
        )  # fmt: skip
        token = None if with_password else service.issue_password_link(user, actor=signed_in_user())
        return user, token

    return form_page(
        "accounts/create.html", form, create_user,
        saved=lambda created: f"Account {created[0].email} created.",
        then=lambda created: url_for("accounts.edit", user_id=created[0].id),
        after=lambda created: _hand_over(*created),
        default_field="email",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def edit(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    form = RolesForm(data={"roles": service.role_names(user)} if request.method == "GET" else None)
    link = _take_link(user) if request.method == "GET" else None
    response = make_response(
        form_page(
            "accounts/edit.html", form,
            lambda: service.set_roles(user, form.roles.data, actor=signed_in_user()),
            saved=lambda _: f"Roles of {user.email} saved; they apply from the next request.",
            then=url_for("accounts.edit", user_id=user.id),
            context=lambda: {
                "user": user, "link": link,
                "history": audit.history("user", user.id, limit=queries.HISTORY_LIMIT),
                "history_limit": queries.HISTORY_LIMIT,
            },
            default_field="roles",
        )
    )  # fmt: skip
    if link:  # the page holds a live credential
        response.headers["Cache-Control"] = "no-store"
    return response


def confirm_user_action(
    user: User,
    action: str,
    run: Callable[[], Any],
    done: str,
    after: Callable[[Any], None] | None = None,
):
    """The confirmation page of an action on `user`; its POST does it (`run`), commits and
    goes back to the user's page. A refusal by the rules is shown on the page (400)."""
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        outcome = commit_or_explain(run, show=False)
        if not outcome:
            error = str(outcome.error)  # shown on this page, not flashed
        else:
            result = outcome.value
            if after:
                after(result)
            if result:
                flash(done, "success")
            else:
                flash("Nothing to change.", "info")
            return redirect(url_for("accounts.edit", user_id=user.id))
    return render_template(
        "accounts/confirm.html", user=user, action=action, form=form, error=error,
        is_self=user.id == current_user.id,
    ), 400 if error else 200  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/deactivate", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def deactivate(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
        user, "deactivate", lambda: service.set_active(user, False, actor=signed_in_user()),
        f"{user.email} is deactivated and signed out everywhere.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/reactivate", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def reactivate(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
        user, "reactivate", lambda: service.set_active(user, True, actor=signed_in_user()),
        f"{user.email} is active again.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/reset-two-factor", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def reset_two_factor(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
        user, "reset_two_factor", lambda: service.reset_two_factor(user, actor=signed_in_user()),
        f"Two-factor sign-in of {user.email} is reset.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/password-link", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def password_link(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
        user, "password_link", lambda: service.issue_password_link(user, actor=signed_in_user()),
        f"New set-password link for {user.email}: give it to them by a channel you trust.",
        after=lambda token: _hand_over(user, token),
    )  # fmt: skip


@bp.get("/accounts/roles")
@require(Permission.USERS_MANAGE)
def roles():
    return render_template(
        "accounts/roles.html", roles=service.ROLE_NAMES, permissions=list(Permission),
        granted=ROLE_PERMISSIONS, descriptions=ROLE_DESCRIPTIONS, labels=PERMISSION_LABELS,
        counts=queries.role_counts(),
    )  # fmt: skip


@bp.route("/accounts/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Public: whoever holds a valid link may set that account's password, once."""
    try:
        user = tokens.user_for_token(token, lock=request.method == "POST")
    except tokens.InvalidLink as exc:
        response = make_response(
            render_template("accounts/link_invalid.html", message=exc.message), exc.status
        )
    else:
        form = SetPasswordForm()
        # The holder of the link acts on their own account.
        if form.validate_on_submit() and commit_or_explain(
            lambda: service.set_password(user, form.password.data, actor=user),
            form=form, default_field="password",
        ):  # fmt: skip
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for_security("login"))
        status = form_status(form)
        response = make_response(
            render_template("accounts/set_password.html", form=form, user=user), status
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def local_path(target: str) -> bool:
    """A path on this site (not //host, not a backslash trick), as Flask-Security checks."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and validate_redirect_url(target)
    )


@bp.after_app_request
def continue_after_two_factor_setup(response):
    """Flask-Security sends a user who has just set up two-factor back to the set-up page;
    send them on to the page they were going to, the `next` the set-up forms carried."""
    if (
        request.endpoint in TWO_FACTOR_DONE_ENDPOINTS
        and response.status_code in (302, 303)
        and urlsplit(response.location or "").path == url_for("security.two_factor_setup")
        and local_path(target := request.args.get("next", ""))
    ):
        response.location = target
    return response
