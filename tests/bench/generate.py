"""A deterministic, set-based catalog generator: the same N always gives the same rows.

Every value is a function of the row number through ``hashint8extended`` (PostgreSQL's
portable 64-bit hash, the one hash partitioning relies on), so there is no random seed and
no client round trip per row: each table is one INSERT ... SELECT over generate_series.

The load is one transaction: the tables are truncated (so with wal_level=minimal nothing
is WAL-logged), the secondary indexes and foreign keys of `videos` and `metadata_syncs`
are dropped, the rows inserted, then the very definitions read from the catalog
(pg_get_indexdef / pg_get_constraintdef) are executed again and compared with what was
there before. Should anything fail, the rollback leaves the migrated schema untouched.
"""

import time
from dataclasses import dataclass

from tests.bench import words
from tests.bench.database import log

# The data spans the two years before this instant; a fixed anchor keeps it reproducible.
END = "timestamptz '2026-11-01 00:00:00+00'"
START = f"({END} - interval '730 days')"
YEAR_SECONDS = 365 * 86400
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


def sync_count(n: str) -> str:
    """How many audit rows a video has (1..8, mean ~2.5), before the create row rule."""
    r, r2 = u(n, 60), u(n, 61)
    return (
        f"(CASE WHEN {r} < 0.35 THEN 1 WHEN {r} < 0.60 THEN 2 WHEN {r} < 0.80 THEN 3 "
        f"WHEN {r} < 0.92 THEN 4 ELSE 5 + floor(4 * {r2})::int END)"
    )


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


def _artist(index: str) -> str:
    return (
        f"(w.first_names[1 + ({index}) %% 40] || ' ' || w.last_names[1 + (({index}) / 40) %% 40])"
    )


def _videos_sql() -> str:
    # Every uniform is computed once per row in `g` (OFFSET 0 keeps it from being inlined).
    salts = [*range(1, 60), 62]  # 60 and 61 are the audit row count's (sync_count)
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
    in_window = "r30 < 0.12"
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
    r29 < 0.001,
    g.created_at - interval '1 day' * floor(400 * r31),
    CASE WHEN r32 < 0.05 THEN {pick("w.notes", "r33")} END,
    g.created_at,
    g.updated_at,
    -- one more than the video's update rows (see the audit generator)
    1 + greatest({sync_count("n")}, CASE WHEN {in_window} THEN 2 ELSE 1 END)
      - CASE WHEN {in_window} THEN 1 ELSE 0 END
FROM (
    SELECT s.*,
           CASE WHEN {in_window} THEN {START} + (updated_at - {START}) * r34
                ELSE {START} - interval '1 second' * (1 + floor(3 * {YEAR_SECONDS} * r34))
           END AS created_at
    FROM (
        SELECT r.*,
               {START} + interval '1 second' * floor(2 * {YEAR_SECONDS} * r35) AS updated_at,
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
            SELECT n,
                   {uniforms}
            FROM generate_series(1, %(videos)s) n
            OFFSET 0
        ) r, w
        OFFSET 0
    ) s
) g
JOIN channels c ON c.id = g.channel, w
ORDER BY n
"""


def _syncs_sql() -> str:
    # Per audit row uniforms: seeded by (video id, row number j); j <= 8 < 16.
    def ru(salt: int) -> str:
        return u("v.id * 16 + j", salt)

    in_window = f"v.created_at >= {START}"
    lo = f"greatest(v.created_at, {START})"
    sync_time = (
        f"CASE WHEN j = k THEN v.updated_at "
        f"WHEN j = 1 AND {in_window} THEN v.created_at "
        f"ELSE {lo} + (v.updated_at - {lo}) * ((j - 1 + {ru(50)}) / k) END"
    )
    update_source = (
        "CASE WHEN rs < 0.50 THEN 'web' WHEN rs < 0.70 THEN 'bulk' "
        "WHEN rs < 0.90 THEN 'report' ELSE 'worker' END"
    )
    views_new = "floor(coalesce(v.views, 0) * (j::float8 / k))::bigint"
    views_old = "floor(coalesce(v.views, 0) * ((j - 1)::float8 / k))::bigint"
    changes = f"""CASE WHEN action = 'create' THEN jsonb_build_object(
            'video_id', jsonb_build_array(NULL, v.video_id),
            'title', jsonb_build_array(NULL, v.title),
            'channel_id', jsonb_build_array(NULL, v.channel_id))
        WHEN rf < 0.45 THEN jsonb_build_object('views', jsonb_build_array({views_old}, {views_new}))
        WHEN rf < 0.55 THEN jsonb_build_object('privacy_status',
            jsonb_build_array(CASE WHEN v.privacy_status = 'public' THEN 'unlisted'
                                   ELSE 'public' END, v.privacy_status))
        WHEN rf < 0.65 THEN jsonb_build_object('claimed_status',
            jsonb_build_array(NULL, coalesce(v.claimed_status, 'claim')))
        WHEN rf < 0.75 THEN jsonb_build_object('title',
            jsonb_build_array(lower(v.title), v.title))
        WHEN rf < 0.83 THEN jsonb_build_object('asset_id', jsonb_build_array(NULL, v.asset_id))
        WHEN rf < 0.93 THEN jsonb_build_object({pick("w.monetization", ru(53))},
            jsonb_build_array('No', 'Yes'))
        ELSE jsonb_build_object('notes', jsonb_build_array(NULL, {pick("w.notes", ru(54))}))
        END"""
    return f"""
