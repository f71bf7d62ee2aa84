"""The account-day rollup: rebuilt from campaign-day rows by the metrics write path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import Max, Min

from adplatform.models import Organization
from analytics.models import AccountDailyMetric
from campaigns.models import Campaign, CampaignDailyMetric

CHUNK = 200


def refresh_account_rollups(date_ranges: dict[int, tuple[dt.date, dt.date]]) -> None:
    """Recompute account-day rows for the accounts of the given campaigns over their ranges.

    Registered with `campaigns.services.register_rollup_hook`, so every metrics write
    (sync, demo seed, backfill) keeps this table in step, in the same transaction.
    Set-based: one DELETE and one INSERT ... SELECT per chunk of accounts.
    """
    if not date_ranges:
        return
    accounts: dict[int, tuple[dt.date, dt.date]] = {}
    campaign_accounts = Campaign.objects.filter(pk__in=list(date_ranges)).values_list(
        "pk", "ad_account_id"
    )
    for campaign_id, account_id in campaign_accounts:
        low, high = date_ranges[campaign_id]
        if account_id in accounts:
            old_low, old_high = accounts[account_id]
            low, high = min(low, old_low), max(high, old_high)
        accounts[account_id] = (low, high)
    _rebuild(sorted(accounts.items()))


def rebuild_account_rollups(organization: Organization | None = None) -> None:
    """Rebuild the whole account-day table (or one organization's) from campaign-day rows."""
    campaign_days = CampaignDailyMetric.objects.all()
    if organization is not None:
        campaign_days = campaign_days.filter(organization=organization)
    spans = {
        account_id: (low, high)
        for account_id, low, high in campaign_days.values("ad_account_id")
        .annotate(low=Min("date"), high=Max("date"))
        .values_list("ad_account_id", "low", "high")
    }
    stale = AccountDailyMetric.objects.all()
    if organization is not None:
        stale = stale.filter(organization=organization)
    with transaction.atomic():
        stale.exclude(ad_account_id__in=list(spans)).delete()
        _rebuild(sorted(spans.items()))


def _rebuild(spans: Sequence[tuple[int, tuple[dt.date, dt.date]]]) -> None:
    rollup = AccountDailyMetric._meta.db_table
    source = CampaignDailyMetric._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for index in range(0, len(spans), CHUNK):
            chunk = spans[index : index + CHUNK]
            start = min(low for _, (low, _high) in chunk)
            end = max(high for _, (_low, high) in chunk)
            ids = [account_id for account_id, _ in chunk]
            in_list = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"DELETE FROM {rollup} WHERE ad_account_id IN ({in_list}) "
                "AND date BETWEEN %s AND %s",
                [*ids, start, end],
            )
            cursor.execute(
                f"""
                INSERT INTO {rollup} (organization_id, ad_account_id, platform, date,
                    impressions, clicks, spend, conversions, conversion_value, video_views,
                    reach, frequency)
                SELECT organization_id, ad_account_id, platform, date,
                    SUM(impressions), SUM(clicks), SUM(spend), SUM(conversions),
                    SUM(conversion_value), SUM(video_views), SUM(reach), NULL
                FROM {source}
                WHERE ad_account_id IN ({in_list}) AND date BETWEEN %s AND %s
                GROUP BY organization_id, ad_account_id, platform, date
                """,
                [*ids, start, end],
            )
