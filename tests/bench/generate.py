"""A deterministic, set-based catalog generator: the same N always gives the same rows.

Every value is a function of the row number through ``hashint8extended`` (PostgreSQL's
portable 64-bit hash, the one hash partitioning relies on), so there is no random seed and
no client round trip per row: each table is one INSERT ... SELECT over generate_series.

The load is one transaction: the tables are truncated (so with wal_level=minimal nothing
is WAL-logged; the audit table, which cannot be truncated, is new and empty), the
secondary indexes and foreign keys of `videos` and `metadata_syncs`
are dropped and the rows inserted. Then the very definitions read from the catalog
(pg_get_indexdef / pg_get_constraintdef) are executed again, two at a time, and compared
with what was there before. Should anything fail, the database has no build marker and
the next run builds it again.

The audit log has its own size, M rows over the N videos (``--audit-rows``): a temporary
table first gives each video its number of rows ``k`` (a skewed weight per video, the M
rows shared out by cumulative weight so that they add up to exactly M), and the videos'
``version`` and ``updated_at`` follow from it, as the app would have left them. The audit
rows go through the database's hash-chain trigger like any others (written in time order,
so the chain runs in time order), and each batch's first row carries its size.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.bench import words
from tests.bench.database import log

# The data spans the two years before this instant; a fixed anchor keeps it reproducible.
END = "timestamptz '2026-11-01 00:00:00+00'"
START = f"({END} - interval '730 days')"
YEAR_SECONDS = 365 * 86400
SPAN_SECONDS = 730 * 86400
DEFAULT_AUDIT_ROWS = 10_000_000
BULK_TABLES = ("videos", "metadata_syncs")

MONETIZATION = (
    "third_party_ads_enabled", "display_ads_enabled", "sponsored_cards_enabled",
    "overlay_ads_enabled", "nonskippable_video_ads_enabled",
    "long_nonskippable_video_ads_enabled", "skippable_video_ads_enabled", "prerolls_enabled",
    "midrolls_enabled", "postrolls_enabled",
)  # fmt: skip
ENGAGEMENT = ("embedding_allowed", "ratings_allowed", "comments_allowed")

FUNCTIONS = (
    # A uniform double in [0, 1) from (row number, salt): 53 bits of a 64-bit hash.
    "CREATE OR REPLACE FUNCTION pg_temp.u(n bigint, salt int) RETURNS double precision "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT ((hashint8extended($1, $2::bigint) >> 11) & 9007199254740991)::float8 "
    "/ 9007199254740992.0 $$",
)


@dataclass(frozen=True)
class BenchUser:
    id: int
    email: str


def channel_count(videos: int) -> int:
    return max(5, videos // 2000)


def u(n: str, salt: int) -> str:
    return f"pg_temp.u({n}, {salt})"


def pick(array: str, r: str) -> str:
    """An element of a text[] chosen by a uniform r."""
    return f"({array})[1 + floor(({r}) * cardinality({array}))::int]"


# Activity grows over the two years: the share of the span's changes made before fraction
# x of it is F(x) = (x + x^2) / 2, three times as many per day at the end as at the start.
def grown(x: str) -> str:
    """F(x): the cumulative share of activity at fraction x of the span."""
    return f"((({x}) + ({x}) * ({x})) / 2)"


def grown_inverse(p: str) -> str:
    """F^-1(p): the fraction of the span by which a share p of the activity is done."""
    return f"((sqrt(1 + 8 * ({p})) - 1) / 2)"


def span_fraction(t: str) -> str:
    return f"(extract(epoch FROM ({t}) - {START}) / {SPAN_SECONDS})"


def at_fraction(x: str) -> str:
    return f"({START} + interval '1 second' * ({SPAN_SECONDS} * {x}))"


# The number of audit rows of each video. Weights are skewed (an exponential times a
# Pareto tail): at 10 rows per video on average the median video has ~6, 1 in 100 over 60,
# the busiest thousands, ~6% none. Videos created within the span get their `create` row
# first (when M allows), the rest is shared out by cumulative weight: k of video n is
# floor(R * C(n) / W) - floor(R * C(n-1) / W), which adds up to exactly R.
IN_WINDOW = 0.12  # the share of videos created within the span


def in_window(n: str) -> str:
    return f"({u(n, 30)} < {IN_WINDOW})"


ALLOC_COUNT_SQL = f"SELECT count(*) FROM generate_series(1, %(videos)s) n WHERE {in_window('n')}"

ALLOC_SQL = f"""
CREATE TEMP TABLE bench_alloc ON COMMIT DROP AS
SELECT id, k, in_window AND k >= 1 AS created, k - (in_window AND k >= 1)::int AS updates
FROM (
    SELECT n AS id, in_window,
           base + (div(%(spread)s::numeric * cum, total)
                   - div(%(spread)s::numeric * (cum - w), total))::int AS k
    FROM (
        SELECT n, w, base, in_window, sum(w) OVER (ORDER BY n) AS cum,
               greatest(1, sum(w) OVER ()) AS total
        FROM (
            SELECT n, {in_window("n")} AS in_window,
                   CASE WHEN %(with_base)s AND {in_window("n")} THEN 1 ELSE 0 END AS base,
                   floor(1000 * -ln(1 - {u("n", 63)}) * power(1 - {u("n", 64)}, -0.4))::bigint
                       AS w
            FROM generate_series(1, %(videos)s) n
        ) weights
    ) cumulative
) shares
"""


WORD_LISTS = {
    "adjectives": words.ADJECTIVES,
    "nouns": words.NOUNS,
    "verbs": words.VERBS,
    "suffixes": words.SUFFIXES,
    "first_names": words.FIRST_NAMES,
    "last_names": words.LAST_NAMES,
    "genres": words.GENRES,
    "labels": words.LABELS,
    "channel_suffixes": words.CHANNEL_SUFFIXES,
    "countries": words.COUNTRIES,
    "policies": words.POLICIES,
    "other_owners": words.OTHER_OWNERS,
    "notes": words.NOTES,
    "upload_sources": ["web", "api", "mobile", "cms"],
    "monetization": list(MONETIZATION),
}
WORDS_CTE = (
    "w AS MATERIALIZED (SELECT "
    + ", ".join(f"%({name})s::text[] AS {name}" for name in WORD_LISTS)
    + ")"
)

CHANNELS_SQL = f"""
WITH {WORDS_CTE}
INSERT INTO channels (id, channel_id, name, image_url, subscriber_count, video_count,
                      view_count, description, country, is_monetized, hidden,
                      created_at, updated_at)
