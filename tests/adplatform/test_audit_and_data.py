from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from adplatform.models import ApiKey, AuditAction, AuditEntry, Membership, Organization, Role
from adplatform.services import add_member, create_api_key, revoke_api_key
from campaigns.models import Campaign, DailyMetric
from tests.adplatform.factories import MembershipFactory, UserFactory
from tests.campaigns.factories import CampaignFactory, DailyMetricFactory

pytestmark = pytest.mark.django_db


def _actions(organization: Organization) -> list[str]:
    return list(
        AuditEntry.objects.filter(organization=organization)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_key_creation_revocation_and_role_changes_are_audited(
    organization: Organization, owner: Membership
) -> None:
    issued = create_api_key(organization=organization, name="BI", created_by=owner.user)
    revoke_api_key(api_key=issued.api_key, by_user=owner.user)
    newcomer = UserFactory(email="new@example.com")
    add_member(organization=organization, user=newcomer, role=Role.VIEWER, by_user=owner.user)
    add_member(organization=organization, user=newcomer, role=Role.MEMBER, by_user=owner.user)
    add_member(organization=organization, user=newcomer, role=Role.MEMBER, by_user=owner.user)

    assert _actions(organization) == [
        AuditAction.API_KEY_CREATED,
        AuditAction.API_KEY_REVOKED,
        AuditAction.MEMBER_ADDED,
        AuditAction.ROLE_CHANGED,
    ]
    change = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED)
    assert change.data == {"from": "viewer", "to": "member"}
    assert change.actor_label == owner.user.email
    assert issued.raw_key not in json.dumps(list(AuditEntry.objects.values("data", "target")))


def test_sign_in_and_out_are_audited_in_each_organization(
    organization: Organization, other_organization: Organization, member: Membership
) -> None:
    MembershipFactory(user=member.user, organization=other_organization)
    client = Client()

    client.post("/login/", {"username": member.user.email, "password": "password"})
    client.post("/logout/")

    assert _actions(organization) == [AuditAction.LOGIN, AuditAction.LOGOUT]
    assert _actions(other_organization) == [AuditAction.LOGIN, AuditAction.LOGOUT]


def test_settings_page_is_for_owners_and_admins_only(
    organization: Organization, web_client_for: Callable[..., Client]
) -> None:
    owner = MembershipFactory(organization=organization, role=Role.OWNER)
    member = MembershipFactory(organization=organization, role=Role.MEMBER)
    create_api_key(organization=organization, name="Looker", created_by=owner.user)

    allowed = web_client_for(owner).get("/settings/")
    denied = web_client_for(member).get("/settings/")

    assert allowed.status_code == 200
    html = allowed.content.decode()
    assert "Looker" in html
    assert "API key created" in html
    assert denied.status_code == 403


def test_audit_log_api_is_scoped_and_for_admins(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    admin = api_client_for(organization, Role.ADMIN)
    member = api_client_for(organization, Role.MEMBER)
    create_api_key(organization=other_organization, name="theirs")

    rows = admin.get("/api/v1/audit-log/").json()["results"]

    assert {row["target"].split(" ")[0] for row in rows} == {"test"}
    assert member.get("/api/v1/audit-log/").status_code == 403


def test_export_holds_every_owned_row_and_no_secrets(organization: Organization) -> None:
    DailyMetricFactory(ad__ad_group__campaign__ad_account__organization=organization)
    issued = create_api_key(organization=organization, name="k")
    out = StringIO()

    call_command("export_organization", org="acme", stdout=out)

    document = json.loads(out.getvalue())
    assert document["organization"]["slug"] == "acme"
    assert len(document["tables"]["campaigns.Campaign"]) == 1
    assert len(document["tables"]["campaigns.DailyMetric"]) == 1
    assert "key_hash" not in document["tables"]["adplatform.ApiKey"][0]
    assert issued.api_key.key_hash not in out.getvalue()


def test_owner_downloads_the_export_and_others_cannot(
    organization: Organization, web_client_for: Callable[..., Client]
) -> None:
    owner = MembershipFactory(organization=organization, role=Role.OWNER)
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)

    response = web_client_for(owner).get("/settings/export/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="acme-export-')
    assert json.loads(b"".join(response.streaming_content))["organization"]["slug"] == "acme"
    assert web_client_for(admin).get("/settings/export/").status_code == 403


def test_deleting_an_organization_removes_everything_it_owns_and_nothing_else(
    organization: Organization,
    other_organization: Organization,
    web_client_for: Callable[..., Client],
) -> None:
    owner = MembershipFactory(organization=organization, role=Role.OWNER)
    DailyMetricFactory(ad__ad_group__campaign__ad_account__organization=organization)
    DailyMetricFactory(ad__ad_group__campaign__ad_account__organization=other_organization)
    CampaignFactory(ad_account__organization=other_organization)
    client = web_client_for(owner)

    refused = client.post("/settings/delete/", {"confirm": "wrong"})
    assert Organization.objects.filter(slug="acme").exists()
    assert refused.status_code == 302

    client.post("/settings/delete/", {"confirm": "acme"})

    assert not Organization.objects.filter(slug="acme").exists()
    assert not Membership.objects.filter(organization_id=organization.pk).exists()
    assert not ApiKey.objects.filter(organization_id=organization.pk).exists()
    assert DailyMetric.objects.filter(organization=other_organization).count() == 1
    assert Campaign.objects.filter(organization=other_organization).count() == 2


def test_delete_command_needs_the_slug_repeated(organization: Organization) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="repeat"):
        call_command("delete_organization", org="acme", confirm="acm")
    call_command("delete_organization", org="acme", confirm="acme", stdout=StringIO())

    assert not Organization.objects.exists()


def test_connections_added_and_removed_are_audited(
    organization: Organization, owner: Membership
) -> None:
    from integrations.services import create_sandbox_connection, disconnect

    connection = create_sandbox_connection(
        organization=organization, platform="tiktok", created_by=owner.user
    )
    disconnect(connection=connection, by_user=owner.user)

    assert _actions(organization) == [AuditAction.CONNECTION_ADDED, AuditAction.CONNECTION_REMOVED]
    assert AuditEntry.objects.filter(actor_user=owner.user).count() == 2
