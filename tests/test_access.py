"""Who may do what, checked against every URL rule of the app.

Every rule must appear in ACCESS; a new route that is missing fails here, so nobody adds a
page without deciding who may use it."""

import uuid

import pytest
from flask import Flask

from catalog.models import MetadataSync
from catalog.models.task import Task
from catalog.permissions import ROLE_PERMISSIONS, Permission
from tests.factories import VideoFactory
from tests.helpers import csrf_token

PUBLIC = "public"
SIGNED_IN = "signed-in"
# A pipeline worker's API token and nothing else: a session of any role gets 401.
WORKER_TOKEN = "worker-token"
# A progress beacon's token from the watch page (catalog.library.beacons), likewise.
BEACON_TOKEN = "beacon-token"
# endpoint → what it needs, for each method it answers.
# A tuple: any one of these permissions will do.
ACCESS: dict[str, dict[str, str | Permission | tuple[Permission, ...]]] = {
    "static": {"GET": PUBLIC},
    # Load balancers' and supervisors' checks: no sign-in, no data.
    "health": {"GET": PUBLIC},
    "health_ready": {"GET": PUBLIC},
    "health_live": {"GET": PUBLIC},
    "security.static": {"GET": PUBLIC},
    "security.login": {"GET": PUBLIC, "POST": PUBLIC},
    "security.logout": {"POST": SIGNED_IN},
    "security.verify": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "security.change_password": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "security.two_factor_setup": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "security.two_factor_setup_validate": {"POST": SIGNED_IN},
    # The second step of a sign-in: they answer only within a sign-in in progress.
    "security.tf_select": {"GET": PUBLIC, "POST": PUBLIC},
    "security.two_factor_rescue": {"GET": PUBLIC, "POST": PUBLIC},
    "security.two_factor_token_validation": {"GET": PUBLIC, "POST": PUBLIC},
    # A user's own settings (their time zone): their own account only.
    "accounts.settings": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "accounts.browser_time_zone": {"POST": SIGNED_IN},
    "videos.home": {"GET": Permission.CATALOG_READ},
    "videos.index": {"GET": Permission.CATALOG_READ},
    "videos.export": {"GET": Permission.CATALOG_READ},
    "videos.total": {"GET": Permission.CATALOG_READ},
    "videos.channel_options": {"GET": Permission.CATALOG_READ},
    "videos.filters": {"GET": Permission.CATALOG_READ},
    "videos.shortcuts": {"GET": Permission.CATALOG_READ},
    "videos.detail": {"GET": Permission.CATALOG_READ},
    "videos.create": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "videos.edit": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "videos.delete": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "videos.bulk": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "videos.sync": {"POST": Permission.CATALOG_EDIT},
    # Edit in place on the list: editors only (tests/videos/test_cells.py).
    "videos.cell": {"GET": Permission.CATALOG_EDIT},
    "videos.save_cell": {"POST": Permission.CATALOG_EDIT},
    # A batch's page: the log's readers, and editors for batches of video changes (a batch
    # of other changes is 403 for them: tests/changes/log/test_batch_page.py).
    "changes.batch": {"GET": (Permission.AUDIT_READ, Permission.CATALOG_EDIT)},
    "changes.export": {"GET": Permission.AUDIT_READ},
    "changes.index": {"GET": Permission.AUDIT_READ},
    "revert.as_of": {"GET": Permission.CATALOG_READ},
    "revert.revert_change": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "revert.restore_to": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "revert.restore_video": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "revert.undo_batch": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "queue.index": {"GET": Permission.CATALOG_READ},
    "queue.retry": {"POST": Permission.CATALOG_EDIT},
    "queue.cancel": {"POST": Permission.CATALOG_EDIT},
    "production.board": {"GET": Permission.CATALOG_READ},
    "production.sync_notion": {"POST": Permission.CATALOG_EDIT},
    "production.create_draft": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "production.edit_draft": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "production.task": {"GET": Permission.CATALOG_READ},
    "production.column": {"GET": Permission.CATALOG_READ},
    "production.bulk_action": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "production.channel": {"GET": Permission.CATALOG_READ},
    "production.channel_capacity": {"POST": Permission.CATALOG_EDIT},
    "production.queue": {"POST": Permission.CATALOG_EDIT},
    "production.approve": {"POST": Permission.CATALOG_EDIT},
    "production.send_back": {"POST": Permission.CATALOG_EDIT},
    "production.retry": {"POST": Permission.CATALOG_EDIT},
    "production.priority": {"POST": Permission.CATALOG_EDIT},
    "production.cancel": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "reports.index": {"GET": Permission.CATALOG_READ},
    "reports.upload": {"POST": Permission.CATALOG_EDIT},
    "reports.pick": {"POST": Permission.CATALOG_EDIT},
    "reports.detail": {"GET": Permission.CATALOG_READ},
    "reports.progress": {"GET": Permission.CATALOG_READ},
    "reports.confirm": {"POST": Permission.CATALOG_EDIT},
    "channels.index": {"GET": Permission.CATALOG_READ},
    "channels.detail": {"GET": Permission.CATALOG_READ},
    "channels.create": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "channels.edit": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "channels.hide": {"POST": Permission.CATALOG_EDIT},
    "channels.unhide": {"POST": Permission.CATALOG_EDIT},
    "channels.delete": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "categories.index": {"GET": Permission.CATEGORIES_MANAGE},
    "categories.create": dict.fromkeys(("GET", "POST"), Permission.CATEGORIES_MANAGE),
    "categories.edit": {"GET": Permission.CATEGORIES_MANAGE, "POST": Permission.CATEGORIES_MANAGE},
    "categories.move": {"POST": Permission.CATEGORIES_MANAGE},
    "categories.delete": dict.fromkeys(("GET", "POST"), Permission.CATEGORIES_MANAGE),
    "fields.index": {"GET": Permission.FIELDS_MANAGE},
    "fields.create": {"GET": Permission.FIELDS_MANAGE, "POST": Permission.FIELDS_MANAGE},
    "fields.edit": {"GET": Permission.FIELDS_MANAGE, "POST": Permission.FIELDS_MANAGE},
    "fields.delete": {"GET": Permission.FIELDS_MANAGE, "POST": Permission.FIELDS_MANAGE},
    "fields.schemas": {"GET": Permission.FIELDS_MANAGE},
    "fields.schema_create": {"GET": Permission.FIELDS_MANAGE, "POST": Permission.FIELDS_MANAGE},
    "fields.schema_edit": {"GET": Permission.FIELDS_MANAGE, "POST": Permission.FIELDS_MANAGE},
    "fields.schema_delete": {"GET": Permission.FIELDS_MANAGE, "POST": Permission.FIELDS_MANAGE},
    "accounts.index": {"GET": Permission.USERS_MANAGE},
    "accounts.users": {"GET": Permission.USERS_MANAGE},
    "accounts.create": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    "accounts.edit": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    "accounts.deactivate": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    "accounts.reactivate": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    "accounts.reset_two_factor": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    "accounts.password_link": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    "accounts.roles": {"GET": Permission.USERS_MANAGE},
    # The library: putting a video file in (its page follows the probe), and an admin's
    # view and clearing of a person's progress.
    "library.upload": {"GET": Permission.CATALOG_EDIT, "POST": Permission.CATALOG_EDIT},
    "library.upload_status": {"GET": Permission.CATALOG_READ},
    "library.user_progress": {"GET": Permission.USERS_MANAGE},
    "library.clear_progress": {"GET": Permission.USERS_MANAGE, "POST": Permission.USERS_MANAGE},
    # The library: watching is for every role that reads the catalog (reactions and progress
    # are the person's own).
    "library.index": {"GET": Permission.CATALOG_READ},
    "library.more_category": {"GET": Permission.CATALOG_READ},
    "library.more_continue": {"GET": Permission.CATALOG_READ},
    "library.watch": {"GET": Permission.CATALOG_READ},
    "library.media": {"GET": Permission.CATALOG_READ},
    # The player's beacons: the watch page's beacon token (issued to those who may read the
    # catalog, checked again on each beacon: tests/library/test_beacons.py); a session of any
    # role alone gets 401.
    "library.beacons.progress_beacon": {"POST": BEACON_TOKEN},
    "library.react": {"POST": Permission.CATALOG_READ},
    # How a user signs in: Firebase identities and the password form (admins).
    "accounts.unlink_firebase": dict.fromkeys(("GET", "POST"), Permission.USERS_MANAGE),
    "accounts.password_sign_in_off": dict.fromkeys(("GET", "POST"), Permission.USERS_MANAGE),
    "accounts.password_sign_in_on": dict.fromkeys(("GET", "POST"), Permission.USERS_MANAGE),
    # The Firebase ID token is the credential (tests/accounts/test_firebase_sign_in.py).
    "accounts.firebase_sign_in": {"POST": PUBLIC},
    # Re-authentication of the signed-in user (tests/accounts/test_firebase_verify.py).
    "accounts.firebase_verify": {"POST": SIGNED_IN},
    # Authorized by the signed link itself, for people who cannot sign in yet.
    "accounts.set_password": {"GET": PUBLIC, "POST": PUBLIC},
    # Pipeline workers and their tokens.
    "accounts.workers": {"GET": Permission.USERS_MANAGE},
    "accounts.workers_create": dict.fromkeys(("GET", "POST"), Permission.USERS_MANAGE),
    "accounts.workers_detail": {"GET": Permission.USERS_MANAGE},
    "accounts.workers_revoke": dict.fromkeys(("GET", "POST"), Permission.USERS_MANAGE),
    # Saved views: everyone who reads a list saves their own; the audit log's views need
    # the log's permission (checked inside: 403). Another person's view is a 404.
    "saved_views.menu": {"GET": Permission.CATALOG_READ},
    "saved_views.create": {"POST": Permission.CATALOG_READ},
    "saved_views.save_form": {"GET": Permission.CATALOG_READ},
    "saved_views.save": {"POST": Permission.CATALOG_READ},
    "saved_views.edit": {"POST": Permission.CATALOG_READ},
    "saved_views.delete": {"POST": Permission.CATALOG_READ},
    "saved_views.default": {"POST": Permission.CATALOG_READ},
    # The user's own list settings: column choice and colour mode.
    "saved_views.columns": {"POST": SIGNED_IN},
    "saved_views.colour_mode": {"POST": SIGNED_IN},
    # The workers' JSON API (tests/production/test_api.py).
    "pipeline_api.claim": {"POST": WORKER_TOKEN},
    "pipeline_api.heartbeat": {"POST": WORKER_TOKEN},
    "pipeline_api.start": {"POST": WORKER_TOKEN},
    "pipeline_api.done": {"POST": WORKER_TOKEN},
    "pipeline_api.fail": {"POST": WORKER_TOKEN},
    "pipeline_api.upload": {"POST": WORKER_TOKEN},
}
ROLES = sorted(ROLE_PERMISSIONS)


