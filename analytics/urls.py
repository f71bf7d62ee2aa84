from __future__ import annotations

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/campaigns/", views.dashboard_campaigns, name="dashboard-campaigns"),
    path("dashboard/poll/", views.dashboard_poll, name="dashboard-poll"),
    path("dashboard/save/", views.dashboard_save, name="dashboard-save"),
    path(
        "dashboard/saved/<int:dashboard_id>/default/",
        views.dashboard_make_default,
        name="dashboard-make-default",
    ),
    path(
        "dashboard/saved/<int:dashboard_id>/delete/",
        views.dashboard_delete,
        name="dashboard-delete",
    ),
    path("dashboard/export/", views.dashboard_export, name="dashboard-export"),
    path("dashboard/report/", views.dashboard_report, name="dashboard-report"),
    path("insights/recompute/", views.insights_recompute, name="insights-recompute"),
]
