"""Lookups: what the file names that the catalog holds by name or key. The columns named
as custom fields (the catalog's export) are found before the rows are read (step 2), as
they decide how a cell is checked. Step 3: the categories (by name or slug), and the
channels: the report's channels that the catalog does not know are created, renamed ones
take the report's name; both audited (entity "channel"), set-based.
"""

import dataclasses

from sqlalchemy import select, text

from catalog.audit import DISPLAY_NAME_MAX
from catalog.extensions import db
from catalog.models import CustomField
from catalog.reports.formats import Layout, custom_field, normalize
from catalog.reports.importer.checking import cell_sql
from catalog.reports.importer.outcome import Outcome
from catalog.reports.importer.sql import run_sql
from catalog.reports.importer.writing import COLLECT
from catalog.web.text import plural


def with_custom_fields(layout: Layout) -> Layout:
    """The layout with the columns named as custom fields are (the catalog's export has one
    per field): their definitions are read, and held still (FOR SHARE) until the import
    ends, so the values are checked against the options and maximum they keep."""
    if layout.format.key != "catalog" or not layout.ignored:
        return layout
    wanted = {normalize(name) for name in layout.ignored}
    names = db.session.execute(select(CustomField.id, CustomField.name)).all()
    ids = [field_id for field_id, name in names if normalize(name) in wanted]
    if not ids:
        return layout
    definitions = db.session.scalars(
        select(CustomField)
        .where(CustomField.id.in_(ids))
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).all()
    by_name = {normalize(d.name): d for d in definitions}
    fields, custom = dict(layout.fields), {}
    taken = set(fields.values())
    for index, header in enumerate(layout.header):
        definition = by_name.get(normalize(header))
        if definition is None or index in taken:
            continue
        spec = custom_field(
            definition.id, definition.name, definition.field_type, definition.config or {}
        )
        if spec.name in fields:  # the first of two same-named columns wins
            continue
        fields[spec.name], custom[spec.name] = index, spec
    used = {layout.header[index].strip() for index in (fields[n] for n in custom)}
    ignored = [name for name in layout.ignored if name not in used]
    return dataclasses.replace(layout, fields=fields, custom=custom, ignored=tuple(ignored))


def category_lookup(layout: Layout) -> None:
    """import_categories: each category name of the staged file and the catalog's category
    it names (by name or slug, ignoring case), NULL when none. Built from the staged text,
    before the rows are read, as the rows known unchanged are found with it."""
    if "category" not in layout.fields:
        return
    run_sql("DROP TABLE IF EXISTS pg_temp.import_categories")
    run_sql(f"""
CREATE TEMP TABLE import_categories ON COMMIT DROP AS
SELECT n.name, (
  SELECT c.id FROM video_categories c
  WHERE lower(c.name) = lower(n.name) OR c.slug = lower(n.name)
     OR c.slug = btrim(regexp_replace(lower(n.name), '[^a-z0-9]+', '-', 'g'), '-')
  ORDER BY lower(c.name) = lower(n.name) DESC, c.slug = lower(n.name) DESC, c.id LIMIT 1
) AS id
FROM (SELECT DISTINCT {cell_sql(layout, "category")} AS name FROM import_raw r) n
WHERE n.name IS NOT NULL
""")
    run_sql("ANALYZE import_categories")  # a few rows: joined by hashing, not by sorting


def categories(outcome: Outcome, layout: Layout) -> None:
    """The note on the category names of accepted rows that name no category."""
    if "category" not in layout.fields:
        return
    unknown = run_sql(
        "SELECT r.category, count(*) FROM import_rows r "
        "JOIN import_categories c ON c.name = r.category "
        "WHERE r.ok AND c.id IS NULL GROUP BY r.category ORDER BY count(*) DESC"
    ).all()
    if unknown:
        shown = ", ".join(f"{name} ({plural(rows, 'row')})" for name, rows in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        outcome.notes.append(
            f"Categories the catalog does not have were left as they were: {shown}{more}."
        )


def channels(outcome: Outcome, layout: Layout, params: dict) -> None:
    """Create the report's unknown channels and rename the renamed, audited like
    catalog.channels.service.ensure_channel (which does it one channel at a time): an
    unknown id creates the channel, named as the report names it (or by its id); a known
    one takes the report's latest non-blank name. The rows were checked by the service's
    own rules (formats.FIELDS: its id pattern, its name limit), and the audit rows are the
    ones it writes: the same changes, the name snapshot cut as audit.entity_row cuts it
    (tests/reports/test_channel_rules.py compares them)."""
    if "channel_key" not in layout.fields:
        return
    # The latest non-blank name of each channel, by hashing (no sort of a million rows).
    name = "channel_name" if "channel_name" in layout.fields else "NULL::text"
    picked = "r.channel_name" if "channel_name" in layout.fields else "NULL::text"
    run_sql("DROP TABLE IF EXISTS pg_temp.import_channels")
    # The accepted rows: those read (step 2) and those known unchanged (unchanged.py).
    run_sql(f"""
CREATE TEMP TABLE import_channels ON COMMIT DROP AS
WITH accepted AS MATERIALIZED (
  SELECT row_no, channel_key, {name} AS channel_name FROM import_rows WHERE ok
  UNION ALL SELECT row_no, channel_key, channel_name FROM import_same
)
SELECT k.channel_key, {picked} AS channel_name
FROM (SELECT channel_key, max(row_no) FILTER (WHERE channel_name IS NOT NULL) AS named
      FROM accepted WHERE channel_key IS NOT NULL GROUP BY channel_key) k
LEFT JOIN accepted r ON r.row_no = k.named
""")
    outcome.channels_created = db.session.scalar(
        text(
            f"""
WITH created AS (
  INSERT INTO channels (channel_id, name)
  SELECT channel_key, coalesce(channel_name, channel_key) FROM import_channels
  ORDER BY channel_key
  ON CONFLICT (channel_id) DO NOTHING
  RETURNING id, channel_id, name
), audited AS (
  {COLLECT}
  SELECT 'channel', id, channel_id, NULL, left(name, {DISPLAY_NAME_MAX}), 'create',
         jsonb_build_object('channel_id', jsonb_build_array(NULL, channel_id),
                            'name', jsonb_build_array(NULL, name))
  FROM created RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
    outcome.channels_renamed = db.session.scalar(
        text(
            f"""
WITH renamed AS (
  SELECT c.id, c.name AS old_name, i.channel_name AS new_name
  FROM channels c JOIN import_channels i ON i.channel_key = c.channel_id
  WHERE i.channel_name IS NOT NULL AND c.name <> i.channel_name
  ORDER BY c.id FOR NO KEY UPDATE OF c
), updated AS (
  UPDATE channels c SET name = r.new_name, updated_at = now() FROM renamed r
  WHERE c.id = r.id RETURNING c.id, c.channel_id, c.name, r.old_name
), audited AS (
  {COLLECT}
  SELECT 'channel', id, channel_id, NULL, left(name, {DISPLAY_NAME_MAX}), 'update',
         jsonb_build_object('name', jsonb_build_array(old_name, name))
  FROM updated RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
