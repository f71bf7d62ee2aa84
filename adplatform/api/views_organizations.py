from __future__ import annotations

from django.db.models import QuerySet

from adplatform.api.serializers import OrganizationSerializer
from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization


class OrganizationViewSet(ScopedReadOnlyViewSet):
    """The caller's own organization (an API key belongs to exactly one)."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Organization]:
        return Organization.objects.filter(pk=organization.pk)
