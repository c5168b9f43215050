"""Step 6, writing (not for a preview): UPDATE the changed videos (version + 1, updated_at)
and INSERT the new ones, collecting each one's audit row in `import_audit` (as the channel
lookup does for channels); the audit rows (source "report", the report's id, one batch id
whose first row carries the batch's size) are written last, in one statement, just before
the commit: the first audit row of a transaction holds the audit hash chain until commit
(migration 0010), and every other writer waits for it. Unchanged videos write nothing.
The GIN indexes' pending lists are merged once, at the end.
"""

from sqlalchemy import select, text
from sqlalchemy import sql as sa_sql
from sqlalchemy.exc import DBAPIError

from catalog.extensions import db
from catalog.reports.formats import Field, Layout
from catalog.reports.importer.merge import CUSTOM_OLD
from catalog.reports.importer.outcome import Clock, ConcurrentChange, Outcome
from catalog.reports.importer.sql import run_sql
from catalog.videos.service import lock_videos
from catalog.web.text import plural

AUDIT_WHO = ":user_id, :user_email, CAST(:batch_id AS uuid), :report_id"


def collect_audit() -> None:
    """The audit rows of what this import writes, collected until record_audit."""
    run_sql("DROP TABLE IF EXISTS pg_temp.import_audit")
    run_sql(
        "CREATE TEMP TABLE import_audit (position bigint GENERATED ALWAYS AS IDENTITY, "
        "entity_type text, entity_id bigint, entity_key text, video_title text, "
        "channel_display_name text, action text, changes jsonb) ON COMMIT DROP"
    )


COLLECT = (
    "INSERT INTO import_audit (entity_type, entity_id, entity_key, video_title, "
    "channel_display_name, action, changes) "
)


def record_audit(params: dict) -> None:
    """Write the collected audit rows in one statement, in the order they were collected;
    the first carries the batch's size. Last thing before the commit (see the module's
    docstring)."""
    db.session.execute(
        text(f"""
INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, video_title,
    channel_display_name, action, source, changes, user_id, user_email, batch_id, report_id,
    batch_size)
SELECT entity_type, entity_id, entity_key, video_title, channel_display_name, action,
       'report', changes, {AUDIT_WHO},
       CASE WHEN position = min(position) OVER () THEN count(*) OVER () END
FROM import_audit ORDER BY position
"""),
        params,
    )


def _audited(action: str, changes: str) -> str:
    """The audit rows of the videos a statement returned as `x` (joined to import_diff d)."""
    return (
        f"{COLLECT} SELECT 'video', x.id, x.video_id, x.title, x.channel_display_name, "
        f"'{action}', {changes}"
    )


def write_videos(outcome: Outcome, layout: Layout, columns: list[str], params: dict) -> None:
    """Write the changed and the new videos, their custom values and their audit rows;
    ConcurrentChange when a video moved on (or appeared) since it was compared."""
    if not columns and not layout.custom:
        return
    clock = Clock()
    # The videos to update, locked first and in id order, as every writer of many videos
    # takes them: the UPDATE's join meets them in whatever order its plan produces (the
    # file's, say), which deadlocks with a bulk edit or an undo of the same videos.
    diff = sa_sql.table("import_diff", sa_sql.column("id"))
    lock_videos(select(diff.c.id).where(diff.c.id.is_not(None)))
    updated = db.session.scalar(
        text(
            f"""
WITH x AS (
  UPDATE videos v SET {"".join(f"{c} = d.{c}, " for c in columns)}
         version = v.version + 1, updated_at = now()
  FROM import_diff d
  WHERE d.id IS NOT NULL AND v.id = d.id AND v.version = d.old_version
  RETURNING v.id, v.video_id, v.title, v.channel_display_name
), audited AS (
  {_audited("update", "d.changes")}
  FROM x JOIN import_diff d ON d.id = x.id RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
    if updated != outcome.updated:
        raise ConcurrentChange(f"{plural(outcome.updated - updated, 'video')} changed meanwhile")
    outcome.timings["update"] = clock.lap()
    created_changes = (
        "jsonb_build_object('video_id', jsonb_build_array(NULL, x.video_id)) || d.changes"
    )
    # New videos are inserted in video_id order: two imports bringing the same new videos
    # then claim their ids in one order, one waiting for the other, instead of each holding
    # an id the other is inserting (a deadlock on the unique index).
    created = db.session.scalar(
        text(
            f"""
WITH x AS (
  INSERT INTO videos (video_id, {", ".join(columns)})
  SELECT video_id, {", ".join(columns)} FROM import_diff WHERE id IS NULL ORDER BY video_id
  ON CONFLICT (video_id) DO NOTHING
  RETURNING id, video_id, title, channel_display_name
), audited AS (
  {_audited("create", created_changes)}
  FROM x JOIN import_diff d ON d.video_id = x.video_id AND d.id IS NULL RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
    if created != outcome.created:
        raise ConcurrentChange(f"{plural(outcome.created - created, 'video')} created meanwhile")
    outcome.timings["insert"] = clock.lap()
    for name, spec in layout.custom.items():
        _write_custom(name, spec)
    if updated or created:
        clean_gin_pending_lists(("videos", "channels"))
        outcome.timings["gin"] = clock.lap()


def _write_custom(name: str, spec: Field) -> None:
    """Write the changed values of one custom field's column (the videos are written
    already, so the new ones have their ids): upsert the values, delete the emptied ones."""
    column = CUSTOM_OLD[spec.kind].split("::")[0]
    run_sql(f"""
WITH target AS (
  SELECT v.id AS video_id, d.{name} AS value
  FROM import_diff d JOIN videos v ON v.video_id = d.video_id
  WHERE d.{name}__changed ORDER BY v.id
), removed AS (
  DELETE FROM video_field_values f USING target t
  WHERE f.video_id = t.video_id AND f.field_id = {spec.field_id} AND t.value IS NULL
)
INSERT INTO video_field_values (video_id, field_id, {column})
SELECT video_id, {spec.field_id}, value FROM target WHERE value IS NOT NULL
ON CONFLICT ON CONSTRAINT uq_video_field_values_video_id_field_id
DO UPDATE SET {column} = EXCLUDED.{column}, updated_at = now()
""")


def clean_gin_pending_lists(written: tuple[str, ...]) -> None:
    """Merge the GIN indexes' pending lists into the indexes, once, in bulk.

    Every video an import changes is updated outside HOT (views and updated_at are indexed),
    so each one adds its ~50 search trigrams to the GIN index's pending list. With the
    default limit (4 MB) the list is merged again and again during the import, which costs
    more than the rest of the UPDATE; the import raises the limit for its own transaction
    (pipeline._prepare) and merges once here, at the end, instead of leaving a long list for
    the next writer (a person saving a video) to merge. Needs the indexes' owner: without that
    right the merge is left to autovacuum."""
    tables = ", ".join(f"'{table}'::regclass" for table in written)
    names = run_sql(
        "SELECT i.indexrelid::regclass::text FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        f"WHERE am.amname = 'gin' AND i.indrelid IN ({tables})"
    ).scalars()
    for name in list(names):
        savepoint = db.session.begin_nested()
        try:
            db.session.execute(
                text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": name}
            )
        except DBAPIError:
            savepoint.rollback()
        else:
            savepoint.commit()