WITH {WORDS_CTE}
INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, video_title,
                            channel_display_name, action, source, changes, user_id,
                            user_email, batch_id, sync_time)
SELECT 'video', id, video_id, title, channel_display_name, action, source, changes,
       user_id, user_email,
       CASE WHEN source IN ('bulk', 'report')
            THEN md5(source || floor(extract(epoch FROM sync_time) / 3600)::text)::uuid END,
       sync_time
FROM (
    SELECT v.id, v.video_id, v.title, v.channel_display_name, r.action, s.source,
           {changes} AS changes,
           CASE WHEN s.source = 'worker' THEN %(worker_id)s
                ELSE (%(user_ids)s::int[])[1 + floor(ru * %(user_count)s)::int]
           END AS user_id,
           CASE WHEN s.source = 'worker' THEN %(worker_email)s
                ELSE (%(user_emails)s::text[])[1 + floor(ru * %(user_count)s)::int]
           END AS user_email,
           {sync_time} AS sync_time
    FROM videos v
    CROSS JOIN LATERAL (
        SELECT greatest({sync_count("v.id")},
                        CASE WHEN {in_window} THEN 2 ELSE 1 END) AS k
    ) kk
    CROSS JOIN LATERAL generate_series(1, kk.k) j
    CROSS JOIN LATERAL (
        SELECT {ru(51)} AS rs, {ru(52)} AS rf, {ru(55)} AS ru,
               CASE WHEN j = 1 AND {in_window} THEN 'create' ELSE 'update' END AS action
    ) r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.action = 'create'
                    THEN CASE WHEN rs < 0.6 THEN 'report' ELSE 'web' END
                    ELSE {update_source} END AS source
    ) s
    CROSS JOIN w
) x
ORDER BY sync_time, id, action
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


def load(conn, videos: int, users: list[BenchUser], worker: BenchUser) -> dict:
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
    }
    timings: dict[str, float] = {}

    def step(name: str, sql: str, args: dict | None = None) -> int:
        started = time.perf_counter()
        cursor = conn.execute(sql, args)
        timings[name] = time.perf_counter() - started
        log(f"  {name}: {cursor.rowcount:,} rows", started)
        return cursor.rowcount

    with conn.transaction():
        conn.execute("SET LOCAL work_mem = '1GB'")
        conn.execute("SET LOCAL maintenance_work_mem = '2GB'")
        for statement in FUNCTIONS:
            conn.execute(statement)
        conn.execute(
            "TRUNCATE channels, video_categories, videos, metadata_syncs RESTART IDENTITY CASCADE"
        )
        before = {table: _deferred_objects(conn, table) for table in BULK_TABLES}
        for table, (indexes, foreign_keys) in before.items():
            for name in foreign_keys:
                conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
            for name in indexes:
                conn.execute(f"DROP INDEX {_quote(name)}")
        dropped = sum(len(i) + len(f) for i, f in before.values())
        log(f"  dropped {dropped} secondary indexes and foreign keys for the load")

        step("channels", CHANNELS_SQL, params)
        step("categories", CATEGORIES_SQL, params)
        step("videos", _videos_sql(), params)
        syncs = step("metadata_syncs", _syncs_sql(), params)

        started = time.perf_counter()
        for table, (indexes, foreign_keys) in before.items():
            for name, definition in foreign_keys.items():
                t0 = time.perf_counter()
                conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")
                log(f"  foreign key {name}", t0)
            for name, definition in indexes.items():
                t0 = time.perf_counter()
                conn.execute(definition)
                log(f"  index {name}", t0)
        timings["indexes"] = time.perf_counter() - started
        after = {table: _deferred_objects(conn, table) for table in BULK_TABLES}
        if after != before:
            raise RuntimeError(f"Recreated indexes differ from the migrated ones:\n{after}")

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
    return {"channels": channels, "metadata_syncs": syncs, "timings": timings}


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
    syncs = conn.execute("SELECT count(*) FROM metadata_syncs").fetchone()[0]
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
        "checksum": checksum,
    }
