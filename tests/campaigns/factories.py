from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from campaigns.models import (
    ActorKind,
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignChange,
    ChangeKind,
    ChangeStatus,
    Creative,
    DailyMetric,
    Platform,
    SyncRun,
    SyncStatus,
)
from tests.adplatform.factories import OrganizationFactory


class AdAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdAccount

    organization = factory.SubFactory(OrganizationFactory)
    platform = Platform.META
    external_id = factory.Sequence(lambda n: f"act_{1000 + n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    currency = "USD"
    time_zone = "UTC"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    ad_account = factory.SubFactory(AdAccountFactory)
    organization = factory.SelfAttribute("ad_account.organization")
    external_id = factory.Sequence(lambda n: f"c{n}")
    name = factory.Sequence(lambda n: f"Campaign {n}")
    daily_budget = Decimal("100.00")


class AdGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdGroup

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    external_id = factory.Sequence(lambda n: f"g{n}")
    name = factory.Sequence(lambda n: f"Ad group {n}")


class CreativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creative

    ad_account = factory.SubFactory(AdAccountFactory)
    organization = factory.SelfAttribute("ad_account.organization")
    external_id = factory.Sequence(lambda n: f"cr{n}")
    headline = "Save 20% today"
    body = "Shop the spring collection."


class AdFactory(factory.django.DjangoModelFactory):
    """Organization flows up from the account: pass `ad_group__campaign__ad_account__organization`."""

    class Meta:
        model = Ad

    ad_group = factory.SubFactory(AdGroupFactory)
    campaign = factory.SelfAttribute("ad_group.campaign")
    organization = factory.SelfAttribute("ad_group.organization")
    creative = factory.SubFactory(
        CreativeFactory, ad_account=factory.SelfAttribute("..campaign.ad_account")
    )
    external_id = factory.Sequence(lambda n: f"a{n}")
    name = factory.Sequence(lambda n: f"Ad {n}")


class DailyMetricFactory(factory.django.DjangoModelFactory):
    """For simple fixtures only; real writes go through campaigns.services.upsert_daily_metrics."""

    class Meta:
        model = DailyMetric

    ad = factory.SubFactory(AdFactory)
    campaign = factory.SelfAttribute("ad.campaign")
    ad_group = factory.SelfAttribute("ad.ad_group")
    ad_account = factory.SelfAttribute("ad.campaign.ad_account")
    organization = factory.SelfAttribute("ad.organization")
    date = dt.date(2026, 1, 1)
    impressions = 1000
    clicks = 20
    spend = Decimal("10.00")
    conversions = Decimal("2")
    conversion_value = Decimal("50.00")


class CampaignChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignChange

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    ad_account = factory.SelfAttribute("campaign.ad_account")
    kind = ChangeKind.PAUSE
    status = ChangeStatus.APPLIED
    actor_kind = ActorKind.SYSTEM
    actor_label = "system:test"


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    connection = factory.SubFactory("tests.integrations.factories.FakeConnectionFactory")
    organization = factory.SelfAttribute("connection.organization")
    status = SyncStatus.SUCCEEDED
    started_at = factory.LazyFunction(timezone.now)
    heartbeat_at = factory.LazyFunction(timezone.now)
