import factory

from catalog.models import VideoCategory
from tests.factories.base import Base


class CategoryFactory(Base):
    class Meta:
        model = VideoCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