def _rules(app: Flask):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule, video) -> str:
    values = {
        "video_id": video.video_id, "filename": "css/app.css", "token": "not-a-token",
        "user_id": 2**31 - 1,  # no such user: admins get 404, the others 403 before any look-up
        "channel_id": video.channel.channel_id,
        "category_id": 0,
        "field_id": 0, "schema_id": 0,  # likewise no such field or schema
        "report_id": 0,  # no such report: 404 for those who may, 403 for the others
        "audit_id": 0,  # no such audit row, likewise
        "batch_id": uuid.UUID(int=0),  # no such batch, likewise
        "task_id": 2**31 - 1,  # no such task, likewise (ids start at 1)
        "kind": "video",  # a library file
        "category": 2**31 - 1,  # the library's rows (the <id:...> converter): no such category
        "worker_id": 0,  # no such pipeline worker, likewise
        "view_id": 0,  # no such saved view, likewise
        "list_kind": "videos",
        "column": "privacy",
    }  # fmt: skip
    return rule.build({name: values[name] for name in rule.arguments})[1]


def test_every_route_is_declared(app):
    declared = {(endpoint, method) for endpoint, methods in ACCESS.items() for method in methods}
    routes = {(rule.endpoint, method) for rule, method in _rules(app)}
    assert routes - declared == set(), "add these routes to ACCESS"
    assert declared - routes == set(), "ACCESS names routes that no longer exist"


