"""Snapchat Marketing API connector: campaign -> ad squad -> ad.

Snap has no archive status: archiving pauses the campaign and ends it now, which Snap
keeps (with its stats) and which maps back as archived. Bids live on ad squads, so a bid
change on a campaign is written to each of its ad squads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.clients.errors import InvalidRequest
from integrations.providers.client_connector import FormGrantConnector
from integrations.providers.snapchat import mapping
from integrations.providers.snapchat.client import SnapchatClient
from integrations.providers.toolkit import date_windows, decimal_to_micros, unique_by, utcnow
from integrations.records import (
    AudienceDimension,
    CampaignSpec,
    CampaignUpdate,
    MetricLevel,
    RemoteAccount,
    RemoteAd,
    RemoteAdGroup,
    RemoteCampaign,
    RemoteDailyMetric,
    TargetingChange,
    widen_age_range,
)
from integrations.registry import register_connector

SCOPE = "snapchat-marketing-api"
# Daily stats are asked for a month at a time (Snap's own tools cap DAY ranges at 31 days).
STATS_WINDOW_DAYS = 31


@register_connector("snapchat")
class SnapchatConnector(FormGrantConnector[SnapchatClient]):
    authorize_path = "/login/oauth2/authorize"
    token_path = "/login/oauth2/access_token"
    scope = SCOPE
    audience_dimensions = frozenset({AudienceDimension.AGE_RANGE, AudienceDimension.INTERESTS})

    def build_client(self, options: dict[str, Any]) -> SnapchatClient:
        return SnapchatClient(
            base_url=self.config.api_base,
            timeout=self.config.timeout,
            token=self.token,
            refresher=self.refresh_token,
            client_secret=self.config.client_secret,
            **options,
        )

    # --- accounts and structure -----------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        accounts = (
            mapping.account(raw)
            for org in self.client.organizations()
            for raw in self.client.ad_accounts(str(org["id"]))
        )
        return list(unique_by(accounts, lambda a: a.external_id))

    def get_account(self, account_id: str) -> RemoteAccount:
        return mapping.account(self.client.ad_account(account_id))

    def _raw(self, account_id: str, plural: str, singular: str) -> Iterator[dict[str, Any]]:
        return self.unique_raw(self.client.entities(account_id, plural, singular))

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        now = utcnow()
        for raw in self._raw(account_id, "campaigns", "campaign"):
            yield mapping.campaign(raw, account_id, now=now)

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        now = utcnow()
        for raw in self._raw(account_id, "adsquads", "adsquad"):
            yield mapping.ad_group(raw, now=now)

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        now = utcnow()
        campaign_of = self._campaign_of_squad(account_id)
        creatives = {str(c["id"]): c for c in self._raw(account_id, "creatives", "creative")}
        for raw in self._raw(account_id, "ads", "ad"):
            yield mapping.ad(raw, campaign_of, creatives, now=now)

    def _campaign_of_squad(self, account_id: str) -> dict[str, str]:
        return {
            str(s["id"]): str(s.get("campaign_id"))
            for s in self._raw(account_id, "adsquads", "adsquad")
        }

    # --- changes ----------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        if spec.bid_amount is not None:
            raise InvalidRequest(
                "Snapchat bids are set on ad squads (our ad groups)", platform=self.platform
            )
        zone = self._zone(account_id)
        start = spec.start_date or utcnow().astimezone(zone).date()
        body: dict[str, Any] = {
            "name": spec.name,
            "ad_account_id": account_id,
            "status": mapping.STATUS_TO_SNAP.get(spec.status, "PAUSED"),
            "start_time": dt.datetime.combine(start, dt.time(), tzinfo=zone).isoformat(),
        }
        if spec.objective in mapping.OBJECTIVE_TO_SNAP:
            body["objective_v2_properties"] = {
                "objective_v2_type": mapping.OBJECTIVE_TO_SNAP[spec.objective]
            }
        if spec.end_date:
            end = dt.datetime.combine(spec.end_date + dt.timedelta(days=1), dt.time(), tzinfo=zone)
            body["end_time"] = end.isoformat()
        if spec.daily_budget is not None:
            body["daily_budget_micro"] = decimal_to_micros(spec.daily_budget)
        if spec.lifetime_budget is not None:
            body["lifetime_spend_cap_micro"] = decimal_to_micros(spec.lifetime_budget)
        created = self.client.create_campaigns(account_id, [body])
        if not created:
            raise InvalidRequest("Snapchat created nothing", platform=self.platform)
        return mapping.campaign(created[0], account_id, now=utcnow())

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        current = self.client.campaign(campaign_id)
        changed = dict(current)
        if update.status is not None:
            changed["status"] = self.status_wire(update.status, mapping.STATUS_TO_SNAP)
        if update.name is not None:
            changed["name"] = update.name
        if update.daily_budget is not None:
            changed["daily_budget_micro"] = decimal_to_micros(update.daily_budget)
        if update.lifetime_budget is not None:
            changed["lifetime_spend_cap_micro"] = decimal_to_micros(update.lifetime_budget)
        result = current
        if changed != current:
            # Snap's PUT takes whole objects: send the campaign as read, with our changes.
            updated = self.client.update_entities(account_id, "campaigns", "campaign", [changed])
            result = updated[0] if updated else self.client.campaign(campaign_id)
        campaign = mapping.campaign(result, account_id, now=utcnow())
        if update.bid_amount is not None:
            self._set_bid(account_id, campaign_id, update.bid_amount)
            campaign = replace(campaign, bid_amount=update.bid_amount)
        return campaign

    def _set_bid(self, account_id: str, campaign_id: str, amount: Decimal) -> None:
        squads = [
            {**raw, "bid_micro": decimal_to_micros(amount)}
            for raw in self._raw(account_id, "adsquads", "adsquad")
            if str(raw.get("campaign_id")) == campaign_id
        ]
        if not squads:
            raise InvalidRequest("the campaign has no ad squad to bid on", platform=self.platform)
        self.client.update_entities(account_id, "adsquads", "adsquad", squads)

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        current = self.client.campaign(campaign_id)
        ended = {
            **current,
            "status": "PAUSED",
            "end_time": utcnow().replace(microsecond=0).isoformat(),
        }
        updated = self.client.update_entities(account_id, "campaigns", "campaign", [ended])
        return mapping.campaign(updated[0] if updated else ended, account_id, now=utcnow())

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """PUT the whole ad, as read, with `status` ACTIVE or PAUSED, to its ad squad."""
        wire = self.ad_status_wire(status)
        current = self.client.entity("ads", "ad", ad_id)
        squad_id = str(current.get("ad_squad_id") or ad_group_id)
        updated = self.client.update_ads(squad_id, [{**current, "status": wire}])
        raw = updated[0] if updated else self.client.entity("ads", "ad", ad_id)
        squad = self.client.entity("adsquads", "adsquad", squad_id)
        creatives = {}
        if raw.get("creative_id"):
            creatives = {
                str(raw["creative_id"]): self.client.entity(
                    "creatives", "creative", str(raw["creative_id"])
                )
            }
        return mapping.ad(
            raw, {squad_id: str(squad.get("campaign_id") or "")}, creatives, now=utcnow()
        )

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """PUT the ad squad, as read, with its targeting widened: the demographics'
        `min_age`/`max_age`, or `auto_expansion_options.interest_expansion_option.enabled`.
        Snap fixes a lookalike segment's type (similarity to reach) when it is created."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(
                change, "Snapchat fixes a lookalike segment's reach when it creates it"
            )
        squad = self.client.entity("adsquads", "adsquad", ad_group_id)
        targeting = dict(squad.get("targeting") or {})
        if change.dimension == AudienceDimension.AGE_RANGE:
            demographics = [dict(d) for d in targeting.get("demographics") or []]
            aged = [d for d in demographics if "min_age" in d or "max_age" in d]
            if not aged:
                return mapping.ad_group(squad, now=utcnow())  # no age limit: every age already
            for entry in aged:
                low, high = widen_age_range(
                    _age(entry.get("min_age")), _age(entry.get("max_age")), change.step,
                    floor=mapping.SNAP_MIN_AGE, ceiling=mapping.SNAP_MAX_AGE,
                )  # fmt: skip
                entry["min_age"], entry["max_age"] = low, high
            targeting["demographics"] = demographics
        else:
            options = dict(targeting.get("auto_expansion_options") or {})
            options["interest_expansion_option"] = {"enabled": True}
            targeting["auto_expansion_options"] = options
        updated = self.client.update_entities(
            account_id, "adsquads", "adsquad", [{**squad, "targeting": targeting}]
        )
        return mapping.ad_group(updated[0] if updated else squad, now=utcnow())

    # --- metrics ----------------------------------------------------------------------------
    def _zone(self, account_id: str) -> ZoneInfo:
        try:
            return ZoneInfo(self.get_account(account_id).time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        zone = self._zone(account_id)
        squad_of_ad: dict[str, str] = {}
        if level == MetricLevel.AD:
            squad_of_ad = {
                str(a["id"]): str(a.get("ad_squad_id")) for a in self._raw(account_id, "ads", "ad")
            }
        campaigns = [
            c
            for c in self.list_campaigns(account_id)
            # A campaign that ran entirely outside the range has nothing to report.
            if not (c.start_date and c.start_date > end) and not (c.end_date and c.end_date < start)
        ]
        for campaign in campaigns:
            for window_start, window_end in date_windows(start, end, STATS_WINDOW_DAYS):
                stat = self.client.campaign_stats(
                    campaign.external_id,
                    start_time=dt.datetime.combine(
                        window_start, dt.time(), tzinfo=zone
                    ).isoformat(),
                    end_time=dt.datetime.combine(
                        window_end + dt.timedelta(days=1), dt.time(), tzinfo=zone
                    ).isoformat(),
                    fields=mapping.STATS_FIELDS,
                    breakdown="ad" if level == MetricLevel.AD else None,
                )
                if level == MetricLevel.CAMPAIGN:
                    yield from mapping.daily_metrics(
                        stat.get("timeseries") or [],
                        level=level,
                        campaign_id=campaign.external_id,
                    )
                    continue
                for ad_stat in (stat.get("breakdown_stats") or {}).get("ad") or []:
                    ad_id = str(ad_stat.get("id"))
                    yield from mapping.daily_metrics(
                        ad_stat.get("timeseries") or [],
                        level=level,
                        campaign_id=campaign.external_id,
                        ad_group_id=squad_of_ad.get(ad_id, ""),
                        ad_id=ad_id,
                    )


def _age(value: Any) -> int | None:
    # Snap sends ages as numbers or numeric strings ("50+" for the open top bracket).
    if value in (None, ""):
        return None
    return int(str(value).rstrip("+"))
