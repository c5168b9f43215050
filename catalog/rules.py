"""The one way a service says no.

A service that refuses an action raises RuleError (or a subclass) before anything is
committed: the caller rolls back, and the web layer (catalog.web.actions) turns the refusal
into a message on the form field it names, or a flash; the CLI prints it; a JSON API
answers with it. Services of every area raise it, so it lives beside them, not in the web
layer they must not import."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from catalog.extensions import db


class RuleError(ValueError):
    """A rule refused the action and nothing was written. `field` names the form field the
    message belongs to (None: the action as a whole); `messages` are one or more reasons,
    each a sentence for people."""

    def __init__(
        self, message: str, field: str | None = None, *, messages: list[str] | None = None
    ):
        super().__init__(message)
        self.field = field
        self.messages = list(messages) if messages else [message]


@contextmanager
def refused_when_taken(constraint: str, refusal: RuleError) -> Iterator[None]:
    """Write what the block changes in a savepoint. A concurrent transaction can take a
    unique value (a name, a slug) between a service's check and its write; the unique index
    `constraint` then refuses it, and `refusal` is raised, as the check would have."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == constraint:
            raise refusal from exc
        raise
