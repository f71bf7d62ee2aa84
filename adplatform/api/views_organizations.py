from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins
from rest_framework.permissions import SAFE_METHODS, BasePermission

from adplatform.api.permissions import IsOrganizationAdmin, IsOrganizationMember
from adplatform.api.serializers import OrganizationSerializer
from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization
from adplatform.services import update_organization


class OrganizationViewSet(mixins.UpdateModelMixin, ScopedReadOnlyViewSet):
    """The caller's own organization (an API key belongs to exactly one).

    Owners and admins may rename it or change its currency and time zone.
    """

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    ordering_fields = ["id", "name"]
    ordering = ["id"]
    http_method_names = ["get", "patch", "head", "options"]

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in SAFE_METHODS:
            return [IsOrganizationMember()]
        return [IsOrganizationMember(), IsOrganizationAdmin()]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Organization]:
        return Organization.objects.filter(pk=organization.pk)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = update_organization(
            organization=serializer.instance, **serializer.validated_data
        )
