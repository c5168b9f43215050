import itertools
import random
import string

import factory

from catalog.models import Video
from tests.factories.base import Base
from tests.factories.channels import ChannelFactory

_ids = itertools.count(1)


def youtube_id(n: int) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    rng = random.Random(n)
    return "".join(rng.choice(alphabet) for _ in range(11))


class VideoFactory(Base):
    class Meta:
        model = Video

    video_id = factory.LazyFunction(lambda: youtube_id(next(_ids) + random.getrandbits(32)))
    title = factory.Sequence(lambda n: f"Song number {n}")
    artist = factory.LazyFunction(lambda: ["The Testers"])
    genre = factory.LazyFunction(lambda: ["Pop"])
    channel = factory.SubFactory(ChannelFactory)
    channel_display_name = factory.LazyAttribute(lambda v: v.channel.name if v.channel else None)
    privacy_status = "public"
    views = 1000
