"""The Agents page: start a review or task, follow it, read the report, decide on advice."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from adplatform.web import OrganizationRequest, organization_view
from agents import competitors
from agents.forms import CompetitorForm, NoteForm, StudioForm
from agents.limits import PLATFORM_TEXT_LIMITS
from agents.models import (
    AgentRun,
    AgentTask,
    Competitor,
    CompetitorNote,
    CreativeVariant,
    Recommendation,
    RecommendationStatus,
    VariantStatus,
)
from agents.recommendations import (
    RecommendationError,
    apply_recommendation,
    dismiss_recommendation,
)
from agents.runs import decide_creative_variant, start_run

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


# --- Competitors ---------------------------------------------------------------------------
def _competitors_page(request: OrganizationRequest, **context: Any) -> HttpResponse:
    organization = request.organization
    competitors = (
        Competitor.objects.filter(organization=organization)
        .annotate(ad_count=Count("ads"), active_ads=Count("ads", filter=Q(ads__delivery_stop=None)))
        .order_by("name")
    )
    notes = CompetitorNote.objects.filter(organization=organization).order_by("-observed_on", "-pk")
    context.setdefault("form", CompetitorForm())
    context.setdefault("note_form", NoteForm())
    return render(
        request,
        "agents/competitors.html",
        {"competitors": competitors, "notes": notes[:50], **context},
        status=400 if context.get("invalid") else 200,
    )


@require_GET
@organization_view()
def competitors_page(request: OrganizationRequest) -> HttpResponse:
    return _competitors_page(request)


@require_POST
@organization_view(write=True)
def add_competitor(request: OrganizationRequest) -> HttpResponse:
    form = CompetitorForm(request.POST)
    if form.is_valid():
        try:
            competitors.create_competitor(organization=request.organization, **form.values())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Tracking {form.cleaned_data['name']}.")
            return redirect("agents:competitors")
    return _competitors_page(request, form=form, invalid=True)


@require_POST
@organization_view(write=True)
def delete_competitor(request: OrganizationRequest, pk: int) -> HttpResponse:
    competitor = get_object_or_404(Competitor, organization=request.organization, pk=pk)
    competitors.delete_competitor(competitor=competitor)
    messages.success(request, f"Stopped tracking {competitor.name}.")
    return redirect("agents:competitors")


@require_POST
@organization_view(write=True)
def refresh_competitors(request: OrganizationRequest) -> HttpResponse:
    result = competitors.refresh_competitor_ads(organization=request.organization)
    if not result.configured:
        messages.error(
            request,
            "No Meta token for the Ad Library: connect a Meta account or set "
            "ADPLATFORM_META_AD_LIBRARY_TOKEN.",
        )
    else:
        read = ", ".join(f"{name}: {n}" for name, n in result.ads.items()) or "nothing"
        messages.success(request, f"Read from the Ad Library: {read}.")
        for name, error in result.errors.items():
            messages.error(request, f"{name}: {error}")
    return redirect("agents:competitors")


@require_POST
@organization_view(write=True)
def add_note(request: OrganizationRequest) -> HttpResponse:
    form = NoteForm(request.POST)
    if form.is_valid():
        competitors.create_competitor_note(
            organization=request.organization, user=request.user, **form.cleaned_data
        )
        return redirect("agents:competitors")
    return _competitors_page(request, note_form=form, invalid=True)


@require_POST
@organization_view(write=True)
def delete_note(request: OrganizationRequest, pk: int) -> HttpResponse:
    get_object_or_404(CompetitorNote, organization=request.organization, pk=pk).delete()
    return redirect("agents:competitors")


# --- Creative studio -----------------------------------------------------------------------
@organization_view()
def studio(request: OrganizationRequest) -> HttpResponse:
    """Ask the Creative Specialist for variants; see them checked; keep or drop them."""
    organization = request.organization
    form = StudioForm(request.POST or None, organization=organization)
    if request.method == "POST":
        if not request.membership.can_write:
            raise PermissionDenied("Viewers cannot start runs.")
        if form.is_valid():
            started = start_run(
                organization=organization,
                task=AgentTask.CREATIVE_VARIANTS,
                params=form.params(),
                user=request.user,
            )
            return redirect(f"{reverse('agents:studio')}?run={started.pk}")
    run: AgentRun | None = None
    run_id = request.GET.get("run", "")
    if run_id.isdigit():
        run = get_object_or_404(AgentRun, organization=organization, pk=int(run_id))
    variants = CreativeVariant.objects.filter(organization=organization)
    context = {
        "form": form,
        "run": run,
        "proposed": variants.filter(run=run) if run else variants.none(),
        "saved": variants.filter(status=VariantStatus.SAVED).select_related("campaign")[:30],
        "limits": PLATFORM_TEXT_LIMITS,
    }
    template = "agents/studio.html#results" if request.htmx and run else "agents/studio.html"
    return render(request, template, context, status=400 if form.errors else 200)


@require_POST
@organization_view(write=True)
def decide_variant(request: OrganizationRequest, pk: int, decision: str) -> HttpResponse:
    variant = get_object_or_404(CreativeVariant, organization=request.organization, pk=pk)
    variant = decide_creative_variant(variant=variant, save=decision == "save")
    return render(
        request, "agents/studio.html#variant", {"variant": variant, "limits": PLATFORM_TEXT_LIMITS}
    )
