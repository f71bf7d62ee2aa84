from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from adplatform.api.permissions import IsOrganizationAdmin, IsOrganizationMember
from adplatform.api.serializers import AuditEntrySerializer
from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.audit import list_audit_entries
from adplatform.models import AuditEntry, Organization


class AuditEntryViewSet(ScopedReadOnlyViewSet):
    """Sign-ins, role changes, API keys, connections and rule changes; owners and admins only."""

    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.all()
    ordering_fields = ["id", "created_at"]
    filterset_fields = ["action"]

    def get_permissions(self) -> list[BasePermission]:
        return [IsOrganizationMember(), IsOrganizationAdmin()]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AuditEntry]:
        return list_audit_entries(organization)
