"""The list's filter menus, kept by each process while PostgreSQL's menu version says they are
current (catalog/web/menus.py): a change shows on the next page, a rolled-back one never."""

import re

from sqlalchemy import event

from catalog.extensions import db
from tests.factories import CategoryFactory


def category_options(client) -> list[str]:
    html = client.get("/videos").get_data(as_text=True)
    menu = re.search(r'<select[^>]*id="f-category".*?</select>', html, re.S).group(0)
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<]*)", menu)  # (end tags left out)


def test_a_new_category_is_in_the_menu_of_the_next_page(db_session, editor_client):
    CategoryFactory(name="Before")
    db_session.flush()
    assert "Before" in category_options(editor_client)  # read, and kept
    CategoryFactory(name="After")
    db_session.flush()
    assert {"Before", "After"} <= set(category_options(editor_client))


def test_menus_read_in_a_rolled_back_change_are_not_kept(db_session, editor_client):
    category_options(editor_client)
    ghost = db_session.begin_nested()
    CategoryFactory(name="Ghost")
    db_session.flush()
    assert "Ghost" in category_options(editor_client)
    ghost.rollback()  # the version goes back; the next change takes a number never used
    CategoryFactory(name="Real")
    db_session.flush()
    shown = category_options(editor_client)
    assert "Real" in shown
    assert "Ghost" not in shown


def test_a_list_page_reads_the_user_and_its_rows_only(app, db_session, editor_client):
    editor_client.get("/videos")  # the menus are read once
    sent = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):  # not the savepoints
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert editor_client.get("/videos").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 2, sent
    assert "menu_versions" in sent[0]
