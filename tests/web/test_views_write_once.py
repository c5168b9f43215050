"""Views write through catalog.web.actions.commit_or_explain and nowhere else: no views
module commits, rolls back or runs its own retry loop."""

import ast
from pathlib import Path

import catalog

PACKAGE = Path(catalog.__file__).parent
SESSION_CALLS = {"commit", "rollback"}


def _views_modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.name == "views.py" or path.stem.endswith("_views")
    )


def _offences(path: Path, root: Path = PACKAGE) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        # db.session.commit() / db.session.rollback(), however the session is reached.
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_CALLS
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "session"
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno} session.{node.func.attr}()")
        # A retry loop of its own (db_retry.run_in_transaction) bypasses the explanation.
        if isinstance(node, ast.ImportFrom) and any(a.name == "db_retry" for a in node.names):
            found.append(f"{path.relative_to(root)}:{node.lineno} imports db_retry")
    return found


def test_there_are_views_modules_to_check():
    names = {path.relative_to(PACKAGE).as_posix() for path in _views_modules()}
    assert {"videos/views.py", "accounts/views.py", "accounts/settings_views.py",
            "revert/views.py", "queue/views.py"} <= names  # fmt: skip


def test_no_views_module_commits_or_rolls_back():
    offences = [offence for path in _views_modules() for offence in _offences(path)]
    assert offences == []


def test_the_check_sees_a_commit(tmp_path):
    # The walk itself, on a module that does what views must not.
    module = tmp_path / "views.py"
    module.write_text(
        "from catalog.web import db_retry\n"
        "def save():\n    db.session.commit()\n\ndef undo():\n    db.session.rollback()\n"
    )
    assert [o.split(" ", 1)[1] for o in _offences(module, root=tmp_path)] == [
        "imports db_retry", "session.commit()", "session.rollback()",
    ]  # fmt: skip
