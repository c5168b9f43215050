"""The one way a service says no.

A service that refuses an action raises RuleError (or a subclass) before anything is
committed: the caller rolls back, and the web layer (catalog.web.actions) turns the refusal
into a message on the form field it names, or a flash; the CLI prints it; a JSON API
answers with it. Services of every area raise it, so it lives beside them, not in the web
layer they must not import."""


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
