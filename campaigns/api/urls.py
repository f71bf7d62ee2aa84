from __future__ import annotations

from rest_framework.routers import SimpleRouter

from campaigns.api.views import AdAccountViewSet, AdGroupViewSet, AdViewSet, CampaignViewSet

router = SimpleRouter()
router.register("ad-accounts", AdAccountViewSet, basename="ad-account")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("ad-groups", AdGroupViewSet, basename="ad-group")
router.register("ads", AdViewSet, basename="ad")

urlpatterns = router.urls
