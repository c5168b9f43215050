"""Steps 4 and 5, merge and diff.

Merge: one row per video. For YouTube's report the claim rows of a video become one video
(below), for the Catalog Tool format the latest row wins. Most videos have one row; only
those with several are sorted and merged.

Merging YouTube claim rows (one row per claim of a video):
- single-valued fields come from the video's primary row: the row with the lowest claim_id
  (rows without a claim last), the latest such row when claim ids repeat; a stable choice,
  whatever order YouTube lists the rows in;
- claimed_status: "claim" when any row is claimed by this owner (claimed_by_this_owner, or
  a claim_id when that column is absent), keeping "appeal" or "dispute" that staff set on a
  claimed video (those come from the claims report, not this one); none when no row is;
  unchanged when the rows do not say;
- claimed_by_another_owner: "Yes" when any row says Yes, else "No" when any says No;
- other_owners_claiming: every owner named by any row, once each, sorted, comma-separated.

Diff: the merged rows are joined to the catalog; only videos that are new or differ in a
field the file carries are kept, each with its delta {field: [old, new]} built in SQL
(jsonb_build_object over IS DISTINCT FROM, jsonb_strip_nulls): `import_diff`.
"""

from sqlalchemy import text

from catalog.extensions import db
from catalog.reports.formats import FIELDS, FLAGS, SOFT_KINDS, Layout, sql_literal
from catalog.reports.importer.outcome import Outcome
from catalog.reports.importer.sql import run_sql
from catalog.reports.importer.unreadable import soft_fields
from catalog.videos.service import AUDITED_FIELDS

SAMPLE_UPDATES = 20
SAMPLE_CREATES = 5

# The video columns a report can write, and the staged field each comes from (the
# channel, its display name, the category and the claim status are derived, see _new_values).
DIRECT = (
    "title", "time_published", "video_length", "views", "privacy_status", "asset_id",
    "custom_id", "effective_policy", "isrc", "upload_source", "claimed_by_another_owner",
    "other_owners_claiming", "artist", "genre", "label", "upc", "notes",
    *(name for name, f in FIELDS.items() if f.kind == "yes_no" and name not in (
        "claimed_by_this_owner", "claimed_by_another_owner")),
)  # fmt: skip
assert {*DIRECT, *FLAGS, "administered_at"} <= set(AUDITED_FIELDS), "only audited fields"


OWNERS = (
    "(SELECT string_agg(DISTINCT btrim(o), ', ' ORDER BY btrim(o)) "
    "FROM unnest({names}) AS whole, unnest(string_to_array(whole, ',')) AS o "
    "WHERE btrim(o) <> '')"
)


def merge(outcome: Outcome, layout: Layout) -> str:
    """The SELECT of one row per video (see the module's docstring). Most videos have one
    row: only those with several (import_dups, found by hashing) are sorted and merged."""
    fields = layout.fields
    youtube = layout.format.key == "youtube"
    aggregated = ("claimed_by_another_owner", "other_owners_claiming") if youtube else ()
    plain = [
        name
        for name in fields
        if name not in ("video_id", "claimed_by_this_owner", "claim_id", *aggregated)
    ] + [f"{name}__bad" for name in soft_fields(layout)]
    run_sql("DROP TABLE IF EXISTS pg_temp.import_dups")
    run_sql(
        "CREATE TEMP TABLE import_dups ON COMMIT DROP AS SELECT video_id, count(*) AS n "
        "FROM import_rows WHERE ok GROUP BY video_id HAVING count(*) > 1"
    )
    ok_rows, extra = run_sql(
        "SELECT (SELECT count(*) FROM import_rows WHERE ok), "
        "(SELECT coalesce(sum(n - 1), 0)::bigint FROM import_dups)"
    ).one()
    outcome.videos = ok_rows - extra
    alone = "NOT EXISTS (SELECT FROM import_dups d WHERE d.video_id = r.video_id)"
    several = "EXISTS (SELECT FROM import_dups d WHERE d.video_id = r.video_id)"
    columns = ", ".join(f"r.{name}" for name in ["video_id", "row_no", *plain])
    if not youtube:
        return f"""
SELECT {columns} FROM import_rows r WHERE r.ok AND {alone}
UNION ALL
(SELECT DISTINCT ON (r.video_id) {columns} FROM import_rows r WHERE r.ok AND {several}
 ORDER BY r.video_id, r.row_no DESC)
"""
    one, merged = [], []  # the claim fields of a video with one row, and with several
    if "claimed_by_this_owner" in fields:
        one.append("r.claimed_by_this_owner = 'Yes' AS claimed")
        merged.append("bool_or(r.claimed_by_this_owner = 'Yes') OVER w AS claimed")
    elif "claim_id" in fields:
        one.append("r.claim_id IS NOT NULL AS claimed")
        merged.append("bool_or(r.claim_id IS NOT NULL) OVER w AS claimed")
    if "claimed_by_another_owner" in fields:
        one.append("r.claimed_by_another_owner")
        merged.append(
            "CASE WHEN bool_or(r.claimed_by_another_owner = 'Yes') OVER w THEN 'Yes' "
            "WHEN bool_or(r.claimed_by_another_owner = 'No') OVER w THEN 'No' END "
            "AS claimed_by_another_owner"
        )
    if "other_owners_claiming" in fields:
        one.append(
            "CASE WHEN strpos(r.other_owners_claiming, ',') > 0 THEN "
            + OWNERS.format(names="ARRAY[r.other_owners_claiming]")
            + " ELSE r.other_owners_claiming END AS other_owners_claiming"
        )
        merged.append(
            "array_agg(r.other_owners_claiming) FILTER "
            "(WHERE r.other_owners_claiming IS NOT NULL) OVER w AS other_owners"
        )
    order = "r.claim_id NULLS LAST, r.row_no DESC" if "claim_id" in fields else "r.row_no DESC"
    names = [c.rsplit(" AS ", 1)[-1].removeprefix("r.") for c in one]
    outer = ", ".join(
        f"m.{name}"
        if name != "other_owners_claiming"
        else OWNERS.format(names="m.other_owners") + " AS other_owners_claiming"
        for name in ["video_id", "row_no", *plain, *names]
    )
    return f"""
SELECT {columns}{"".join(f", {c}" for c in one)} FROM import_rows r WHERE r.ok AND {alone}
UNION ALL
SELECT {outer} FROM (
  SELECT DISTINCT ON (r.video_id) {columns}{"".join(f", {c}" for c in merged)}
  FROM import_rows r WHERE r.ok AND {several}
  WINDOW w AS (PARTITION BY r.video_id ORDER BY {order}
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ORDER BY r.video_id, {order}
) m
"""


