from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from analytics.api.views import (
    ExportApi,
    ForecastApi,
    InsightViewSet,
    MetricsApi,
    ScheduledReportViewSet,
)

router = SimpleRouter()
router.register("analytics/insights", InsightViewSet, basename="insight")
router.register("analytics/scheduled-reports", ScheduledReportViewSet, basename="scheduled-report")

urlpatterns = [
    path("analytics/metrics/", MetricsApi.as_view(), name="analytics-metrics"),
    path("analytics/forecast/", ForecastApi.as_view(), name="analytics-forecast"),
    path("analytics/export/", ExportApi.as_view(), name="analytics-export"),
    *router.urls,
]
