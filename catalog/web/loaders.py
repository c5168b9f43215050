"""Loading the row a URL names, or answering 404.

Ids in URLs are PostgreSQL integers: the `<id:name>` converter matches only 1 to 2**31 - 1,
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
    """`<id:report_id>`: a positive integer in the range of an INTEGER id column."""

    def __init__(self, map, *args, **kwargs) -> None:
        super().__init__(map, min=1, max=INT_MAX)


def load_or_404(statement: Select, *, lock: bool = False):
    """The first entity `statement` selects, else abort with 404. `lock`: a change reads the
    row it is about to change under a row lock (FOR UPDATE of the selected entity only)."""
    if lock:
        statement = statement.with_for_update(of=statement.column_descriptions[0]["entity"])
    found = db.session.scalars(statement).unique().first()
    if found is None:
        abort(404)
    return found
