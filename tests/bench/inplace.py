"""An edit in place's save against the edit form's save of the same change (`--only views`).

The goal (issue 18 §3): an in-place save at 1,000,000 videos, median <= 20 ms. Each turn
changes one video's privacy (public <-> unlisted) once in place (POST videos/<id>/cell/privacy,
with the token and version its editor's GET gave) and once, on another video, through the
edit form (POST videos/<id>/edit with every field as the page rendered it), interleaved so
the machine's load falls on both alike. The GETs that open each (the cell's editor, the edit
page) are timed too, apart. Through the test client in this process: wall time, CPU time per
request (the app's Python; the database's is not in it) and the statements each sends."""

import re
import statistics
import time
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from tests.html_forms import submitted_fields

GOAL_MEDIAN_MS = 20.0
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


@dataclass
class Series:
    ms: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def row(self, name: str) -> str:
        if not self.ms:
            return f"| {name} | | | | | FAILED: {'; '.join(self.failures[:2])} |"
        p95 = statistics.quantiles(self.ms, n=20)[-1] if len(self.ms) >= 20 else max(self.ms)
        return (
            f"| {name} | {statistics.median(self.ms):.1f} | {p95:.1f} "
            f"| {statistics.median(self.cpu):.1f} | {max(self.statements)} "
            f"| {len(self.failures) or ''} |"
        )


def _timed(series: Series, statements, call, ok: int, warm: bool):
    statements.start()
    cpu, wall = time.process_time(), time.perf_counter()
    response = call()
    body = response.get_data(as_text=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sent = len(statements.stop())
    if response.status_code != ok:
        series.failures.append(f"HTTP {response.status_code}: {body[:80]!r}")
        return None
    if warm:
        series.ms.append(wall * 1000)
        series.cpu.append(cpu * 1000)
        series.statements.append(sent)
    return body


def _other(privacy: str | None) -> str:
    return "unlisted" if privacy == "public" else "public"


def run(client, statements, conn, args) -> tuple[list[str], bool]:
    """Time the two saves; the report's lines and whether the goal is met."""
    turns = args.warmup + args.requests
    rows = conn.execute(
        # Videos whose edit form saves as rendered: the generator's UPCs are not all valid
        # GTINs, and the form refuses those (the cell's save never reads them).
        "SELECT video_id, privacy_status FROM videos WHERE NOT hidden AND upc IS NULL "
        "ORDER BY id DESC LIMIT %s",
        (2 * turns,),
    ).fetchall()
    series = {name: Series() for name in ("open", "save", "form page", "form save")}
    for i in range(min(turns, len(rows) // 2)):
        warm = i >= args.warmup
        (cell_video, cell_privacy), (form_video, form_privacy) = rows[2 * i], rows[2 * i + 1]

        def in_place(warm=warm, video=cell_video, privacy=cell_privacy):
            url = f"/videos/{video}/cell/privacy"
            editor = _timed(series["open"], statements, lambda: client.get(url), 200, warm)
            if editor is None:
                return
            data = {
                "csrf_token": _TOKEN.search(editor).group(1),
                "version": _VERSION.search(editor).group(1),
                "value": _other(privacy),
            }
            _timed(series["save"], statements, lambda: client.post(url, data=data), 200, warm)

        def on_form(warm=warm, video=form_video, privacy=form_privacy):
            url = f"/videos/{video}/edit"
            page = _timed(series["form page"], statements, lambda: client.get(url), 200, warm)
            if page is None:
                return
            data = MultiDict(
                (name, _other(privacy) if name == "privacy_status" else value)
                for name, value in submitted_fields(page, "video-form")
            )
            _timed(series["form save"], statements, lambda: client.post(url, data=data), 302, warm)

        for step in (in_place, on_form) if i % 2 == 0 else (on_form, in_place):
            step()
    save = series["save"]
    met = bool(save.ms) and not save.failures and statistics.median(save.ms) <= GOAL_MEDIAN_MS
    lines = [
        f"## Edit in place: saving one value against the edit form's save of the same change "
        f"({args.videos:,} videos, {args.requests} of each, interleaved)",
        "",
        "| request | median ms | p95 ms | CPU ms (median) | statements (max) | failures |",
        "|---|---:|---:|---:|---:|---|",
        series["save"].row("in place: save (POST cell)"),
        series["form save"].row("edit form: save (POST edit)"),
        series["open"].row("in place: open the editor (GET cell)"),
        series["form page"].row("edit form: open the page (GET edit)"),
        "",
        f"Goal: an in-place save's median at most {GOAL_MEDIAN_MS:.0f} ms: "
        f"{'meets' if met else 'MISSES'}.",
    ]
    return lines, met
