from __future__ import annotations

from rest_framework.routers import SimpleRouter

from agents.api.competitors import CompetitorNoteViewSet, CompetitorViewSet
from agents.api.views import AgentRunViewSet, RecommendationViewSet

router = SimpleRouter()
router.register("agents/runs", AgentRunViewSet, basename="agent-run")
router.register("recommendations", RecommendationViewSet, basename="recommendation")
router.register("competitors", CompetitorViewSet, basename="competitor")
router.register("competitor-notes", CompetitorNoteViewSet, basename="competitor-note")

urlpatterns = router.urls
