from __future__ import annotations

import factory

from notifications.models import (
    NotificationPreference,
    NotificationSettings,
    NotificationTemplate,
    WebhookEndpoint,
)
from notifications.registry import Priority
from tests.adplatform.factories import OrganizationFactory, UserFactory


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Hook {n}")
    url = "http://127.0.0.1:9/hook"
    url_hint = "http://127.0.0.1:9/…"
    secret = "whsec_test_secret_0123456789"
    types: list[str] = []
    min_priority = Priority.LOW


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    type = "budget_alert"
    email = True
    web_push = True
    min_priority = Priority.MEDIUM


class NotificationSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationSettings

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    time_zone = "UTC"


class NotificationTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationTemplate

    organization = factory.SubFactory(OrganizationFactory)
    type = "budget_alert"
