from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory

from automation.models import ActionStatus, AutomationRule, RuleAction, RuleExecution
from campaigns.models import Campaign, CampaignDailyMetric
from tests.adplatform.factories import OrganizationFactory


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutomationRule

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    conditions = factory.LazyFunction(
        lambda: {"items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "0"}]}
    )
    actions = factory.LazyFunction(lambda: [{"type": "pause"}])
    guardrails = factory.LazyFunction(lambda: {"cooldown_hours": 0})


def campaign_days(campaign: Campaign, days: dict[dt.date, dict[str, Any]]) -> None:
    """Store campaign-day rollup rows (what the metrics write path would leave)."""
    for day, values in days.items():
        CampaignDailyMetric.objects.update_or_create(
            campaign=campaign,
            date=day,
            defaults={
                "organization_id": campaign.organization_id,
                "ad_account_id": campaign.ad_account_id,
                "platform": campaign.ad_account.platform,
                "impressions": values.get("impressions", 1000),
                "clicks": values.get("clicks", 50),
                "spend": Decimal(str(values.get("spend", 0))),
                "conversions": Decimal(str(values.get("conversions", 0))),
                "conversion_value": Decimal(str(values.get("revenue", 0))),
            },
        )


def rule_with_proposal(campaign: Campaign) -> RuleAction:
    """A rule of the campaign's organization with one execution and a pending proposal."""
    from django.utils import timezone

    rule = RuleFactory(organization=campaign.organization, requires_approval=True)
    execution = RuleExecution.objects.create(
        organization=campaign.organization, rule=rule, as_of=timezone.localdate(),
        started_at=timezone.now(),
    )  # fmt: skip
    return RuleAction.objects.create(
        organization=campaign.organization, rule=rule, execution=execution, campaign=campaign,
        step=0, action_type="pause", status=ActionStatus.AWAITING_APPROVAL,
        idempotency_key=f"rule:{rule.pk}:campaign:{campaign.pk}:window:test:step:0",
    )  # fmt: skip
