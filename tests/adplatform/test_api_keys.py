from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from adplatform.models import ApiKey, Organization, Role
from adplatform.selectors import get_active_api_key
from adplatform.services import create_api_key, hash_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def test_only_a_hash_of_a_new_key_is_stored(organization: Organization) -> None:
    issued = create_api_key(organization=organization, name="BI export", role=Role.VIEWER)

    stored = ApiKey.objects.get()
    assert stored.key_hash == hash_api_key(issued.raw_key)
    assert issued.raw_key not in str(ApiKey.objects.values().get())
    assert issued.raw_key.startswith(stored.prefix)


def test_a_key_authenticates_for_its_organization_and_records_use(
    organization: Organization,
) -> None:
    issued = create_api_key(organization=organization, name="partner")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")

    response = client.get("/api/v1/organizations/")

    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == ["acme"]
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer adp_wrong", "Bearer", "Bearer a b", "Bearer not-our-format", "Token abc"],
)
def test_bad_credentials_are_refused(organization: Organization, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/campaigns/")

    assert response.status_code in (401, 403)
    assert "results" not in response.json()


def test_a_revoked_key_stops_working(organization: Organization) -> None:
    issued = create_api_key(organization=organization, name="old")
    revoke_api_key(api_key=issued.api_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")

    response = client.get("/api/v1/campaigns/")

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API key."


def test_no_credentials_at_all_is_401_with_a_challenge(db: None) -> None:
    response = APIClient().get("/api/v1/campaigns/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_create_api_key_command_prints_a_working_key(organization: Organization) -> None:
    out, err = StringIO(), StringIO()

    call_command("create_api_key", org="acme", name="cli", role="admin", stdout=out, stderr=err)

    raw_key = out.getvalue().strip()
    key = ApiKey.objects.get(key_hash=hash_api_key(raw_key))
    assert (key.name, key.role, key.organization) == ("cli", "admin", organization)
    assert raw_key not in err.getvalue()


def test_create_api_key_command_rejects_an_unknown_organization(db: None) -> None:
    with pytest.raises(CommandError, match="No organization"):
        call_command("create_api_key", org="nope", name="x")


def test_revoking_twice_keeps_the_first_time(organization: Organization) -> None:
    issued = create_api_key(organization=organization, name="k")
    first = revoke_api_key(api_key=issued.api_key).revoked_at
    assert first is not None and first <= timezone.now()

    assert revoke_api_key(api_key=issued.api_key).revoked_at == first


def test_the_active_key_lookup_loads_what_the_orm_would(organization: Organization) -> None:
    issued = create_api_key(organization=organization, name="partner", role=Role.ADMIN)
    expected = ApiKey.objects.select_related("organization").get(pk=issued.api_key.pk)

    found = get_active_api_key(key_hash=hash_api_key(issued.raw_key))

    assert found is not None
    fields = [field.attname for field in ApiKey._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert isinstance(found.created_at, dt.datetime) and found.created_at.tzinfo is not None
    organization_fields = [field.attname for field in Organization._meta.concrete_fields]
    assert [getattr(found.organization, name) for name in organization_fields] == [
        getattr(expected.organization, name) for name in organization_fields
    ]


def test_the_active_key_lookup_finds_no_revoked_or_unknown_key(organization: Organization) -> None:
    issued = create_api_key(organization=organization, name="old")
    revoke_api_key(api_key=issued.api_key)

    assert get_active_api_key(key_hash=hash_api_key(issued.raw_key)) is None
    assert get_active_api_key(key_hash=hash_api_key("adp_never-issued")) is None