def _new_values(layout: Layout) -> dict[str, str]:
    """Each video column the file writes → its new value (SQL over s = the merged rows,
    v = videos, ch = channels, cat = import_categories)."""
    fields = layout.fields
    youtube = layout.format.key == "youtube"
    new = {}
    for name in DIRECT:
        if name in fields:
            new[name] = f"s.{name}"
            if layout.spec(name).kind in SOFT_KINDS:  # never blank what could not be read
                new[name] = f"CASE WHEN s.{name}__bad THEN v.{name} ELSE s.{name} END"
    for name in FLAGS:
        if name in fields:  # NOT NULL: an empty cell keeps the flag (a new video: No)
            new[name] = f"coalesce(s.{name}, v.{name}, false)"
    if "administered" in fields or "administered_at" in fields:
        # As the video service derives it: set when a video becomes administered.
        derived = (
            "CASE WHEN s.administered AND NOT coalesce(v.administered, false) THEN now() "
            "ELSE v.administered_at END"
            if "administered" in fields
            else "v.administered_at"
        )
        new["administered_at"] = (
            "CASE WHEN s.administered_at__bad THEN v.administered_at "
            f"ELSE coalesce(s.administered_at, {derived}) END"
            if "administered_at" in fields
            else derived
        )
    if youtube and "claimed_by_another_owner" in fields:
        new["claimed_by_another_owner"] = "s.claimed_by_another_owner"
    if youtube and "other_owners_claiming" in fields:
        new["other_owners_claiming"] = "s.other_owners_claiming"
    if youtube and ("claimed_by_this_owner" in fields or "claim_id" in fields):
        new["claimed_status"] = (
            "CASE s.claimed WHEN true THEN CASE WHEN v.claimed_status IN ('appeal', 'dispute') "
            "THEN v.claimed_status ELSE 'claim' END WHEN false THEN NULL "
            "ELSE v.claimed_status END"
        )
    elif not youtube and "claimed_status" in fields:
        new["claimed_status"] = "s.claimed_status"
    report_name = "left(s.channel_name, 100)" if "channel_name" in fields else "NULL::varchar"
    if "channel_key" in fields:
        new["channel_id"] = "coalesce(ch.id, v.channel_id)"
        new["channel_display_name"] = (
            f"CASE WHEN ch.id IS NOT NULL THEN coalesce({report_name}, left(ch.name, 100)) "
            f"ELSE coalesce({report_name}, v.channel_display_name) END"
        )
    elif "channel_name" in fields:
        new["channel_display_name"] = f"coalesce({report_name}, v.channel_display_name)"
    if "category" in fields:
        new["category_id"] = "coalesce(cat.id, v.category_id)"
    return new


CUSTOM_OLD = {
    "custom_text": "value_text",
    "custom_select": "value_text",
    "custom_rating": "value_numeric::integer",
    "custom_boolean": "value_boolean",
}