def test_anonymous_requests_are_sent_to_sign_in(app, client, db_session):
    video = VideoFactory()
    token = csrf_token(client.get("/login"))
    for rule, method in _rules(app):
        if ACCESS[rule.endpoint][method] == PUBLIC:
            continue
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(_url(rule, video), method=method, data=data)
        assert response.status_code in (302, 401), (rule.rule, method)
        assert "/login" in response.headers.get("Location", "/login"), (rule.rule, method)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_it_may(app, client, db_session, sign_in_as, role):
    sign_in_as(role)
    video = VideoFactory()
    token = csrf_token(client.get("/videos"))
    granted = ROLE_PERMISSIONS[role]
    for rule, method in _rules(app):
        need = ACCESS[rule.endpoint][method]
        if need in (PUBLIC, SIGNED_IN) or (rule.endpoint == "videos.delete" and method == "POST"):
            continue  # delete is exercised last, below, so the video exists for the rest
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(_url(rule, video), method=method, data=data)
        # A streamed response (a CSV export) holds its request context until it is closed.
        response.close()
        if need in (WORKER_TOKEN, BEACON_TOKEN):  # a signed-in session alone opens neither
            assert response.status_code == 401, (role, rule.rule, method)
        elif set(need if isinstance(need, tuple) else (need,)) & granted:
            assert response.status_code not in (401, 403), (role, rule.rule, method)
        else:
            assert response.status_code == 403, (role, rule.rule, method, response.status_code)
    response = client.post(f"/videos/{video.video_id}/delete", data={"csrf_token": token})
    expected = 302 if Permission.CATALOG_EDIT in granted else 403
    assert response.status_code == expected


