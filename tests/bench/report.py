"""The results table, printed and written to instance/bench/results-<N>.md."""

from datetime import UTC, datetime

from tests.bench.build import AUDITOR
from tests.bench.measure import Probe, Result

GOAL_MEDIAN_MS = 12.0
GOAL_P95_MS = 25.0
GOAL_DEEP_RATIO = 1.5
GOAL_STATEMENTS = 4
# The Changes page: issue 7's goal (issue 2: "fast at ten million rows").
GOAL_AUDIT_MEDIAN_MS = 20.0
BUILD_STEPS = (
    "migrations", "allocation", "channels", "categories", "videos", "metadata_syncs",
    "indexes", "vacuum_analyze", "describe",
)  # fmt: skip


def verdicts(results: list[Result]) -> list[tuple[Result, list[str]]]:
    """Each result with the goals it misses (an empty list is a PASS)."""
    first = results[0]
    rows = []
    for result in results:
        misses = []
        if result.median > GOAL_MEDIAN_MS:
            misses.append(f"median > {GOAL_MEDIAN_MS:g} ms")
        if result.p95 > GOAL_P95_MS:
            misses.append(f"p95 > {GOAL_P95_MS:g} ms")
        if result.max_statements > GOAL_STATEMENTS:
            misses.append(f"> {GOAL_STATEMENTS} statements")
        if "reached by cursor" in result.target.note and (
            result.median > GOAL_DEEP_RATIO * first.median
        ):
            misses.append(f"> {GOAL_DEEP_RATIO:g}x page 1")
        rows.append((result, misses))
    return rows


def audit_verdicts(results: list[Result]) -> list[tuple[Result, list[str]]]:
    return [
        (r, [f"median > {GOAL_AUDIT_MEDIAN_MS:g} ms"] if r.median > GOAL_AUDIT_MEDIAN_MS else [])
        for r in results
    ]


def _row(result: Result, misses: list[str]) -> str:
    name = result.target.name
    if result.target.note:
        name += f" ({result.target.note})"
    verdict = "PASS" if not misses else "MISS: " + ", ".join(misses)
    return (
        f"| {name} | {result.median:.1f} | {result.p95:.1f} | {result.max_statements} | "
        f"{result.sql_median:.1f} | {verdict} |"
    )


