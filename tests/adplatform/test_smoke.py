from __future__ import annotations

from adplatform.models import Organization


def test_fixtures_create_two_separate_organizations(
    organization: Organization, other_organization: Organization
) -> None:
    assert Organization.objects.count() == 2
    assert organization.slug != other_organization.slug
