from __future__ import annotations

from rest_framework.routers import SimpleRouter

from adplatform.api.views_audit import AuditEntryViewSet
from adplatform.api.views_organizations import OrganizationViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("audit-log", AuditEntryViewSet, basename="audit-entry")

urlpatterns = router.urls
