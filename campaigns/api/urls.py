from __future__ import annotations

from rest_framework.routers import SimpleRouter

from campaigns.api.views import (
    AdAccountViewSet,
    AdGroupViewSet,
    AdViewSet,
    CampaignChangeViewSet,
    CampaignViewSet,
    ConnectionViewSet,
    SyncRunViewSet,
)

router = SimpleRouter()
router.register("ad-accounts", AdAccountViewSet, basename="ad-account")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("ad-groups", AdGroupViewSet, basename="ad-group")
router.register("ads", AdViewSet, basename="ad")
router.register("changes", CampaignChangeViewSet, basename="campaign-change")
router.register("connections", ConnectionViewSet, basename="connection")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")

urlpatterns = router.urls
