"""What an import does or did (Outcome), and what every step of it shares."""

import time
from dataclasses import dataclass, field

MAX_ROW_ERRORS = 1000  # kept for reading; every invalid row is counted


class ConcurrentChange(Exception):
    """A video changed (or was created) by someone else while the report was being applied."""


@dataclass
class Outcome:
    """What a report does (preview) or did (apply)."""

    format: str = ""
    format_label: str = ""
    sha256: str = ""
    size: int = 0
    rows: int = 0  # data rows, blank ones not counted
    blank_rows: int = 0
    invalid: int = 0
    videos: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    channels_created: int = 0
    channels_renamed: int = 0
    field_counts: dict[str, int] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    # Cells that could not be read but did not refuse their row (formats.SOFT_KINDS):
    # {row, column, value, reason}, the first MAX_ROW_ERRORS; `unreadable` counts them all.
    warnings: list[dict] = field(default_factory=list)
    unreadable: int = 0
    notes: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    batch_id: str | None = None
    # Seconds per step (stage, same, read, channels, merge, diff, apply), for operators and
    # the benchmark.
    timings: dict[str, float] = field(default_factory=dict)

    def as_preview(self) -> dict:
        """The JSON kept on Report.preview (the row errors go to Report.row_errors)."""
        keys = (
            "format", "format_label", "sha256", "rows", "blank_rows", "invalid", "videos",
            "created", "updated", "unchanged", "channels_created", "channels_renamed",
            "field_counts", "sample", "warnings", "unreadable", "notes", "ignored_columns",
        )  # fmt: skip
        return {key: getattr(self, key) for key in keys}


class Clock:
    """Seconds between laps, for Outcome.timings."""

    def __init__(self):
        self.last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return round(elapsed, 3)
