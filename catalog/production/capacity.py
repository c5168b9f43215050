"""A channel's production capacity: how many of its tasks may be in production at once (the
fair claim skips a channel at it). Changed by editors on the channel's production page and
audited as a change of the channel."""

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import Channel, User
from catalog.production import service
from catalog.rules import RuleError

# The column is an INTEGER; a capacity beyond this is no limit anyone means.
CAPACITY_MAX = 10_000


def set_capacity(channel: Channel, capacity: int, *, actor: User, source: str = "web") -> bool:
    """Set `channel`'s production capacity (0 pauses its intake); whether it changed. The
    audit row is the channel's: {"production_capacity": [old, new]}."""
    from catalog.channels.service import CHANNEL  # how channels are named in the audit

    service.require_editor(actor)
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise RuleError("The capacity is a whole number.", field="capacity")
    if not 0 <= capacity <= CAPACITY_MAX:
        raise RuleError(f"The capacity is from 0 to {CAPACITY_MAX:,}.", field="capacity")
    channel = db.session.scalars(
        select(Channel)
        .where(Channel.id == channel.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if channel.production_capacity == capacity:
        return False
    old, channel.production_capacity = channel.production_capacity, capacity
    db.session.flush()
    CHANNEL.record(
        channel, "update", {"production_capacity": [old, capacity]}, actor=actor, source=source
    )
    return True
