from __future__ import annotations

from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("rules/", views.rule_list, name="list"),
    path("rules/new/", views.rule_new, name="new"),
    path("rules/export/", views.rule_export, name="export"),
    path("rules/import/", views.rule_import, name="import"),
    path("rules/from-template/", views.rule_from_template, name="from-template"),
    path("rules/<int:rule_id>/", views.rule_detail, name="detail"),
    path("rules/<int:rule_id>/edit/", views.rule_edit, name="edit"),
    path("rules/<int:rule_id>/preview/", views.rule_preview, name="preview"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="toggle"),
    path("rules/<int:rule_id>/run/", views.rule_run, name="run"),
    path("rules/actions/<int:action_id>/undo/", views.rule_action_undo, name="undo"),
    path("rules/approvals/<int:action_id>/", views.approval_decide, name="decide"),
]
