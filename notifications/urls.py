from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_centre, name="centre"),
    path("notifications/unread-count/", views.unread_count, name="unread-count"),
    path("notifications/read-all/", views.mark_all_read, name="read-all"),
    path("notifications/<int:notification_id>/read/", views.mark_read, name="read"),
    path("notifications/<int:notification_id>/dismiss/", views.dismiss, name="dismiss"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path("notifications/push/subscribe/", views.push_subscribe, name="push-subscribe"),
    path("notifications/push/unsubscribe/", views.push_unsubscribe, name="push-unsubscribe"),
    path("notifications/sw.js", views.service_worker, name="service-worker"),
]
