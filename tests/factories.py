"""Test data. The session and the password hash come from the fixtures (conftest.py)."""

import itertools
import random
import string
import uuid
from types import SimpleNamespace

import factory
from sqlalchemy import select

from catalog.models import Channel, Role, User, Video, VideoCategory

state = SimpleNamespace(session=None, password_hash=None)
_ids = itertools.count(1)


def use_session(session, password_hash: str) -> None:
    state.session = session
    state.password_hash = password_hash


def _session():
    return state.session


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _session
        sqlalchemy_session_persistence = "flush"


def youtube_id(n: int) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    rng = random.Random(n)
    return "".join(rng.choice(alphabet) for _ in range(11))


class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}-{uuid.uuid4().hex[:6]}@example.com")
    active = True
    fs_uniquifier = factory.LazyFunction(lambda: uuid.uuid4().hex)
    password = factory.LazyFunction(lambda: state.password_hash)

    @factory.post_generation
    def roles(self, create, names, **kwargs):
        for name in names or ():
            self.roles.append(state.session.scalars(select(Role).where(Role.name == name)).one())
        state.session.flush()


class ChannelFactory(_Base):
    class Meta:
        model = Channel

    channel_id = factory.Sequence(lambda n: f"UC{n:022d}")
    name = factory.Sequence(lambda n: f"Channel {n}")
    country = "US"


class CategoryFactory(_Base):
    class Meta:
        model = VideoCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class VideoFactory(_Base):
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


# Custom fields. Imported here, beside their factories, so that this block stays one append.
from catalog.models import CustomField, FieldSchema, SchemaField  # noqa: E402


class CustomFieldFactory(_Base):
    """A text field by default; pass field_type and config for the others, e.g.
    CustomFieldFactory(field_type="rating", config={"max_rating": 5})."""

    class Meta:
        model = CustomField

    name = factory.Sequence(lambda n: f"Field {n}")
    field_type = "text"
    config = factory.LazyFunction(dict)


class FieldSchemaFactory(_Base):
    """FieldSchemaFactory(members=[rating, (mood, True)], channels=[channel]): the schema's
    fields in display order, a (field, True) pair shown on cards; no channels = every video."""

    class Meta:
        model = FieldSchema

    name = factory.Sequence(lambda n: f"Schema {n}")
    channels = factory.LazyFunction(list)

    @factory.post_generation
    def members(self, create, members, **kwargs):
        for position, member in enumerate(members or (), start=1):
            field, on_card = member if isinstance(member, tuple) else (member, False)
            self.fields.append(
                SchemaField(field=field, display_order=position, show_on_card=on_card)
            )
        state.session.flush()
