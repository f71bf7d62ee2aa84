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
]