def diff(layout: Layout, merged: str) -> list[str]:
    """import_diff: the new videos and the changed ones, with their new values and their
    delta; returns the video columns the file writes. A custom field's column adds its
    value (cf_<id>) and whether it changes (cf_<id>__changed); its change is part of the
    video's delta, under the key the video's own audit rows use ("field:Name")."""
    new = _new_values(layout)
    columns = list(new)
    old = {c: f"v.{c}" for c in columns}
    keys = {c: f"'{c}'" for c in columns}
    joins = []
    if "channel_id" in new:
        joins.append("LEFT JOIN channels ch ON ch.channel_id = s.channel_key")
    if "category_id" in new:
        joins.append("LEFT JOIN import_categories cat ON cat.name = s.category")
    for name, spec in layout.custom.items():
        joins.append(
            f"LEFT JOIN video_field_values {name}_v "
            f"ON {name}_v.video_id = v.id AND {name}_v.field_id = {spec.field_id}"
        )
        new[name] = f"s.{name}"
        old[name] = f"{name}_v.{CUSTOM_OLD[spec.kind]}"
        keys[name] = sql_literal(spec.key)
    every = list(new)
    pairs = [
        f"{keys[c]}, CASE WHEN d.o_{c} IS DISTINCT FROM d.n_{c} "
        f"THEN jsonb_build_array(d.o_{c}, d.n_{c}) END"
        for c in every
    ]
    # jsonb_build_object takes at most 100 arguments: 50 pairs per call.
    objects = " || ".join(
        f"jsonb_build_object({', '.join(pairs[i : i + 50])})" for i in range(0, len(pairs), 50)
    )
    differs = " OR ".join(f"d.o_{c} IS DISTINCT FROM d.n_{c}" for c in every) or "false"
    changed = "".join(f"d.o_{c} IS DISTINCT FROM d.n_{c} AS {c}__changed, " for c in layout.custom)
    # Each merged row finds its video by the unique index (a lateral subquery, which the
    # planner keeps as a loop): the rows left after the unchanged ones were set aside are a
    # small part of the catalog, which the hash join read and hashed whole (at 1,000,000
    # videos, 3.0 s of CPU for the statement; 2.5 s with the lookups).
    run_sql("DROP TABLE IF EXISTS pg_temp.import_diff")
    run_sql(f"""
CREATE TEMP TABLE import_diff ON COMMIT DROP AS
SELECT d.id, d.old_version, d.video_id, d.row_no,
       {"".join(f"d.n_{c} AS {c}, " for c in every)}{changed}
       jsonb_strip_nulls({objects or "'{}'::jsonb"}) AS changes
FROM (
  SELECT v.id, v.version AS old_version, s.video_id, s.row_no
         {"".join(f", {old[c]} AS o_{c}, {expr} AS n_{c}" for c, expr in new.items())}
  FROM ({merged}) s
  LEFT JOIN LATERAL (SELECT * FROM videos x WHERE x.video_id = s.video_id OFFSET 0) v ON true
  {" ".join(joins)}
  OFFSET 0
) d
WHERE d.id IS NULL OR {differs}
""")
    return columns


def summarize(outcome: Outcome) -> None:
    created, updated = run_sql(
        "SELECT count(*) FILTER (WHERE id IS NULL), count(id) FROM import_diff"
    ).one()
    outcome.created, outcome.updated = created, updated
    outcome.unchanged = outcome.videos - created - updated
    outcome.field_counts = dict(
        run_sql(
            "SELECT k, count(*) FROM import_diff, jsonb_object_keys(changes) k "
            "WHERE id IS NOT NULL GROUP BY k ORDER BY count(*) DESC, k"
        ).all()
    )
    rows = db.session.execute(
        text(
            "(SELECT video_id, false AS created, changes, row_no FROM import_diff "
            " WHERE id IS NOT NULL ORDER BY row_no LIMIT :updates) UNION ALL "
            "(SELECT video_id, true, changes, row_no FROM import_diff "
            " WHERE id IS NULL ORDER BY row_no LIMIT :creates) ORDER BY row_no"
        ),
        {"updates": SAMPLE_UPDATES, "creates": SAMPLE_CREATES},
    ).all()
    outcome.sample = _readable_sample(rows)


def _readable_sample(rows) -> list[dict]:
    """Sample changes for people: channels and categories by name, not by row id."""
    channel_ids, category_ids = set(), set()
    for row in rows:
        channel_ids.update(i for i in row.changes.get("channel_id", []) if i is not None)
        category_ids.update(i for i in row.changes.get("category_id", []) if i is not None)
    names = {}
    if channel_ids:
        names["channel_id"] = dict(
            db.session.execute(
                text("SELECT id, channel_id FROM channels WHERE id = ANY(:ids)"),
                {"ids": list(channel_ids)},
            ).all()
        )
    if category_ids:
        names["category_id"] = dict(
            db.session.execute(
                text("SELECT id, name FROM video_categories WHERE id = ANY(:ids)"),
                {"ids": list(category_ids)},
            ).all()
        )
    sample = []
    for row in rows:
        changes = {
            key: [names.get(key, {}).get(v, v) for v in pair] if key in names else pair
            for key, pair in row.changes.items()
        }
        sample.append(
            {
                "video_id": row.video_id,
                "action": "create" if row.created else "update",
                "changes": changes,
            }
        )
    return sample
