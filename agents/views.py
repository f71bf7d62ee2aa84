"""The Agents page: start a review or task, follow it, read the report, decide on advice."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from adplatform.web import OrganizationRequest, organization_view
from agents.models import AgentRun, AgentTask, Recommendation, RecommendationStatus
from agents.recommendations import (
    RecommendationError,
    apply_recommendation,
    dismiss_recommendation,
)
from agents.runs import start_run

RECENT_RUNS = 12


@require_GET
@organization_view()
def agents_home(request: OrganizationRequest) -> HttpResponse:
    runs = AgentRun.objects.filter(organization=request.organization).order_by("-created_at")
    latest = runs.filter(status="succeeded").first()
    return render(
        request,
        "agents/home.html",
        {"runs": runs[:RECENT_RUNS], "latest": latest, "tasks": AgentTask.choices},
    )


@require_POST
@organization_view(write=True)
def start_agent_run(request: OrganizationRequest) -> HttpResponse:
    task = request.POST.get("task", "")
    if task not in AgentTask.values:
        messages.error(request, "Choose one of the listed tasks.")
        return redirect("agents:home")
    run = start_run(organization=request.organization, task=task, user=request.user)
    return redirect("agents:run", run_id=run.pk)


@require_GET
@organization_view()
def run_detail(request: OrganizationRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(AgentRun, organization=request.organization, pk=run_id)
    recommendations = (
        Recommendation.objects.filter(organization=request.organization, run=run)
        .select_related("campaign")
        .order_by("-confidence")
    )
    context = {"run": run, "recommendations": recommendations}
    # While the run works, htmx re-fetches the status block every two seconds.
    template = "agents/run.html#status" if request.htmx else "agents/run.html"
    return render(request, template, context)


@require_POST
@organization_view(write=True)
def decide_recommendation(request: OrganizationRequest, pk: int, decision: str) -> HttpResponse:
    recommendation = get_object_or_404(
        Recommendation.objects.select_related("campaign"), organization=request.organization, pk=pk
    )
    error = ""
    try:
        if decision == "apply":
            recommendation = apply_recommendation(recommendation=recommendation)
        else:
            recommendation = dismiss_recommendation(recommendation=recommendation)
    except RecommendationError as exc:
        error = str(exc)
    return render(
        request,
        "agents/run.html#recommendation",
        {"rec": recommendation, "error": error, "pending": RecommendationStatus.PENDING},
    )