@pytest.mark.parametrize("role", ["auditor", "viewer"])
def test_readers_cannot_change_anything(client, db_session, sign_in_as, role):
    """Posting as a read-only role changes nothing, whatever the form says."""
    sign_in_as(role)
    video = VideoFactory(title="Untouchable")
    task = Task(channel_id=video.channel_id, notion_page_id="c" * 32, title="Under review",
                status="video_ready")  # fmt: skip
    db_session.add(task)
    db_session.flush()
    token = csrf_token(client.get("/videos"))
    attempts = [
        (f"/videos/{video.video_id}/edit", {"title": "Hacked", "version": str(video.version)}),
        (f"/videos/{video.video_id}/delete", {}),
        ("/videos/new", {"video_id": "newVideo123"}),
        ("/videos/bulk", {"ids": str(video.id), "set_notes": "y", "notes": "hacked"}),
        ("/production/tasks/new", {"notion_page_id": "a" * 32, "title": "Hacked"}),
        ("/production/sync", {}),
        (f"/production/tasks/{task.id}/approve", {}),
        (f"/production/tasks/{task.id}/send-back", {"reason": "Hacked"}),
        (f"/production/tasks/{task.id}/priority", {"priority": "high"}),
        (f"/production/tasks/{task.id}/cancel", {}),
        (
            f"/production/bulk?status={task.status}",
            {"action": "priority", "expected": "1", "new_priority": "high"},
        ),
        (f"/production/channels/{video.channel.channel_id}/capacity", {"capacity": "0"}),
    ]
    for url, data in attempts:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403
    db_session.expire_all()
    assert video.title == "Untouchable"
    assert video.notes is None
    assert (task.status, task.priority) == ("video_ready", "normal")
    assert video.channel.production_capacity == 3


def test_navigation_shows_only_what_the_role_may_use(client, db_session, sign_in_as):
    sign_in_as("viewer")
    html = client.get("/videos").get_data(as_text=True)
    assert 'href="/audit"' not in html
    assert "New video" not in html


# Every page that shows audit rows. A new page of catalog.changes or catalog.revert must be
# listed here (the first assertion below), so no page that reads the log escapes the content
# check.
AUDIT_READING = {
    "changes.index", "changes.batch", "changes.export", "revert.as_of",
    "revert.revert_change", "revert.restore_to", "revert.restore_video",
    "revert.undo_batch", "videos.detail", "channels.detail", "production.task",
    "production.channel",
}  # fmt: skip
# Undo pages given a row (or a batch) that is not a video's: 404 for everyone who may undo.
UNDO_PAGES = ("revert.revert_change", "revert.restore_video", "revert.undo_batch")
# Rows only the audit log's readers may see; each carries SECRET in what a page would show.
SECRET = "zzsecretzz"


