from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from adplatform.models import Membership, Organization
from campaigns.models import DeliveryStatus, Platform
from campaigns.services import DailyMetricRow, upsert_daily_metrics
from tests.adplatform.factories import MembershipFactory
from tests.campaigns.factories import AdFactory, CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaigns(organization: Organization) -> dict[str, object]:
    tiktok = CampaignFactory(
        name="TikTok | Spring Sale",
        ad_account__organization=organization,
        ad_account__platform=Platform.TIKTOK,
    )
    meta = CampaignFactory(
        name="Meta | Retargeting",
        ad_account__organization=organization,
        ad_account__platform=Platform.META,
        status=DeliveryStatus.PAUSED,
    )
    ad = AdFactory(ad_group__campaign=meta, organization=organization)
    upsert_daily_metrics(
        [
            DailyMetricRow(
                organization_id=organization.pk,
                ad_account_id=meta.ad_account_id,
                campaign_id=meta.pk,
                ad_group_id=ad.ad_group_id,
                ad_id=ad.pk,
                date=timezone.localdate() - dt.timedelta(days=1),
                spend=Decimal("120.50"),
                conversions=Decimal(4),
                conversion_value=Decimal("482.00"),
            )
        ]
    )
    return {"tiktok": tiktok, "meta": meta}


def test_signed_out_visitors_are_sent_to_login(db: None) -> None:
    response = Client().get("/campaigns/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_campaigns_page_lists_the_organizations_campaigns_with_period_totals(
    campaigns: dict[str, object], member: Membership, web_client_for: Callable[..., Client]
) -> None:
    response = web_client_for(member).get("/campaigns/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "TikTok | Spring Sale" in html
    assert "Meta | Retargeting" in html
    assert "$120.50" in html
    assert "4.00×" in html  # ROAS 482 / 120.50


def test_htmx_filter_returns_only_the_table_partial(
    campaigns: dict[str, object], member: Membership, web_client_for: Callable[..., Client]
) -> None:
    response = web_client_for(member).get(
        "/campaigns/?platform=tiktok", headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="campaign-table"')
    assert "TikTok | Spring Sale" in html
    assert "Meta | Retargeting" not in html
    assert "<html" not in html


def test_sorting_by_spend_puts_spenders_first(
    campaigns: dict[str, object], member: Membership, web_client_for: Callable[..., Client]
) -> None:
    html = web_client_for(member).get("/campaigns/?sort=-spend").content.decode()

    assert html.index("Meta | Retargeting") < html.index("TikTok | Spring Sale")


def test_invalid_query_values_fall_back_to_defaults(
    campaigns: dict[str, object], member: Membership, web_client_for: Callable[..., Client]
) -> None:
    response = web_client_for(member).get("/campaigns/?platform=bogus&sort=password&page=x")

    assert response.status_code == 200
    assert "2 campaigns" in response.content.decode()


def test_other_organizations_campaigns_never_show(
    campaigns: dict[str, object],
    other_organization: Organization,
    web_client_for: Callable[..., Client],
) -> None:
    outsider = MembershipFactory(organization=other_organization)

    html = web_client_for(outsider).get("/campaigns/").content.decode()

    assert "Spring Sale" not in html
    assert "No campaigns yet" in html


def test_switching_to_an_organization_you_belong_to(
    organization: Organization,
    other_organization: Organization,
    member: Membership,
    web_client_for: Callable[..., Client],
) -> None:
    MembershipFactory(user=member.user, organization=other_organization)
    CampaignFactory(name="Globex Launch", ad_account__organization=other_organization)
    client = web_client_for(member)

    response = client.post("/organizations/switch/", {"organization": "globex"}, follow=True)

    assert "Globex Launch" in response.content.decode()


def test_switching_to_a_foreign_organization_is_refused(
    other_organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    CampaignFactory(name="Globex Launch", ad_account__organization=other_organization)
    client = web_client_for(member)

    response = client.post("/organizations/switch/", {"organization": "globex"}, follow=True)

    html = response.content.decode()
    assert "not a member of that organization" in html
    assert "Globex Launch" not in html


def test_user_without_organization_sees_an_explanation(db: None) -> None:
    from tests.adplatform.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())

    response = client.get("/campaigns/")

    assert response.status_code == 403
    assert "not in an organization" in response.content.decode()


def test_login_with_email_and_logout(member: Membership) -> None:
    client = Client()

    response = client.post(
        "/login/", {"username": member.user.email, "password": "password"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/campaigns/"

    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert client.get("/campaigns/").status_code == 302


def test_login_with_wrong_password_shows_an_error(member: Membership) -> None:
    response = Client().post("/login/", {"username": member.user.email, "password": "nope"})

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