SELECT k,
       'UC' || translate(substr(encode(decode(md5('channel' || k), 'hex'), 'base64'), 1, 22),
                         '+/', '-_'),
       name,
       'https://yt3.example.com/channel/' || k || '.jpg',
       floor(power(10, 3 + 4.5 * {u("k", 102)}))::bigint,
       0, 0,
       'Official channel of ' || name || '.',
       {pick("w.countries", u("k", 103))},
       {u("k", 104)} < 0.85,
       false,
       {START} - interval '1 day' * floor(2000 * {u("k", 105)}),
       {END} - interval '1 day' * floor(60 * {u("k", 106)})
FROM (
    -- (k * 7919) mod (32 * 50 * 8) walks every adjective/noun/suffix combination once,
    -- so channel names are unique up to 12,800 channels.
    SELECT k, w.adjectives[1 + m %% 32] || ' ' || w.nouns[1 + (m / 32) %% 50] || ' '
              || w.channel_suffixes[1 + m / 1600]
              || CASE WHEN k > 12800 THEN ' ' || k ELSE '' END AS name
    FROM generate_series(1, %(channels)s) k, w, LATERAL (SELECT (k * 7919) %% 12800 AS m) mm
) c, w
"""

CATEGORIES_SQL = """
INSERT INTO video_categories (id, name, slug, sort_order, is_active)
SELECT i, name, lower(replace(name, ' ', '-')), i * 10, true
FROM unnest(%(categories)s::text[]) WITH ORDINALITY AS c(name, i)
"""


FIELDS = ("title", "views", "privacy_status", "claimed_status", "notes", "label")
# The share of update rows each source writes, and the field it changes first; a second
# field (30% of rows) and a third (8%) are any other two.
UPDATE_SOURCES = {"web": 0.40, "bulk": 0.20, "report": 0.20, "worker": 0.15, "cli": 0.05}
FIRST_FIELD = {
    "web": {"title": 0.30, "privacy_status": 0.20, "claimed_status": 0.15, "notes": 0.20,
            "label": 0.15},
    "bulk": {"privacy_status": 0.30, "claimed_status": 0.20, "notes": 0.15, "label": 0.35},
    "report": {"views": 0.70, "claimed_status": 0.30},
    "worker": {"views": 0.60, "privacy_status": 0.20, "claimed_status": 0.20},
    "cli": dict.fromkeys(FIELDS, 1 / len(FIELDS)),
}  # fmt: skip
# The update rows of one bulk edit, report upload, worker run or command are one transaction:
# they share its instant (and, for bulk and report, a batch id and the editor who ran it).
# Create rows keep the video's created_at (a report's creates share only its editor).
BATCH_SECONDS = {"bulk": 600, "report": 3600, "worker": 3600, "cli": 6 * 3600}
SOURCE_SALT = {"web": 0, "bulk": 1, "report": 2, "worker": 3, "cli": 4}
EDITOR_DECAY = 0.75  # editor i (from 0) writes EDITOR_DECAY**i as much as the first


def weighted(r: str, shares: list[tuple[str, float]]) -> str:
    """A CASE choosing one of `shares`' SQL values with probability ~ its share."""
    total = sum(share for _, share in shares)
    acc, arms = 0.0, []
    for value, share in shares[:-1]:
        acc += share / total
        arms.append(f"WHEN {r} < {acc:.6f} THEN {value}")
    return f"CASE {' '.join(arms)} ELSE {shares[-1][0]} END" if arms else shares[0][0]


