from __future__ import annotations

from django.urls import path

from agents import views

app_name = "agents"

urlpatterns = [
    path("agents/", views.agents_home, name="home"),
    path("agents/runs/", views.start_agent_run, name="start"),
    path("agents/runs/<int:run_id>/", views.run_detail, name="run"),
    path(
        "agents/recommendations/<int:pk>/apply/",
        views.decide_recommendation,
        {"decision": "apply"},
        name="apply",
    ),
    path(
        "agents/recommendations/<int:pk>/dismiss/",
        views.decide_recommendation,
        {"decision": "dismiss"},
        name="dismiss",
    ),
    path("agents/competitors/", views.competitors_page, name="competitors"),
    path("agents/competitors/add/", views.add_competitor, name="add_competitor"),
    path("agents/competitors/refresh/", views.refresh_competitors, name="refresh_competitors"),
    path("agents/competitors/<int:pk>/delete/", views.delete_competitor, name="delete_competitor"),
    path("agents/competitors/notes/", views.add_note, name="add_note"),
    path("agents/competitors/notes/<int:pk>/delete/", views.delete_note, name="delete_note"),
    path("agents/studio/", views.studio, name="studio"),
    path(
        "agents/studio/variants/<int:pk>/save/",
        views.decide_variant,
        {"decision": "save"},
        name="save_variant",
    ),
    path(
        "agents/studio/variants/<int:pk>/discard/",
        views.decide_variant,
        {"decision": "discard"},
        name="discard_variant",
    ),
]
