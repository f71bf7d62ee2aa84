from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications.api.views import (
    NotificationPreferencesApi,
    NotificationViewSet,
    WebhookEndpointViewSet,
)

router = SimpleRouter()
router.register("notifications/webhooks", WebhookEndpointViewSet, basename="notification-webhook")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path(
        "notifications/preferences/",
        NotificationPreferencesApi.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
]