def row_uniform(video: str, j: str, salt: int) -> str:
    """A uniform for audit row j of a video (the video's own uniforms are u(id, salt))."""
    return u(f"{video}::bigint * 1048576 + {j}", salt)


def update_source(r: str) -> str:
    return weighted(r, [(f"'{name}'", share) for name, share in UPDATE_SOURCES.items()])


def slot_seconds(source: str) -> str:
    """The length of a batch slot of `source`, NULL for a source without batches (web)."""
    arms = " ".join(f"WHEN '{name}' THEN {n}" for name, n in BATCH_SECONDS.items())
    return f"(CASE {source} {arms} END)"


def source_salt(source: str) -> str:
    arms = " ".join(f"WHEN '{name}' THEN {n}" for name, n in SOURCE_SALT.items())
    return f"(CASE {source} {arms} END)"


def batch_slot(t: str, seconds: str) -> str:
    return f"floor(extract(epoch FROM {t}) / {seconds})::bigint"


def batch_instant(slot: str, seconds: str, salt: str) -> str:
    """The instant of the batch in `slot`: a point of the slot hashed from it."""
    return (
        f"to_timestamp({slot} * {seconds} "
        f"+ floor(pg_temp.u({slot}, 70 + {salt}) * {seconds} * 1e6) / 1e6)"
    )


def _artist(index: str) -> str:
    return (
        f"(w.first_names[1 + ({index}) %% 40] || ' ' || w.last_names[1 + (({index}) / 40) %% 40])"
    )


