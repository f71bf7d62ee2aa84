"""The dashboard page and its htmx partials, exports and the client report."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from adplatform.web import OrganizationRequest, organization_view
from analytics import selectors
from analytics.dashboard import (
    CAMPAIGN_SORTS,
    CHART_CHOICES,
    CHART_METRICS,
    KPI_CHOICES,
    PRESETS,
    build_dashboard,
    campaign_table,
    dashboard_config,
    parse_dashboard_state,
)
from analytics.metrics import METRIC_LABELS, Dimension, MetricQuery
from analytics.models import SavedDashboard
from analytics.params import ParamError, organization_today
from analytics.services.dashboards import delete_dashboard, save_dashboard, set_default_dashboard
from analytics.services.exports import EXPORT_FORMATS, MAX_EXPORT_ROWS, export_response
from analytics.services.reports import build_client_report, render_report_html, render_report_pdf
from analytics.tasks import compute_insights_task
from campaigns.models import Platform

EXPORT_BREAKDOWNS = ("campaign", "platform", "date", "week", "ad_account", "ad", "creative", "age", "gender", "placement", "device", "country")  # fmt: skip


def _saved(request: OrganizationRequest) -> SavedDashboard | None:
    raw = request.GET.get("saved") or ""
    if raw.isdigit():
        try:
            return selectors.get_saved_dashboard(request.organization, dashboard_id=int(raw))
        except SavedDashboard.DoesNotExist as exc:
            raise Http404("No such dashboard.") from exc
    # The default applies only to a bare /dashboard/ visit, not to explicit choices.
    if not request.GET:
        return selectors.get_default_dashboard(request.organization)
    return None


@require_GET
@organization_view()
def dashboard(request: OrganizationRequest) -> HttpResponse:
    organization = request.organization
    saved = _saved(request)
    state = parse_dashboard_state(request.GET, today=organization_today(organization), saved=saved)
    data = build_dashboard(organization, state)
    context = {
        "data": data,
        "lines": data.campaigns,
        "state": state,
        "saved": saved,
        "saved_dashboards": selectors.list_saved_dashboards(organization),
        "presets": PRESETS,
        "platforms": Platform.choices,
        "chart_metrics": [(m, METRIC_LABELS[m]) for m in CHART_METRICS],
        "kpi_choices": [(m, METRIC_LABELS[m]) for m in KPI_CHOICES],
        "chart_choices": CHART_CHOICES.items(),
        "campaign_sorts": [(m, METRIC_LABELS[m]) for m in CAMPAIGN_SORTS],
        "query_string": urlencode(state.query()),
        "export_breakdowns": EXPORT_BREAKDOWNS,
        "can_write": request.membership.can_write,
        "poll_seconds": settings.ANALYTICS_DASHBOARD_POLL_SECONDS,
    }
    template = (
        "analytics/dashboard.html#body"
        if request.htmx and not request.htmx.boosted
        else "analytics/dashboard.html"
    )
    return render(request, template, context)


@require_GET
@organization_view()
def dashboard_campaigns(request: OrganizationRequest) -> HttpResponse:
    organization = request.organization
    state = parse_dashboard_state(request.GET, today=organization_today(organization))
    _report, lines = campaign_table(organization, state)
    return render(
        request,
        "analytics/dashboard.html#campaign_table",
        {
            "state": state,
            "lines": lines,
            "campaign_sorts": [(m, METRIC_LABELS[m]) for m in CAMPAIGN_SORTS],
            "query_string": urlencode(state.query()),
        },
    )


@require_GET
@organization_view()
def dashboard_poll(request: OrganizationRequest) -> HttpResponse:
    """Tell an open dashboard that new data landed (a newer insight run exists).

    htmx polls this; the answer carries an HX-Trigger event the page reloads on. The
    WebSocket will send the same event once notifications are live.
    """
    run = selectors.latest_insight_run(request.organization)
    current = str(run.pk if run else 0)
    response = HttpResponse(status=204)
    if request.GET.get("version", current) != current:
        response["HX-Trigger"] = "analytics-data-changed"
    return response


@require_POST
@organization_view(write=True)
def dashboard_save(request: OrganizationRequest) -> HttpResponse:
    organization = request.organization
    params = QueryDict(request.POST.get("query", ""))
    try:
        config = dashboard_config(params, today=organization_today(organization))
        saved = save_dashboard(
            organization=organization,
            name=request.POST.get("name", ""),
            config=config,
            is_default=request.POST.get("is_default") == "on",
            user=request.user,
        )
    except (ParamError, ValueError, IntegrityError) as exc:
        messages.error(request, f"The dashboard was not saved: {exc}")
        return redirect(f"{reverse('analytics:dashboard')}?{params.urlencode()}")
    messages.success(request, f"Saved “{saved.name}”.")
    return redirect(f"{reverse('analytics:dashboard')}?saved={saved.pk}")


def _own_dashboard(request: OrganizationRequest, dashboard_id: int) -> SavedDashboard:
    try:
        return selectors.get_saved_dashboard(request.organization, dashboard_id=dashboard_id)
    except ObjectDoesNotExist as exc:
        raise Http404("No such dashboard.") from exc


@require_POST
@organization_view(write=True)
def dashboard_make_default(request: OrganizationRequest, dashboard_id: int) -> HttpResponse:
    saved = set_default_dashboard(dashboard=_own_dashboard(request, dashboard_id))
    messages.success(request, f"“{saved.name}” now opens by default.")
    return redirect(f"{reverse('analytics:dashboard')}?saved={saved.pk}")


@require_POST
@organization_view(write=True)
def dashboard_delete(request: OrganizationRequest, dashboard_id: int) -> HttpResponse:
    saved = _own_dashboard(request, dashboard_id)
    delete_dashboard(dashboard=saved)
    messages.success(request, f"Deleted “{saved.name}”.")
    return redirect("analytics:dashboard")


@require_GET
@organization_view()  # streams: not an HttpResponse subclass
def dashboard_export(request: OrganizationRequest) -> HttpResponseBase:
    organization = request.organization
    state = parse_dashboard_state(request.GET, today=organization_today(organization))
    breakdown = request.GET.get("breakdown") or "campaign"
    file_format = request.GET.get("file_format") or "csv"
    if breakdown not in EXPORT_BREAKDOWNS or file_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest(
            f"breakdown is one of {', '.join(EXPORT_BREAKDOWNS)}; file_format is csv or xlsx."
        )
    query = MetricQuery(
        period=state.period,
        group_by=(Dimension(breakdown),),
        filters=state.filters,
        compare=state.compare,
        limit=MAX_EXPORT_ROWS,
    )
    try:
        report = selectors.get_metric_report(organization, query)
    except selectors.InvalidMetricQuery as exc:
        return HttpResponseBadRequest(exc.message)
    return export_response(report, file_format=file_format)


@require_GET
@organization_view()
def dashboard_report(request: OrganizationRequest) -> HttpResponseBase:
    """The client report for the dashboard's period: print-ready HTML or a PDF."""
    organization = request.organization
    state = parse_dashboard_state(request.GET, today=organization_today(organization))
    report = build_client_report(organization, period=state.period, filters=state.filters)
    if request.GET.get("file_format") == "pdf":
        response = HttpResponse(render_report_pdf(report), content_type="application/pdf")
        filename = f"report-{organization.slug}-{state.period.start}-{state.period.end}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return HttpResponse(render_report_html(report))


@require_POST
@organization_view(write=True)
def insights_recompute(request: OrganizationRequest) -> HttpResponse:
    compute_insights_task.delay(request.organization.pk, trigger="on_demand")
    messages.success(request, "Insights are being recomputed.")
    target = request.POST.get("next") or reverse("analytics:dashboard")
    if not target.startswith("/"):
        target = reverse("analytics:dashboard")
    return redirect(target)
