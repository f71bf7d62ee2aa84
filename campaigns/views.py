from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from adplatform.web import OrganizationRequest, organization_view
from campaigns import selectors
from campaigns.forms import CampaignTableForm
from campaigns.models import Campaign, ChangeStatus
from campaigns.services.changes import (
    Actor,
    CampaignChangeError,
    activate_campaign,
    pause_campaign,
    set_daily_budget,
)

PAGE_SIZE = 25


@require_GET
@organization_view()
def campaign_list(request: OrganizationRequest) -> HttpResponse:
    form = CampaignTableForm({"period": "30", "sort": "-spend", **request.GET.dict()})
    form.is_valid()  # invalid fields are dropped; the valid ones still apply
    params = form.cleaned_data
    period_days = int(params.get("period") or 30)
    sort = params.get("sort") or "-spend"
    end = timezone.localdate()
    start = end - dt.timedelta(days=period_days - 1)

    campaigns = selectors.with_period_totals(
        selectors.list_campaigns(
            request.organization,
            platform=params.get("platform") or None,
            status=params.get("status") or None,
            search=params.get("q") or None,
        ),
        start=start,
        end=end,
    )
    field = selectors.CAMPAIGN_SORTS[sort.lstrip("-")]
    # Campaigns without spend have no ROAS; they sort last in both directions.
    key = F(field).desc(nulls_last=True) if sort.startswith("-") else F(field).asc(nulls_last=True)
    ordering: list[Any] = [key, "name", "id"]
    page = Paginator(campaigns.order_by(*ordering), PAGE_SIZE).get_page(params.get("page") or 1)
    context = {
        "form": form,
        "page": page,
        "sort": sort,
        "period_days": period_days,
        "start": start,
        "end": end,
        "currency": request.organization.currency,
    }
    template = "campaigns/list.html#table" if request.htmx else "campaigns/list.html"
    return render(request, template, context)


ACTIONS = {"pause", "activate", "daily_budget"}


@require_POST
@organization_view(write=True)
def campaign_action(request: OrganizationRequest, campaign_id: int) -> HttpResponse:
    """An inline action from the campaigns table: pause, activate or set the daily budget.

    Answers with the campaign's row, re-rendered from what the platform now reports (or
    with the error if the change was refused).
    """
    try:
        campaign = selectors.get_campaign(request.organization, campaign_id=campaign_id)
    except Campaign.DoesNotExist:
        raise Http404("No such campaign.") from None
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return HttpResponseBadRequest("Unknown action.")
    actor = Actor.for_user(request.user)  # type: ignore[arg-type]
    error = ""
    try:
        if action == "pause":
            change = pause_campaign(campaign=campaign, actor=actor)
        elif action == "activate":
            change = activate_campaign(campaign=campaign, actor=actor)
        else:
            try:
                amount = Decimal(request.POST.get("daily_budget", ""))
            except InvalidOperation:
                raise CampaignChangeError({"daily_budget": ["Enter a number."]}) from None
            change = set_daily_budget(campaign=campaign, amount=amount, actor=actor)
        if change.status != ChangeStatus.APPLIED:
            error = change.error or "The platform did not apply the change."
    except CampaignChangeError as exc:
        error = " ".join(message for messages in exc.errors.values() for message in messages)
    period = request.POST.get("period", "")
    period_days = int(period) if period.isdigit() else 30
    end = timezone.localdate()
    row = selectors.with_period_totals(
        selectors.list_campaigns(request.organization).filter(pk=campaign.pk),
        start=end - dt.timedelta(days=min(max(period_days, 1), 366) - 1),
        end=end,
    ).get()
    context = {"c": row, "row_error": error, "period_days": period_days}
    status = 200 if not error else 422
    if not request.htmx:
        return redirect("campaigns:list")
    return render(request, "campaigns/list.html#row", context, status=status)
