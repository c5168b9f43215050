"""`flask catalog create-user` and `flask catalog demo`, run through Flask's CLI runner."""

import re
import stat

import pytest
from flask_security import verify_password
from sqlalchemy import func, select

from catalog.demo import data as demo
from catalog.models import Channel, MetadataSync, User, Video, VideoCategory
from tests.factories import UserFactory, VideoFactory

STRONG_PASSWORD = "a long enough passphrase"


def invoke(app, *args: str):
    # No app context is held here: the command pushes its own, as it does from a shell.
    return app.test_cli_runner().invoke(args=["catalog", *args])


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def user_by_email(session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).unique().one_or_none()


def upc_check_digit_ok(upc: str) -> bool:
    """UPC-A: 3 x the odd positions + the even ones + the check digit is a multiple of 10."""
    if not re.fullmatch(r"\d{12}", upc):
        return False
    digits = [int(d) for d in upc]
    return (3 * sum(digits[0:11:2]) + sum(digits[1:11:2]) + digits[11]) % 10 == 0


def test_the_upc_check_is_itself_right():
    assert upc_check_digit_ok("036000291452")  # a well-known valid UPC-A
    assert not upc_check_digit_ok("036000291453")
    assert demo.gs1_check_digit("03600029145") == "2"


# -- create-user -------------------------------------------------------------------------