def _videos_sql() -> str:
    # Every uniform is computed once per row in `g` (OFFSET 0 keeps it from being inlined).
    salts = [*range(1, 60), 62]
    uniforms = ",\n       ".join(f"{u('n', s)} AS r{s}" for s in salts)
    title_core = (
        "CASE WHEN r20 < 0.30 THEN adj || ' ' || noun1 "
        "WHEN r20 < 0.50 THEN verb || ' the ' || noun1 "
        "WHEN r20 < 0.65 THEN noun1 || ' of ' || noun2 "
        "WHEN r20 < 0.80 THEN 'My ' || noun1 "
        "ELSE adj || ' ' || noun1 || ' ' || noun2 END"
    )
    monetization = ",\n       ".join(
        f"CASE WHEN r40 < 0.85 AND r{41 + i} < 0.9 THEN 'Yes' ELSE 'No' END"
        for i, _ in enumerate(MONETIZATION)
    )
    engagement = ",\n       ".join(
        f"CASE WHEN r{51 + i} < 0.92 THEN 'Yes' ELSE 'No' END" for i, _ in enumerate(ENGAGEMENT)
    )
    in_window = f"r30 < {IN_WINDOW}"  # as in ALLOC_SQL
    p_low = f"CASE WHEN {in_window} THEN r34 ELSE 0 END"
    p_last = f"({p_low} + (1 - {p_low}) * power(r35, 1.0 / greatest(updates, 1)))"
    # The last change is audit row j = k; from a batch, it happened at its batch's instant.
    last_source = f"CASE WHEN updates >= 1 THEN {update_source(row_uniform('n', 'k', 51))} END"
    last_seconds = slot_seconds("last_source")
    last_slot = batch_slot("raw_updated_at", last_seconds)
    return f"""
WITH {WORDS_CTE}
INSERT INTO videos (
    id, video_id, asset_id, custom_id, title, artist, genre, label, channel_id,
    channel_display_name, category_id, upc, isrc, claimed_status, claimed_by_another_owner,
    other_owners_claiming, {", ".join(MONETIZATION)}, {", ".join(ENGAGEMENT)},
    privacy_status, effective_policy, video_length, views, hidden, administered,
    administered_at, is_short, is_live_stream, upload_source, published, is_hero,
    time_published, notes, created_at, updated_at, version)
SELECT
    n,
    translate(substr(encode(decode(md5('video' || n), 'hex'), 'base64'), 1, 11), '+/', '-_'),
    CASE WHEN r2 < 0.70 THEN 'A' || lpad(((hashint8extended(n, 7) & 9007199254740991)
                                          %% 1000000000000000)::text, 15, '0') END,
    CASE WHEN r3 < 0.30 THEN upper(left(replace(label, ' ', ''), 6)) || '_' || n END,
    CASE WHEN r26 < 0.60 THEN a1 || ' - ' ELSE '' END || {title_core}
        || {pick("w.suffixes", "r25")},
    CASE WHEN r10 < 0.70 THEN ARRAY[a1] WHEN r10 < 0.92 THEN ARRAY[a1, a2]
         ELSE ARRAY[a1, a2, a3] END,
    CASE WHEN r14 < 0.75 THEN ARRAY[{pick("w.genres", "r15")}]
         ELSE ARRAY[{pick("w.genres", "r15")}, {pick("w.genres", "r16")}] END,
    label,
    c.id,
    c.name,
    CASE WHEN r5 < 0.03 THEN NULL ELSE 1 + floor(20 * r5 * r5)::int END,
    CASE WHEN r6 < 0.80 THEN lpad(floor(r7 * 1e12)::bigint::text, 12, '0') END,
    CASE WHEN r8 < 0.90 THEN {pick("w.countries", "r9")} || upper(substr(md5(label), 1, 3))
        || lpad(((2000 + floor(r59 * 27))::int %% 100)::text, 2, '0') || lpad((n %% 100000)::text,
        5, '0') END,
    CASE WHEN r11 < 0.60 THEN 'claim' WHEN r11 < 0.63 THEN 'dispute'
         WHEN r11 < 0.65 THEN 'appeal' END,
    CASE WHEN r12 < 0.10 THEN 'Yes' ELSE 'No' END,
    CASE WHEN r12 < 0.10 THEN {pick("w.other_owners", "r13")} END,
    {monetization},
    {engagement},
    CASE WHEN r17 < 0.85 THEN 'public' WHEN r17 < 0.95 THEN 'unlisted' ELSE 'private' END,
    {pick("w.policies", "r18")},
    CASE WHEN is_short THEN 10 + floor(50 * r19)::int
         WHEN is_live THEN 1800 + floor(7200 * r19)::int
         ELSE 90 + floor(420 * r19 * r19)::int END,
    -- log-normal: median ~1,000 views, 1 in 100 over ~500,000, the top few near 10^9
    CASE WHEN r21 < 0.01 THEN NULL
         ELSE floor(power(10, least(9.5, 3 + 1.2 * sqrt(-2 * ln(1 - r22)) * cos(2 * pi() * r62))))
              ::bigint END,
    r23 < 0.02,
    r24 < 0.60,
    CASE WHEN r24 < 0.60 THEN g.created_at + interval '1 hour' * floor(720 * r27) END,
    is_short,
    is_live,
    {pick("w.upload_sources", "r28")},
    r29 < 0.25,
    -- no hero: the database allows one per category (migration 0017), and the library's
    -- data step (tests/bench/library.py) picks each category's
    false,
    g.created_at - interval '1 day' * floor(400 * r31),
    CASE WHEN r32 < 0.05 THEN {pick("w.notes", "r33")} END,
    g.created_at,
    g.updated_at,
    -- each committed change bumps the version once and writes one audit row
    1 + g.updates
FROM (
    -- The last change is the latest of `updates` draws from the activity curve after the
    -- creation (share p_low of the activity): its share is p_low + (1 - p_low) * r^(1/n).
    -- A video never changed was last updated when created, or before the span.
    SELECT t.*,
           CASE WHEN {last_seconds} IS NULL THEN raw_updated_at
                ELSE {batch_instant(last_slot, last_seconds, source_salt("last_source"))}
           END AS updated_at
    FROM (
    SELECT s.*,
           CASE WHEN updates >= 1 THEN {at_fraction(grown_inverse(p_last))}
                WHEN {in_window} THEN created_at
                ELSE created_at + ({START} - created_at) * r35
           END AS raw_updated_at,
           {last_source} AS last_source
    FROM (
        SELECT r.*,
               CASE WHEN {in_window} THEN {at_fraction(grown_inverse("r34"))}
                    ELSE {START} - interval '1 second' * (1 + floor(3 * {YEAR_SECONDS} * r34))
               END AS created_at,
               {_artist("floor(1600 * r36 * r36)::int")} AS a1,
               {_artist("floor(1600 * r37)::int")} AS a2,
               {_artist("floor(1600 * r38)::int")} AS a3,
               {pick("w.labels", "r39")} AS label,
               {pick("w.adjectives", "r1")} AS adj,
               {pick("w.nouns", "r4")} AS noun1,
               {pick("w.nouns", "r54")} AS noun2,
               {pick("w.verbs", "r55")} AS verb,
               r56 < 0.15 AS is_short,
               r56 >= 0.15 AND r57 < 0.02 AS is_live,
               -- Zipf-like channel sizes: P(rank k) ~ log((k+2)/(k+1)).
               least(%(channels)s, floor(power(%(channels)s + 1, r58))::int) AS channel
        FROM (
            SELECT n, a.k, a.updates,
                   {uniforms}
            FROM generate_series(1, %(videos)s) n
            JOIN bench_alloc a ON a.id = n
            OFFSET 0
        ) r, w
        OFFSET 0
    ) s
    OFFSET 0
    ) t
) g
JOIN channels c ON c.id = g.channel, w
ORDER BY n
"""