def _secret_rows(session, batch_id: uuid.UUID) -> list[MetadataSync]:
    rows = [
        MetadataSync(  # an admin deactivating an account and setting its password
            entity_type="user", entity_id=1, entity_key=f"victim-{SECRET}@example.com",
            action="update", source="web", user_email=f"admin-{SECRET}@example.com",
            changes={"active": [True, False], "password": [None, f"(set) {SECRET}"]},
        ),
        MetadataSync(  # a role's permissions
            entity_type="role", entity_id=2, entity_key=f"auditor-{SECRET}", action="update",
            source="web", changes={"permissions": [[], [f"perm-{SECRET}"]]},
        ),
        MetadataSync(  # who exported the log
            entity_type="audit_log", entity_id=0, action="export", source="web",
            user_email=f"exporter-{SECRET}@example.com",
            changes={"filter": [None, {"q": SECRET}]},
        ),
        MetadataSync(  # a batch holding no video (the batch pages must not show it either)
            entity_type="user", entity_id=3, entity_key=f"batched-{SECRET}@example.com",
            action="update", source="cli", batch_id=batch_id, batch_size=1,
            changes={"roles": [["viewer"], [f"admin-{SECRET}"]]},
        ),
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows


def test_every_page_of_the_log_is_checked_for_what_it_shows(app):
    endpoints = {rule.endpoint for rule, _method in _rules(app)}
    assert {e for e in endpoints if e.startswith(("changes.", "revert."))} <= AUDIT_READING
    assert endpoints >= AUDIT_READING


@pytest.mark.parametrize("role", ROLES)
def test_audit_rows_are_shown_only_to_those_who_may_read_the_log(
    app, client, db_session, sign_in_as, role
):
    """Whatever id is typed into an audit-reading page, someone without the audit log's
    permission sees nothing of an account, a role or an export of the log: the undo pages
    answer 404 for any row that is not a video's (ids are sequential: no walking the trail),
    and the content of those rows appears on no page they can open."""
    sign_in_as(role)
    granted = ROLE_PERMISSIONS[role]
    video = VideoFactory()
    video_row = MetadataSync(
        entity_type="video", entity_id=video.id, entity_key=video.video_id, action="update",
        source="web", video_title=video.title, changes={"title": ["Before", video.title]},
    )  # fmt: skip
    db_session.add(video_row)
    task = Task(channel_id=video.channel_id, notion_page_id="b" * 32, title="A task")
    db_session.add(task)
    db_session.flush()
    batch_id = uuid.uuid4()
    secrets = _secret_rows(db_session, batch_id)
    pages = []
    for rule, method in _rules(app):
        if rule.endpoint not in AUDIT_READING or method != "GET":
            continue
        values = {
            "video_id": video.video_id, "channel_id": video.channel.channel_id, "task_id": task.id,
        }  # fmt: skip
        if "audit_id" in rule.arguments:
            pages += [(rule, rule.build({"audit_id": row.id})[1]) for row in secrets]
        elif "batch_id" in rule.arguments:
            pages.append((rule, rule.build({"batch_id": batch_id})[1]))
        else:
            pages.append((rule, rule.build({k: values[k] for k in rule.arguments})[1]))
    assert len(pages) >= len(AUDIT_READING) + 2 * (len(secrets) - 1)
    for rule, url in pages:
        response = client.get(url)
        body = response.get_data(as_text=True)
        response.close()
        need = ACCESS[rule.endpoint]["GET"]
        if not set(need if isinstance(need, tuple) else (need,)) & granted:
            assert response.status_code == 403, (role, url)
        elif rule.endpoint in UNDO_PAGES:
            assert response.status_code == 404, (role, url, response.status_code)
        if Permission.AUDIT_READ not in granted or rule.endpoint in UNDO_PAGES:
            assert SECRET not in body, (role, url)
    token = csrf_token(client.get("/videos"))
    for row in secrets:  # nor can an undo be posted against them
        for url in (f"/audit/{row.id}/revert", f"/audit/{row.id}/restore"):
            response = client.post(url, data={"csrf_token": token, "version": "1"})
            expected = 404 if Permission.CATALOG_EDIT in granted else 403
            assert response.status_code == expected, (role, url, response.status_code)
            assert SECRET not in response.get_data(as_text=True)
    if Permission.AUDIT_READ in granted:
        # Shown where it may be: so the absence above is not a marker nobody renders.
        assert f"victim-{SECRET}" in client.get("/audit").get_data(as_text=True)
    if Permission.CATALOG_EDIT in granted:
        # A video's change still opens for those who may undo it.
        response = client.get(f"/audit/{video_row.id}/revert")
        assert response.status_code == 200
        assert video.video_id in response.get_data(as_text=True)
