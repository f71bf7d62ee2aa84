from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from adplatform.web import OrganizationRequest, organization_view
from campaigns import selectors
from campaigns.forms import CampaignTableForm

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
