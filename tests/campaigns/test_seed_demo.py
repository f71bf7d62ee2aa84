from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from adplatform.models import Membership, Organization, Role
from campaigns.models import AdAccount, Campaign, DailyMetric, Platform

pytestmark = pytest.mark.django_db


def _fingerprint(slug: str) -> tuple[int, object, object]:
    metrics = DailyMetric.objects.filter(organization__slug=slug)
    totals = metrics.aggregate(spend=Sum("spend"), conversions=Sum("conversions"))
    return metrics.count(), totals["spend"], totals["conversions"]


def test_seed_demo_creates_an_owner_and_one_account_per_platform() -> None:
    out = StringIO()

    call_command("seed_demo", days=21, stdout=out)

    organization = Organization.objects.get(slug="demo")
    accounts = AdAccount.objects.filter(organization=organization)
    assert sorted(accounts.values_list("platform", flat=True)) == sorted(Platform.values)
    assert Campaign.objects.filter(organization=organization).count() >= 8 * 3
    membership = Membership.objects.get(organization=organization)
    assert (membership.user.email, membership.role) == ("demo@example.com", Role.OWNER)
    assert membership.user.check_password("demo")
    assert "demo@example.com / demo" in out.getvalue()


def test_seed_demo_is_deterministic_for_a_seed_and_idempotent() -> None:
    call_command("seed_demo", org="one", seed=7, days=14, stdout=StringIO())
    call_command("seed_demo", org="two", seed=7, days=14, stdout=StringIO())
    first = _fingerprint("one")

    call_command("seed_demo", org="one", seed=7, days=14, stdout=StringIO())

    assert first[0] > 0
    assert _fingerprint("two") == first
    assert _fingerprint("one") == first


def test_seed_demo_if_empty_leaves_an_existing_organization_alone() -> None:
    call_command("seed_demo", days=7, stdout=StringIO())
    before = _fingerprint("demo")
    out = StringIO()

    call_command("seed_demo", days=30, if_empty=True, stdout=out)

    assert _fingerprint("demo") == before
    assert "leaving it as it is" in out.getvalue()