def _field_json(f: str) -> str:
    """The {field: [old, new]} of field number `f` (an index into FIELDS)."""
    views_new = "floor(coalesce(views, 0) * (j::float8 / k))::bigint"
    values = [
        "CASE WHEN rw < 0.5 THEN lower(title) ELSE title || ' (Live)' END, title",
        f"floor({views_new} * (0.80 + 0.15 * rv))::bigint, {views_new}",
        "CASE WHEN privacy_status = 'public' THEN 'unlisted' ELSE 'public' END, privacy_status",
        "NULL, coalesce(claimed_status, 'claim')",
        f"NULL, {pick('w.notes', 'rv')}",
        f"{pick('w.labels', 'rv')}, label",
    ]
    arms = " ".join(
        f"WHEN {i} THEN jsonb_build_object('{name}', jsonb_build_array({values[i]}))"
        for i, name in enumerate(FIELDS)
    )
    return f"(CASE {f} {arms} END)"


def _syncs_sql(editors: int) -> str:
    def ru(salt: int) -> str:
        return row_uniform("v.id", "j", salt)

    p_low = f"CASE WHEN created THEN {grown(span_fraction('created_at'))} ELSE 0 END"
    p_last = grown(span_fraction("updated_at"))
    first_field = " ".join(
        f"WHEN '{source}' THEN "
        + weighted("rf", [(str(FIELDS.index(name)), share) for name, share in fields.items()])
        for source, fields in FIRST_FIELD.items()
    )
    editor = weighted(
        "CASE WHEN source IN ('bulk', 'report') THEN pg_temp.u(slot, 80 + salt) ELSE ru END",
        [(str(i + 1), EDITOR_DECAY**i) for i in range(editors)],
    )
    changes = (
        f"{_field_json('f1')} || CASE WHEN nf >= 2 THEN {_field_json('(f1 + d2) %% 6')} "
        f"ELSE '{{}}' END || CASE WHEN nf >= 3 THEN {_field_json('(f1 + d3) %% 6')} "
        "ELSE '{}' END"
    )
    return f"""
WITH {WORDS_CTE}
INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, video_title,
                            channel_display_name, action, source, changes, user_id,
                            user_email, batch_id, batch_size, sync_time)
SELECT 'video', id, video_id, title, channel_display_name, action, source, changes,
       CASE source WHEN 'worker' THEN %(worker_id)s WHEN 'cli' THEN NULL
            ELSE (%(user_ids)s::int[])[editor] END,
       CASE source WHEN 'worker' THEN %(worker_email)s WHEN 'cli' THEN NULL
            ELSE (%(user_emails)s::text[])[editor] END,
       batch_id,
       -- A batch's first row (in the order rows are written) carries its size.
       CASE WHEN batch_id IS NOT NULL
                 AND row_number() OVER (PARTITION BY batch_id ORDER BY sync_time, id, j) = 1
            THEN count(*) OVER (PARTITION BY batch_id) END,
       sync_time
FROM (
SELECT x4.*, CASE WHEN action = 'update' AND source IN ('bulk', 'report')
                  THEN md5(source || ':' || slot)::uuid END AS batch_id
FROM (
    -- Batched update rows move to their transaction's instant, somewhere in the batch's
    -- slot (the last, j = k, is there already: it is the video's updated_at).
    SELECT x3.*,
           CASE WHEN action = 'update' AND slot IS NOT NULL
                THEN {batch_instant("slot", "slot_seconds", "salt")}
                ELSE raw_time END AS sync_time,
           {editor} AS editor,
           CASE WHEN action = 'create' THEN jsonb_build_object(
                    'video_id', jsonb_build_array(NULL, video_id),
                    'title', jsonb_build_array(NULL, title),
                    'channel_id', jsonb_build_array(NULL, channel_id))
                ELSE {changes} END AS changes
    FROM (
        SELECT x2.*,
               CASE source {first_field} END AS f1,
               {source_salt("source")} AS salt,
               {slot_seconds("source")} AS slot_seconds,
               {batch_slot("raw_time", slot_seconds("source"))} AS slot
        FROM (
            -- Within a video: the create row at its creation, the last change at its
            -- updated_at, the others drawn from the activity curve in between.
            SELECT x1.*,
                   CASE WHEN action = 'create'
                        THEN CASE WHEN rs < 0.6 THEN 'report' ELSE 'web' END
                        ELSE {update_source("rs")} END AS source,
                   CASE WHEN action = 'create' THEN created_at
                        WHEN j = k THEN updated_at
                        ELSE {at_fraction(grown_inverse(f"{p_low} + ({p_last} - {p_low}) * rt"))}
                   END AS raw_time,
                   1 + (rn < 0.30)::int + (rn < 0.08)::int AS nf,
                   1 + floor(5 * r2)::int AS d2,
                   1 + (floor(5 * r2)::int + 1 + floor(4 * r3)::int) %% 5 AS d3
            FROM (
                SELECT v.id, v.video_id, v.title, v.channel_display_name, v.channel_id,
                       v.views, v.privacy_status, v.claimed_status, v.label, v.created_at,
                       v.updated_at, a.k, a.created, j,
                       {ru(50)} AS rt, {ru(51)} AS rs, {ru(52)} AS rf, {ru(53)} AS rn,
                       {ru(54)} AS r2, {ru(55)} AS r3, {ru(56)} AS ru, {ru(57)} AS rv,
                       {ru(58)} AS rw,
                       CASE WHEN j = 1 AND a.created THEN 'create' ELSE 'update' END AS action
                FROM videos v
                JOIN bench_alloc a ON a.id = v.id
                CROSS JOIN LATERAL generate_series(1, a.k) j
                OFFSET 0
            ) x1
            OFFSET 0
        ) x2
        OFFSET 0
    ) x3, w
    OFFSET 0
) x4
) x5
ORDER BY sync_time, id, j
"""


