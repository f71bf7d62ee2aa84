from __future__ import annotations

import uuid

import factory
from pydantic import SecretStr

from agents.models import CallStatus, LLMCall, LLMProviderConfig, ProviderKind
from tests.adplatform.factories import OrganizationFactory


class LLMProviderConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LLMProviderConfig

    organization = factory.SubFactory(OrganizationFactory)
    provider = ProviderKind.OPENAI
    model = "gpt-4o-mini"
    api_key = factory.LazyFunction(lambda: SecretStr("sk-test-config-key-0123456789"))
    # Far from the small priorities tests set explicitly, so they never collide.
    priority = factory.Sequence(lambda n: 1000 + n)
    timeout_seconds = 5.0


class LLMCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LLMCall

    organization = factory.SubFactory(OrganizationFactory)
    run_id = factory.LazyFunction(uuid.uuid4)
    attempt = 1
    agent = "summarizer"
    task = "summarize_metrics"
    provider = ProviderKind.OPENAI
    model = "gpt-4o-mini"
    status = CallStatus.OK
    requests = 1
