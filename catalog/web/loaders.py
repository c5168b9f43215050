"""Loading the row a URL names, or answering 404.

Ids in URLs are PostgreSQL integers: the `<id:name>` converter matches only 0 to 2**31 - 1,
so a larger number is a page that does not exist (404), not a query PostgreSQL refuses
(500)."""

from typing import TypeVar

from flask import abort
from sqlalchemy import Select
from werkzeug.routing import IntegerConverter

from catalog.extensions import db
from catalog.web.forms import INT_MAX

T = TypeVar("T")


class IdConverter(IntegerConverter):
    """`<id:report_id>`: a whole number in the range of an INTEGER id column."""

    def __init__(self, map, *args, **kwargs) -> None:
        # 0 matches, though no row has it: the route's permission check then comes first,
        # as for any missing row (403 to whoever may not look, 404 to whoever may). Past
        # INTEGER nothing can be looked up: 404 at once.
        super().__init__(map, min=0, max=INT_MAX)


def load_or_404(statement: Select, *, lock: bool = False):
    """The first entity `statement` selects, else abort with 404. `lock`: a change reads the
    row it is about to change under a row lock (FOR UPDATE of the selected entity only)."""
    if lock:
        statement = statement.with_for_update(of=statement.column_descriptions[0]["entity"])
    found = db.session.scalars(statement).unique().first()
    if found is None:
        abort(404)
    return found
