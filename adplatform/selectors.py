"""Reads of tenancy data."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from adplatform.models import ApiKey, Membership, Organization


def list_memberships(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("organization")


def get_membership(*, user: User | AnonymousUser, organization_id: int) -> Membership | None:
    """The user's membership of that organization, or None if they are not a member."""
    return list_memberships(user=user).filter(organization_id=organization_id).first()


def list_organizations_for_user(*, user: User | AnonymousUser) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def list_api_keys(organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization)
