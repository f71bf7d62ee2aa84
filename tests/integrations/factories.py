from __future__ import annotations

import secrets

import factory

from integrations.models import Connection
from tests.adplatform.factories import OrganizationFactory
from tests.integrations.fake import FAKE, make_platform


class FakeConnectionFactory(factory.django.DjangoModelFactory):
    """A connection to a fresh fake platform (see tests/integrations/fake.py)."""

    class Meta:
        model = Connection
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    platform = "meta"
    connector = FAKE
    access_token = "good-token"
    refresh_token = "good-refresh"
    extra = factory.LazyFunction(lambda: {"world": secrets.token_hex(6)})

    @factory.post_generation
    def remote(self, create: bool, extracted: object, **kwargs: object) -> None:
        make_platform(self.extra["world"], **kwargs)  # type: ignore[arg-type]