def test_create_user_makes_a_user_with_the_role_and_an_argon2_hash(app, db_session):
    result = invoke(
        app, "create-user", "ann@example.com", "--role", "editor",
        "--password", STRONG_PASSWORD, "--username", "ann",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = user_by_email(db_session, "ann@example.com")
    assert user is not None
    assert [role.name for role in user.roles] == ["editor"]
    assert user.username == "ann"
    assert user.active
    assert user.password.startswith("$argon2")
    with app.app_context():
        assert verify_password(STRONG_PASSWORD, user.password)
    assert "Generated password" not in result.output


def test_create_user_without_a_password_generates_and_prints_one(app, db_session):
    result = invoke(app, "create-user", "bob@example.com", "--role", "viewer")
    assert result.exit_code == 0, result.output
    match = re.search(r"Generated password: (\S+)", result.output)
    assert match, result.output
    assert len(match.group(1)) >= 16
    user = user_by_email(db_session, "bob@example.com")
    with app.app_context():
        assert verify_password(match.group(1), user.password)


@pytest.mark.parametrize("email", ["carol@example.com", "CAROL@Example.COM"])
def test_create_user_refuses_a_duplicate_email(app, db_session, email):
    UserFactory(email="carol@example.com", roles=["viewer"])
    result = invoke(app, "create-user", email, "--role", "admin", "--password", STRONG_PASSWORD)
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert count(db_session, User, func.lower(User.email) == "carol@example.com") == 1
    assert count(db_session, User) == 1


def test_create_user_rejects_an_unknown_role(app, db_session):
    result = invoke(app, "create-user", "dan@example.com", "--role", "superuser")
    assert result.exit_code != 0
    assert "Invalid value for '--role'" in result.output
    assert count(db_session, User) == 0


def test_create_user_rejects_an_email_without_an_at(app, db_session):
    result = invoke(app, "create-user", "dan.example.com", "--role", "viewer")
    assert result.exit_code != 0
    assert "not an email address" in result.output
    assert count(db_session, User) == 0


def test_create_user_rejects_a_short_password(app, db_session):
    result = invoke(app, "create-user", "eve@example.com", "--role", "viewer", "--password", "abc")
    assert result.exit_code != 0
    assert count(db_session, User) == 0


# -- demo ----------------------------------------------------------------------------------


@pytest.fixture
def instance_dir(app, tmp_path, monkeypatch):
    """The app's instance folder, moved to a temporary directory for the test."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


def admin_password(output: str) -> str:
    match = re.search(
        r"Catalog is starting on http://127\.0\.0\.1:5000 — sign in as admin@example\.com / (\S+)",
        output,
    )
    assert match, output
    return match.group(1)


def test_demo_fills_an_empty_catalog_with_audited_videos(demo_app, demo_session):
    # The demo catalog (tests/conftest.py): the command ran once on an empty catalog.
    db_session, output = demo_session, demo_app.demo_output

    assert count(db_session, Channel) == len(demo.CHANNELS) == 12
    assert count(db_session, VideoCategory) == len(demo.CATEGORIES)
    assert count(db_session, Video) == demo.VIDEO_COUNT == 300
    assert "Demo data: 12 channels, 300 videos" in output

    created_by_cli = select(MetadataSync.id).where(
        MetadataSync.entity_type == "video",
        MetadataSync.entity_id == Video.id,
        MetadataSync.source == "cli",
        MetadataSync.action == "create",
    )
    assert count(db_session, Video, ~created_by_cli.exists()) == 0
    updates = count(db_session, MetadataSync, MetadataSync.action == "update")
    assert updates >= demo.VIDEO_COUNT // 3  # a third of the videos changed at least once
    assert count(db_session, MetadataSync, MetadataSync.source != "cli") == 0

    videos = db_session.scalars(select(Video).join(Video.channel)).all()
    assert len(videos) == demo.VIDEO_COUNT
    for video in videos:
        assert re.fullmatch(r"[A-Za-z0-9_-]{11}", video.video_id)
        assert upc_check_digit_ok(video.upc), video.upc
        assert re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}\d{7}", video.isrc), video.isrc
        assert 1 <= len(video.artist) <= 3
        assert video.channel_display_name == video.channel.name
        assert video.time_published.utcoffset() is not None
        assert video.views >= 0
        assert video.video_length >= 0
    assert sum(v.asset_id is not None for v in videos) > demo.VIDEO_COUNT * 0.75
    assert {v.privacy_status for v in videos} == {"public", "unlisted", "private"}
    assert {v.claimed_status for v in videos} == {"claim", "appeal", "dispute", None}
    assert any(v.is_short for v in videos)
    for channel in db_session.scalars(select(Channel)):
        assert re.fullmatch(r"UC[A-Za-z0-9_-]{22}", channel.channel_id)


def test_demo_creates_the_demo_sign_ins_and_keeps_their_passwords(app, db_session, instance_dir):
    VideoFactory()  # a catalog with data: only the accounts are made

    result = invoke(app, "demo")

    assert result.exit_code == 0, result.output
    assert "Reusing existing data: 1 video" in result.output
    password = admin_password(result.output)
    admin = user_by_email(db_session, "admin@example.com")
    assert [role.name for role in admin.roles] == ["admin"]
    with app.app_context():
        assert verify_password(password, admin.password)
    for role in ("editor", "auditor", "viewer"):
        user = user_by_email(db_session, f"{role}@example.com")
        assert [r.name for r in user.roles] == [role]
        assert f"{role}@example.com / " in result.output
    login_file = instance_dir / "admin-login.txt"
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600
    assert f"admin@example.com {password}" in login_file.read_text()


def test_demo_leaves_an_admin_it_did_not_make_alone(app, db_session, instance_dir):
    VideoFactory()
    admin = UserFactory(email="admin@example.com", roles=["admin"])
    password_hash = admin.password

    result = invoke(app, "demo")

    assert result.exit_code == 0, result.output
    assert "sign in as admin@example.com (password not on file)" in result.output
    db_session.refresh(admin)
    assert admin.password == password_hash
    assert "admin@example.com" not in (instance_dir / "admin-login.txt").read_text()


def test_a_second_demo_run_duplicates_nothing(demo_app, demo_session):
    db_session, first = demo_session, demo_app.demo_output  # the first run's (tests/conftest.py)
    before = {model: count(db_session, model) for model in (Channel, VideoCategory, Video, User)}
    audit_rows = count(db_session, MetadataSync)

    second = invoke(demo_app, "demo")

    assert second.exit_code == 0, second.output
    assert {model: count(db_session, model) for model in before} == before
    assert count(db_session, MetadataSync) == audit_rows
    assert "Reusing existing data: 300 videos" in second.output
    assert admin_password(second.output) == admin_password(first)


def test_load_demo_data_refuses_a_catalog_with_videos(app_ctx):
    VideoFactory()
    with pytest.raises(demo.CatalogNotEmpty):
        demo.load_demo_data()


def test_create_user_is_audited_with_source_cli(app, db_session):
    from sqlalchemy import select

    from catalog.models import MetadataSync

    result = invoke(app, "create-user", "audited@example.com", "--role", "auditor",
                    "--password", "a long enough passphrase 7")  # fmt: skip
    assert result.exit_code == 0, result.output
    row = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "user",
                                   MetadataSync.entity_key == "audited@example.com")
    ).one()  # fmt: skip
    assert row.source == "cli"
    assert row.user_id is None
    assert row.changes["roles"] == [[], ["auditor"]]
