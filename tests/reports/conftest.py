"""Report tests: the real sample files of tests/fixtures/reports, stored in a temporary
directory instead of instance/reports."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "reports"
CHANNEL = "UCaaaaaaaaaaaaaaaaaaaaa1"  # the channel of most sample rows
NEW_CHANNEL = "UCbbbbbbbbbbbbbbbbbbbbb2"


def sample(name: str) -> Path:
    return FIXTURES / name


def opener(path: Path | str):
    path = Path(path) if isinstance(path, Path) else sample(path)
    return lambda: path.open("rb")


@pytest.fixture
def reports_dir(app, tmp_path, monkeypatch):
    directory = tmp_path / "reports"
    monkeypatch.setitem(app.config, "REPORTS_DIR", str(directory))
    monkeypatch.setitem(app.config, "S3_BUCKET", "")
    return directory
