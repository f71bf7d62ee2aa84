"""Which token reads the Ad Library for an organization.

The organization's own Meta connection first (its user confirmed their identity with Meta,
which the Ad Library requires), else the install-wide `ADPLATFORM_META_AD_LIBRARY_TOKEN`.
"""

from __future__ import annotations

from django.conf import settings

from adplatform.fields import reveal
from adplatform.models import Organization
from integrations.models import Connection, ConnectionStatus
from integrations.providers.meta_ad_library.client import AdLibraryClient
from integrations.vocabulary import Platform


def ad_library_token(organization: Organization) -> str:
    """A token for `ads_archive`, or "" when the organization has none and no install token."""
    connections = Connection.objects.filter(
        organization=organization,
        platform=Platform.META,
        connector=Platform.META,
        status=ConnectionStatus.ACTIVE,
    ).order_by("pk")
    for connection in connections:
        token = reveal(connection.access_token)
        if token:
            return token
    return str(settings.ADPLATFORM_META_AD_LIBRARY_TOKEN or "")


def ad_library_client(organization: Organization) -> AdLibraryClient | None:
    """A client reading with the organization's token; None when there is no token."""
    token = ad_library_token(organization)
    if not token:
        return None
    return AdLibraryClient(access_token=lambda: token)
