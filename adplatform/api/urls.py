from __future__ import annotations

from rest_framework.routers import SimpleRouter

from adplatform.api.views_organizations import OrganizationViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization")

urlpatterns = router.urls
