"""The video list as a CSV export reads it: every matching video, in the list's order."""

from collections.abc import Iterator

from sqlalchemy import select, tuple_

from catalog.extensions import db
from catalog.models import Video, VideoCategory
from catalog.videos import queries
from catalog.videos.menus import FieldChoice

EXPORT_BATCH = 2000


def export_rows(state: queries.ListState, fields: list[FieldChoice]) -> Iterator:
    """Every video the list's filters match, in the list's order, with its category name and
    custom values ({field id: value}): keyset batches, so memory stays flat at any size and
    no transaction is held open by a server-side cursor."""
    by_id = {field.id: field for field in fields}
    cursor = None
    while True:
        ids, key, row_id = queries.ordered_ids(state, by_id)
        if cursor is not None:
            position, bound = tuple_(key, row_id), tuple_(*cursor)
            ids = ids.where(position < bound if state.desc else position > bound)
        order = (key.desc(), row_id.desc()) if state.desc else (key, row_id)
        batch = ids.order_by(*order).limit(EXPORT_BATCH).subquery("batch")
        statement = (
            select(Video, VideoCategory.name.label("category_name"), batch.c.sort_key)
            .join(batch, batch.c.id == Video.id)
            .outerjoin(VideoCategory, VideoCategory.id == Video.category_id)
            .order_by(batch.c.sort_key.desc() if state.desc else batch.c.sort_key,
                      Video.id.desc() if state.desc else Video.id)
        )  # fmt: skip
        if fields:
            statement = queries.with_card_values(statement, batch, tuple(by_id))
        rows = db.session.execute(statement).all()
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        cursor = (rows[-1].sort_key, rows[-1].Video.id)
        db.session.expunge_all()  # the identity map would otherwise grow with every batch