# -- dropping and recreating what slows a bulk load down ---------------------------------


def _deferred_objects(conn, table: str) -> tuple[dict[str, str], dict[str, str]]:
    """The secondary indexes (not backing a constraint) and foreign keys of `table`."""
    indexes = dict(
        conn.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY 1",
            (table,),
        ).fetchall()
    )
    foreign_keys = dict(
        conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
            (table,),
        ).fetchall()
    )
    return indexes, foreign_keys


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(conn, videos: int, audit_rows: int, users: list[BenchUser], worker: BenchUser) -> dict:
    """Fill the catalog tables in one transaction; return counts for the report."""
    channels = channel_count(videos)
    params = {
        **WORD_LISTS,
        "videos": videos,
        "channels": channels,
        "categories": words.CATEGORIES,
        "user_ids": [user.id for user in users],
        "user_emails": [user.email for user in users],
        "user_count": len(users),
        "worker_id": worker.id,
        "worker_email": worker.email,
        "audit_rows": audit_rows,
    }
    timings: dict[str, float] = {}

    def step(name: str, sql: str, args: dict | None = None) -> int:
        started = time.perf_counter()
        cursor = conn.execute(sql, args)
        timings[name] = time.perf_counter() - started
        log(f"  {name}: {cursor.rowcount:,} rows", started)
        return cursor.rowcount

    with conn.transaction():
        # The audit rows are sorted by time before they are written (as an append-only log
        # lies on disk): ~270 MB per million rows, in memory up to ten million.
        conn.execute("SET LOCAL work_mem = '3GB'")
        conn.execute("SET LOCAL maintenance_work_mem = '2GB'")
        for statement in FUNCTIONS:
            conn.execute(statement)
        conn.execute("TRUNCATE channels, video_categories, videos RESTART IDENTITY CASCADE")
        # Audit rows cannot be truncated (migration 0010); the database is new, so empty.
        if conn.execute("SELECT EXISTS (SELECT FROM metadata_syncs)").fetchone()[0]:
            raise RuntimeError("metadata_syncs is not empty: build into a new database")
        before = {table: _deferred_objects(conn, table) for table in BULK_TABLES}
        for table, (indexes, foreign_keys) in before.items():
            for name in foreign_keys:
                conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
            for name in indexes:
                conn.execute(f"DROP INDEX {_quote(name)}")
        dropped = sum(len(i) + len(f) for i, f in before.values())
        log(f"  dropped {dropped} secondary indexes and foreign keys for the load")

        # Every video created within the span gets its create row when M allows.
        (created,) = conn.execute(ALLOC_COUNT_SQL, params).fetchone()
        with_base = audit_rows >= created
        params |= {"with_base": with_base, "spread": audit_rows - (created if with_base else 0)}
        step("allocation", ALLOC_SQL, params)
        conn.execute("ANALYZE bench_alloc")
        step("channels", CHANNELS_SQL, params)
        step("categories", CATEGORIES_SQL, params)
        step("videos", _videos_sql(), params)
        # The chain's head moves at commit by a deferred trigger, one queued event per row:
        # for ten million rows the head is moved here instead, once.
        conn.execute("ALTER TABLE metadata_syncs DISABLE TRIGGER audit_chain_save")
        syncs = step("metadata_syncs", _syncs_sql(len(users)), params)
        conn.execute(
            "UPDATE audit_chain_head h SET last_seq = m.chain_seq, last_hash = m.row_hash "
            "FROM (SELECT chain_seq, row_hash FROM metadata_syncs "
            "      ORDER BY chain_seq DESC LIMIT 1) m WHERE h.id = 1"
        )
        conn.execute("ALTER TABLE metadata_syncs ENABLE TRIGGER audit_chain_save")
        if syncs != audit_rows:
            raise RuntimeError(f"Generated {syncs:,} audit rows, not {audit_rows:,}")

        conn.execute(
            "UPDATE channels c SET video_count = s.videos, view_count = s.views "
            "FROM (SELECT channel_id, count(*) AS videos, coalesce(sum(views), 0) AS views "
            "      FROM videos GROUP BY channel_id) s WHERE s.channel_id = c.id"
        )
        for table in ("channels", "video_categories", "videos"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    return {"channels": channels, "metadata_syncs": syncs, "timings": timings, "deferred": before}


def _cost_order(item: tuple[str, str, str]) -> tuple:
    """The slowest builds first: GIN (single-threaded), then the big table's B-trees."""
    table, name, definition = item
    return ("USING gin" not in definition, table != "metadata_syncs", name)


def recreate(connect, before: dict, *, lanes: int = 2) -> dict[str, float]:
    """Build the dropped indexes `lanes` at a time (each its own session: a GIN build uses
    one core, a B-tree build parallel workers), then the foreign keys; check that what is
    there again is exactly what the migrations made. Returns each one's seconds."""
    seconds: dict[str, float] = {}

    def build(item: tuple[str, str, str]) -> None:
        _table, name, definition = item
        t0 = time.perf_counter()
        with connect() as conn:
            conn.execute("SET maintenance_work_mem = '2GB'")
            conn.execute(definition)
        seconds[name] = time.perf_counter() - t0
        log(f"  index {name}", t0)

    work = [
        (table, name, definition)
        for table, (indexes, _) in before.items()
        for name, definition in indexes.items()
    ]
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        for future in [pool.submit(build, item) for item in sorted(work, key=_cost_order)]:
            future.result()
    with connect() as conn:
        # Foreign keys take a lock that waits for index builds on the table: after them.
        for table, (_, foreign_keys) in before.items():
            for name, definition in foreign_keys.items():
                t0 = time.perf_counter()
                conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")
                seconds[name] = time.perf_counter() - t0
                log(f"  foreign key {name}", t0)
        after = {table: _deferred_objects(conn, table) for table in before}
    if after != before:
        raise RuntimeError(f"Recreated indexes differ from the migrated ones:\n{after}")
    return seconds


def vacuum_analyze(connect, *, lanes: int = 2) -> None:
    """VACUUM ANALYZE every table of the schema, the two big ones side by side."""
    with connect() as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public' "
                "ORDER BY pg_total_relation_size(relid) DESC"
            )
        ]

    def vacuum(table: str) -> None:
        with connect() as conn:
            conn.execute(f"VACUUM ANALYZE {_quote(table)}")

    with ThreadPoolExecutor(max_workers=lanes) as pool:
        for future in [pool.submit(vacuum, table) for table in tables]:
            future.result()


