from __future__ import annotations

from django.urls import path

from campaigns import integrations_views as views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.integration_list, name="list"),
    path("integrations/<slug:connector>/connect/", views.connect, name="connect"),
    path("integrations/<slug:connector>/callback/", views.callback, name="callback"),
    path(
        "integrations/connections/<int:connection_id>/accounts/",
        views.pick_accounts,
        name="accounts",
    ),
    path("integrations/connections/<int:connection_id>/sync/", views.sync_now, name="sync"),
    path(
        "integrations/connections/<int:connection_id>/disconnect/",
        views.disconnect_view,
        name="disconnect",
    ),
]
