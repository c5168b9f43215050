import factory

from catalog.models import Channel
from tests.factories.base import Base


class ChannelFactory(Base):
    class Meta:
        model = Channel

    channel_id = factory.Sequence(lambda n: f"UC{n:022d}")
    name = factory.Sequence(lambda n: f"Channel {n}")
    country = "US"