def describe(conn) -> dict:
    """Facts about the generated data the report prints (and the checks rely on)."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE hidden), count(asset_id), "
        "count(*) FILTER (WHERE search_text LIKE %s), count(DISTINCT channel_id), "
        "min(updated_at), max(updated_at) FROM videos",
        (f"%{words.SEARCH_WORD}%",),
    ).fetchone()
    big = conn.execute(
        "SELECT channel_id, count(*) FROM videos GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
    ).fetchone()
    small = conn.execute(
        "SELECT count(*) FROM videos GROUP BY channel_id ORDER BY 1 LIMIT 1"
    ).fetchone()
    keys = (*FIELDS, "video_id", "channel_id")  # what update and create rows change
    syncs, first_change, last_change, batched, *with_key = conn.execute(
        "SELECT count(*), min(sync_time), max(sync_time), count(batch_id), "
        + ", ".join("count(*) FILTER (WHERE changes ? %s)" for _ in keys)
        + " FROM metadata_syncs",
        keys,
    ).fetchone()
    fields = dict(zip(keys, with_key, strict=True))
    (instants,) = conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT sync_time FROM metadata_syncs) t"
    ).fetchone()
    sources: dict[str, int] = {}
    authors: dict[str, int] = {}
    for source, author, count in conn.execute(
        "SELECT source, coalesce(user_email, '(system)'), count(*) FROM metadata_syncs "
        "GROUP BY 1, 2"
    ):
        sources[source] = sources.get(source, 0) + count
        authors[author] = authors.get(author, 0) + count
    busiest = conn.execute(
        "SELECT v.video_id, (SELECT count(*) FROM metadata_syncs m "
        "                    WHERE m.entity_type = 'video' AND m.entity_id = v.id) "
        "FROM videos v ORDER BY v.version DESC, v.id LIMIT 1"
    ).fetchone()
    unchanged = conn.execute(
        "SELECT count(*) FROM videos v WHERE NOT EXISTS (SELECT FROM metadata_syncs m "
        "WHERE m.entity_type = 'video' AND m.entity_id = v.id)"
    ).fetchone()[0]
    # Same N, same data: a checksum over every row shows it from one run to the next.
    conn.execute("SET TimeZone = 'UTC'")
    checksum = conn.execute(
        "SELECT md5(string_agg(h::text, ',' ORDER BY t)) FROM ("
        " SELECT 'v' AS t, sum(hashtext(v::text)::numeric) AS h FROM videos v"
        " UNION ALL SELECT 'm', sum(hashtext(m::text)::numeric) FROM metadata_syncs m"
        " UNION ALL SELECT 'c', sum(hashtext(c::text)::numeric) FROM channels c) s"
    ).fetchone()[0]
    return {
        "videos": row[0],
        "hidden": row[1],
        "with_asset_id": row[2],
        "search_matches": row[3],
        "channels": row[4],
        "first_update": row[5].isoformat(),
        "last_update": row[6].isoformat(),
        "biggest_channel": {"id": big[0], "videos": big[1]},
        "smallest_channel_videos": small[0],
        "metadata_syncs": syncs,
        "audit": {
            "rows": syncs,
            "distinct_instants": instants,
            "first": first_change.isoformat() if first_change else None,
            "last": last_change.isoformat() if last_change else None,
            "with_batch_id": batched,
            "sources": sources,
            "fields": fields,
            "authors": authors,
            "busiest_video": {"video_id": busiest[0], "rows": busiest[1]},
            "videos_without_rows": unchanged,
        },
        "checksum": checksum,
    }