def _audit_section(results: list[Result], stats: dict, login: str) -> list[str]:
    audit = stats["audit"]
    total = audit["rows"]

    def shares(counts: dict) -> str:  # (jsonb keeps keys sorted: largest first again)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{k} {100 * v / max(total, 1):.1f}%" for k, v in ordered)

    lines = [
        "",
        f"## Changes page (`/audit`): {total:,} audit rows",
        "",
        f"- Audit rows: {total:,} over {stats['videos']:,} videos "
        f"({audit['videos_without_rows']:,} videos without any; the busiest, "
        f"`{audit['busiest_video']['video_id']}`, has {audit['busiest_video']['rows']:,}), "
        f"{audit['first'][:10]} .. {audit['last'][:10]}, "
        f"{audit['distinct_instants']:,} distinct instants (batches share one), "
        f"{audit['with_batch_id']:,} with a batch id",
        f"- Sources: {shares(audit['sources'])}",
        f"- Fields (share of rows changing each): {shares(audit['fields'])}",
        f"- Authors: {shares(audit['authors'])}",
        f"- Each page: as above, signed in as the auditor `{AUDITOR}` via {login}",
        f"- Goal: median <= {GOAL_AUDIT_MEDIAN_MS:g} ms (issue 7; issue 2: fast at ten million "
        "rows). Each page is checked against its own SQL: the number of rows shown and the "
        'cursor of its rel="next" link.',
        "",
        "| page | median ms | p95 ms | SQL statements | SQL ms (median) "
        f"| median <= {GOAL_AUDIT_MEDIAN_MS:g} ms |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [_row(result, misses) for result, misses in audit_verdicts(results)]
    deep = [r for r in results if "reached by cursor" in r.target.note]
    if deep and results:
        lines += ["", f"Deep page / page 1 (median): {deep[0].median / results[0].median:.2f}x."]
    lines += ["", "URLs: " + "; ".join(f"`{r.target.path}`" for r in results)]
    return lines


def render(
    results: list[Result],
    *,
    videos: int,
    build: dict,
    pg_version: str,
    requests: int,
    warmup: int,
    login: str,
    pager: str,
    probes: list[Probe],
    audit_results: list[Result] = (),
    audit_login: str = "",
    machine: tuple[int, float, float] | None = None,
) -> str:
    stats = build["stats"]
    first = results[0]
    matches = stats["search_matches"]
    how = "reused, originally built" if build["reused"] else "built"
    migrated = build.get("migrated_seconds")
    since = f"; migrations since then applied in {migrated:.1f} s" if migrated is not None else ""
    audit_rows = stats["audit"]["rows"]
    lines = [
        f"# Catalog benchmark: {videos:,} videos, {audit_rows:,} audit rows",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database `{build['database']}` "
        f"({how} in {build['build_seconds']:.0f} s{since})",
        f"- PostgreSQL: {pg_version}",
        *(
            [
                f"- Machine: {machine[0]} CPUs; load average (1 min) {machine[1]:.1f} before "
                f"the timed requests, {machine[2]:.1f} after (above the CPU count, other work "
                "competes with the app and the timings are pessimistic)"
            ]
            if machine
            else []
        ),
        f"- Data: {stats['videos']:,} videos ({stats['hidden']:,} hidden), "
        f"{stats['channels']:,} channels (biggest {stats['biggest_channel']['videos']:,} videos, "
        f"smallest {stats['smallest_channel_videos']:,}), "
        f"{stats['metadata_syncs']:,} audit rows; `q=love` matches "
        f"{matches:,} videos ({100 * matches / stats['videos']:.1f}%)",
        f"- Data checksum (identical for every build of this N and M): "
        f"`{stats.get('checksum', '?')}`",
        f"- Each page: {warmup} warm-up requests, then {requests} timed requests through the "
        f"Flask test client, signed in as an editor via {login}",
        "- Goals: median <= 12 ms, p95 <= 25 ms, deep page median <= 1.5x page 1, "
        "<= 4 SQL statements per request",
        "",
        "## Video list (`/videos`)",
        "",
        "| page | median ms | p95 ms | SQL statements | SQL ms (median) | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [_row(result, misses) for result, misses in verdicts(results)]
    deep = [r for r in results if "reached by cursor" in r.target.note]
    if deep:
        lines += ["", f"Deep page / page 1 (median): {deep[0].median / first.median:.2f}x."]
    if probes:
        lines += [
            "",
            "Search probe: the list statement of `/videos?q=...` (SQL only, median of 5) with "
            "other terms. The plan follows the planner's row estimate (also the total the page "
            "shows), which comes from ANALYZE's random sample of `search_text`:",
            "",
            "| term | matching videos | planner estimate | plan | SQL ms |",
            "|---|---:|---:|---|---:|",
        ]
        lines += [
            f"| `{p.term}` | {p.matches:,} | {p.estimate:,} | {p.plan} | {p.sql_ms:.1f} |"
            for p in probes
        ]
    lines += [
        "",
        f"Pager check: {pager}.",
        "",
        "URLs: " + "; ".join(f"`{r.target.path}`" for r in results),
        "",
    ]
    if audit_results:
        lines += _audit_section(list(audit_results), stats, audit_login)
    timings = stats["timings"]
    index_timings = stats.get("index_timings", {})
    lines += [
        "",
        f"## Build ({build['build_seconds']:.0f} s)",
        "",
        "Steps (s): "
        + ", ".join(f"{name} {timings[name]:.1f}" for name in BUILD_STEPS if name in timings),
        "",
        "Indexes (two at a time) and foreign keys, recreated after the load (s): "
        + ", ".join(
            f"{name} {seconds:.1f}"
            for name, seconds in sorted(index_timings.items(), key=lambda item: -item[1])
        ),
        "",
    ]
    return "\n".join(lines)
