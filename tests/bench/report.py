"""The results table, printed and written to instance/bench/results-<N>.md."""

from datetime import UTC, datetime

from tests.bench.measure import Probe, Result

GOAL_MEDIAN_MS = 12.0
GOAL_P95_MS = 25.0
GOAL_DEEP_RATIO = 1.5
GOAL_STATEMENTS = 4
BUILD_STEPS = ("channels", "categories", "videos", "metadata_syncs", "indexes", "vacuum_analyze")


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
) -> str:
    stats = build["stats"]
    first = results[0]
    matches = stats["search_matches"]
    how = "reused, originally built" if build["reused"] else "built"
    lines = [
        f"# Catalog list-page benchmark: {videos:,} videos",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; database `{build['database']}` "
        f"({how} in {build['build_seconds']:.0f} s)",
        f"- PostgreSQL: {pg_version}",
        f"- Data: {stats['videos']:,} videos ({stats['hidden']:,} hidden), "
        f"{stats['channels']:,} channels (biggest {stats['biggest_channel']['videos']:,} videos, "
        f"smallest {stats['smallest_channel_videos']:,}), "
        f"{stats['metadata_syncs']:,} audit rows; `q=love` matches "
        f"{matches:,} videos ({100 * matches / stats['videos']:.1f}%)",
        f"- Data checksum (identical for every build of this N): `{stats.get('checksum', '?')}`",
        f"- Each page: {warmup} warm-up requests, then {requests} timed requests through the "
        f"Flask test client, signed in as an editor via {login}",
        "- Goals: median <= 12 ms, p95 <= 25 ms, deep page median <= 1.5x page 1, "
        "<= 4 SQL statements per request",
        "",
        "| page | median ms | p95 ms | SQL statements | SQL ms (median) | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for result, misses in verdicts(results):
        name = result.target.name
        if result.target.note:
            name += f" ({result.target.note})"
        verdict = "PASS" if not misses else "MISS: " + ", ".join(misses)
        lines.append(
            f"| {name} | {result.median:.1f} | {result.p95:.1f} | {result.max_statements} | "
            f"{result.sql_median:.1f} | {verdict} |"
        )
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
        "Build steps (s): "
        + ", ".join(f"{name} {stats['timings'][name]:.1f}" for name in BUILD_STEPS),
        "",
    ]
    return "\n".join(lines)
