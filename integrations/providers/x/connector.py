"""X (Twitter) Ads API connector: OAuth 1.0a, campaign -> line item -> promoted tweet.

OAuth 1.0a is a three-step handshake: `authorization_url` fetches a request token (its
secret is kept, encrypted, in the cache for 15 minutes), X sends the user back with
`oauth_token` and `oauth_verifier`, and `exchange_code` trades them for a token that never
expires. The callback carries no `code`: pass `XConnector.code_from_callback(request.GET)`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache

from adplatform.crypto import decrypt_text, encrypt_text
from integrations.clients.errors import AuthExpired, InvalidRequest, NotSupported
from integrations.providers.client_connector import ClientConnector
from integrations.providers.toolkit import (
    chunks,
    date_windows,
    decimal_to_micros,
    fingerprint,
)
from integrations.providers.x import mapping
from integrations.providers.x.client import XClient
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
    RemoteSegmentMetric,
    SegmentDimension,
    TargetingChange,
    TokenSet,
)
from integrations.registry import register_connector

REQUEST_TOKEN_TTL = 15 * 60
STATS_WINDOW_DAYS = 7  # synchronous stats: at most 7 days per call
STATS_IDS_PER_CALL = 20  # ... and at most 20 entity ids
# WEB_CONVERSION is only reported for posts on X itself, not the publisher network.
METRIC_GROUPS = {
    "ALL_ON_TWITTER": "ENGAGEMENT,BILLING,VIDEO,WEB_CONVERSION",
    "PUBLISHER_NETWORK": "ENGAGEMENT,BILLING,VIDEO",
}


def _pending_key(request_token: str) -> str:
    return f"integrations:x:request-token:{fingerprint(request_token)}"


def _x_time(moment: dt.datetime) -> str:
    """ISO 8601 in whole hours; UTC `Z` form unless the zone sits on a half hour."""
    utc = moment.astimezone(dt.UTC)
    if utc.minute == 0:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


@register_connector("x")
class XConnector(ClientConnector[XClient]):
    audience_dimensions = frozenset({AudienceDimension.AGE_RANGE, AudienceDimension.INTERESTS})
    segment_dimensions = frozenset()

    def build_client(self, options: dict[str, Any]) -> XClient:
        return XClient(
            base_url=self.config.api_base,
            timeout=self.config.timeout,
            version=self.config.api_version,
            consumer_key=self.config.client_id,
            consumer_secret=self.config.client_secret,
            token=self.token,
            **options,
        )

    # --- OAuth 1.0a -------------------------------------------------------------------------
    @staticmethod
    def code_from_callback(params: Mapping[str, str]) -> str:
        """The `code` for `exchange_code` from X's callback query (oauth_token, oauth_verifier)."""
        return f"{params.get('oauth_token', '')}:{params.get('oauth_verifier', '')}"

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        separator = "&" if "?" in redirect_uri else "?"
        callback = f"{redirect_uri}{separator}{urlencode({'state': state})}"
        answer = self.client.request_token(self.config.oauth_base, callback)
        request_token = answer.get("oauth_token", "")
        secret = answer.get("oauth_token_secret", "")
        if not request_token or not secret or answer.get("oauth_callback_confirmed") != "true":
            raise InvalidRequest("X did not confirm the request token", platform=self.platform)
        cache.set(_pending_key(request_token), encrypt_text(secret), REQUEST_TOKEN_TTL)
        return (
            f"{self.config.oauth_base}/oauth/authorize?{urlencode({'oauth_token': request_token})}"
        )

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        request_token, _, verifier = code.partition(":")
        if not request_token or not verifier:
            raise InvalidRequest(
                "expected 'oauth_token:oauth_verifier' (see code_from_callback)",
                platform=self.platform,
            )
        stored = cache.get(_pending_key(request_token))
        if stored is None:
            raise AuthExpired("the request token expired; start again", platform=self.platform)
        cache.delete(_pending_key(request_token))
        answer = self.client.access_token(
            self.config.oauth_base, request_token, decrypt_text(stored), verifier
        )
        if not answer.get("oauth_token") or not answer.get("oauth_token_secret"):
            raise AuthExpired("X returned no access token", platform=self.platform)
        token = TokenSet(
            access_token=answer["oauth_token"], token_secret=answer["oauth_token_secret"]
        )
        self.token = self.client.token = token
        return token

    def refresh_token(self) -> TokenSet:
        # OAuth 1.0a tokens never expire; a refused one was revoked by the user.
        raise AuthExpired("X tokens cannot be refreshed; re-authorize", platform=self.platform)

    # --- accounts and structure -----------------------------------------------------------
    def _currency(self, account_id: str) -> str:
        instruments = self.client.funding_instruments(account_id)
        live = [i for i in instruments if not i.get("deleted") and not i.get("cancelled")]
        for instrument in live or instruments:
            if instrument.get("currency"):
                return str(instrument["currency"])
        return ""

    def list_accounts(self) -> list[RemoteAccount]:
        raws = self.unique_raw(self.client.accounts())
        return [mapping.account(raw, self._currency(str(raw["id"]))) for raw in raws]

    def get_account(self, account_id: str) -> RemoteAccount:
        return mapping.account(self.client.account(account_id), self._currency(account_id))

    def _line_items(self, account_id: str) -> list[dict[str, Any]]:
        return list(self.unique_raw(self.client.entities(account_id, "line_items")))

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        # X sets the objective on line items; a campaign takes its line items' objective.
        objectives: dict[str, str] = {}
        for item in self._line_items(account_id):
            objective = mapping.OBJECTIVE.get(str(item.get("objective") or ""))
            if objective:
                objectives.setdefault(str(item.get("campaign_id")), objective)
        campaigns = self.client.entities(account_id, "campaigns")
        for raw in self.unique_raw(campaigns):
            yield mapping.campaign(raw, account_id, objectives.get(str(raw["id"]), "other"))

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        return (mapping.ad_group(raw) for raw in self._line_items(account_id))

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        campaign_of = {
            str(i["id"]): str(i.get("campaign_id")) for i in self._line_items(account_id)
        }
        promoted = list(self.unique_raw(self.client.entities(account_id, "promoted_tweets")))
        tweet_ids = sorted({str(p["tweet_id"]) for p in promoted if p.get("tweet_id")})
        texts: dict[str, str] = {}
        for ids in chunks(tweet_ids, 100):
            for tweet in self.client.tweets(account_id, ids):
                tweet_id = str(tweet.get("tweet_id") or tweet.get("id_str") or tweet.get("id"))
                texts[tweet_id] = str(tweet.get("full_text") or tweet.get("text") or "")
        for raw in promoted:
            yield mapping.ad(raw, campaign_of, texts)

    # --- changes ----------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        if spec.bid_amount is not None:
            raise InvalidRequest(
                "X bids are set on line items (our ad groups)", platform=self.platform
            )
        funding = self.extra.get("funding_instrument_id") or self._funding_instrument(account_id)
        params: dict[str, Any] = {
            "name": spec.name,
            "funding_instrument_id": funding,
            "entity_status": mapping.STATUS_TO_X.get(spec.status, "PAUSED"),
        }
        if spec.daily_budget is not None:
            params["daily_budget_amount_local_micro"] = decimal_to_micros(spec.daily_budget)
        if spec.lifetime_budget is not None:
            params["total_budget_amount_local_micro"] = decimal_to_micros(spec.lifetime_budget)
        raw = self.client.create_campaign(account_id, params)
        return mapping.campaign(raw, account_id, spec.objective)

    def _funding_instrument(self, account_id: str) -> str:
        for instrument in self.client.funding_instruments(account_id):
            if not instrument.get("deleted") and not instrument.get("cancelled"):
                return str(instrument["id"])
        raise InvalidRequest("the account has no usable funding instrument", platform=self.platform)

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        params: dict[str, Any] = {}
        if update.status is not None:
            params["entity_status"] = self.status_wire(update.status, mapping.STATUS_TO_X)
        if update.name is not None:
            params["name"] = update.name
        if update.daily_budget is not None:
            params["daily_budget_amount_local_micro"] = decimal_to_micros(update.daily_budget)
        if update.lifetime_budget is not None:
            params["total_budget_amount_local_micro"] = decimal_to_micros(update.lifetime_budget)
        if params:
            self.client.update_entity(account_id, "campaigns", campaign_id, params)
        if update.bid_amount is not None:
            self._set_bid(account_id, campaign_id, update.bid_amount)
        result = mapping.campaign(self.client.campaign(account_id, campaign_id), account_id)
        if update.bid_amount is not None:
            result = replace(result, bid_amount=update.bid_amount)
        return result

    def _set_bid(self, account_id: str, campaign_id: str, amount: Decimal) -> None:
        targets = [
            item
            for item in self._line_items(account_id)
            if str(item.get("campaign_id")) == campaign_id and not item.get("deleted")
        ]
        if not targets:
            raise InvalidRequest("the campaign has no line item to bid on", platform=self.platform)
        for item in targets:
            self.client.update_entity(
                account_id,
                "line_items",
                str(item["id"]),
                {"bid_amount_local_micro": decimal_to_micros(amount)},
            )

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        # X has no archive: deleting stops delivery for good and keeps the stats reportable.
        raw = self.client.delete_campaign(account_id, campaign_id)
        return mapping.campaign(raw or self.client.campaign(account_id, campaign_id), account_id)

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """PUT the promoted tweet's `entity_status` (ACTIVE / PAUSED); X answers the entity."""
        wire = self.ad_status_wire(status)
        raw = self.client.update_entity(
            account_id, "promoted_tweets", ad_id, {"entity_status": wire}
        )
        line_item = str(raw.get("line_item_id") or ad_group_id)
        campaign_of = {
            line_item: str(
                self.client.entity(account_id, "line_items", line_item).get("campaign_id") or ""
            )
        }
        return mapping.ad(raw, campaign_of, {})

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """Interests: the line item's `audience_expansion` goes to EXPANDED (X's reach beyond
        the chosen audience). Age: the line item's one AGE targeting criterion is swapped for
        the narrowest wider range in a single batch (Delete + Create). X has no lookalike
        ratio to raise."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(change, "X has no lookalike ratio to raise")
        if change.dimension == AudienceDimension.INTERESTS:
            raw = self.client.update_entity(
                account_id, "line_items", ad_group_id, {"audience_expansion": "EXPANDED"}
            )
        else:
            self._widen_age(account_id, ad_group_id, change.step)
            raw = self.client.entity(account_id, "line_items", ad_group_id)
        group = mapping.ad_group(raw)
        ages = [
            str(c.get("targeting_value"))
            for c in self.client.targeting_criteria(account_id, ad_group_id)
            if c.get("targeting_type") == "AGE" and not c.get("deleted")
        ]
        return replace(group, targeting={**group.targeting, "age": ages})

    def _widen_age(self, account_id: str, line_item_id: str, step: int) -> None:
        criteria = [
            c for c in self.client.targeting_criteria(account_id, line_item_id)
            if c.get("targeting_type") == "AGE" and not c.get("deleted")
        ]  # fmt: skip
        if not criteria:
            return  # no age criterion: every age already
        current = criteria[0]
        wider = mapping.widened_age_value(str(current.get("targeting_value")), step)
        if wider is None:
            return
        self.client.batch_targeting_criteria(
            account_id,
            [
                {"operation_type": "Delete", "params": {"targeting_criterion_id": str(current["id"])}},
                {"operation_type": "Create",
                 "params": {"line_item_id": line_item_id, "targeting_type": "AGE",
                            "targeting_value": wider}},
            ],
        )  # fmt: skip

    # --- metrics ----------------------------------------------------------------------------
    def _zone(self, account_id: str) -> ZoneInfo:
        name = self.client.account(account_id).get("timezone") or "UTC"
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        zone = self._zone(account_id)
        entity = "CAMPAIGN" if level == MetricLevel.CAMPAIGN else "PROMOTED_TWEET"
        parents: dict[str, tuple[str, str]] = {}
        if level == MetricLevel.AD:
            campaign_of = {
                str(i["id"]): str(i.get("campaign_id")) for i in self._line_items(account_id)
            }
            for promoted in self.client.entities(account_id, "promoted_tweets"):
                line_item = str(promoted.get("line_item_id"))
                parents[str(promoted["id"])] = (campaign_of.get(line_item, ""), line_item)
        for window_start, window_end in date_windows(start, end, STATS_WINDOW_DAYS):
            yield from self._window(
                account_id, entity, level, zone, window_start, window_end, parents
            )

    def _window(
        self,
        account_id: str,
        entity: str,
        level: MetricLevel,
        zone: ZoneInfo,
        start: dt.date,
        end: dt.date,
        parents: dict[str, tuple[str, str]],
    ) -> Iterator[RemoteDailyMetric]:
        # Day buckets follow the account's time zone: query from its local midnights.
        start_time = _x_time(dt.datetime.combine(start, dt.time(), tzinfo=zone))
        end_time = _x_time(dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone))
        # Ask only about entities that delivered, on the placements where they did.
        by_placement: dict[str, list[str]] = defaultdict(list)
        for active in self.client.active_entities(account_id, entity, start_time, end_time):
            for placement in active.get("placements") or ["ALL_ON_TWITTER"]:
                if placement in METRIC_GROUPS:
                    by_placement[placement].append(str(active["entity_id"]))
        totals: dict[tuple[str, dt.date], dict[str, Decimal]] = {}
        for placement, ids in by_placement.items():
            for batch in chunks(sorted(set(ids)), STATS_IDS_PER_CALL):
                rows = self.client.stats(
                    account_id,
                    entity=entity,
                    entity_ids=batch,
                    start_time=start_time,
                    end_time=end_time,
                    placement=placement,
                    metric_groups=METRIC_GROUPS[placement],
                )
                for row in rows:
                    for data in row.get("id_data") or []:
                        metrics = data.get("metrics") or {}
                        for index in range((end - start).days + 1):
                            day_values = mapping.day_totals(metrics, index)
                            if day_values is None:
                                continue
                            key = (str(row["id"]), start + dt.timedelta(days=index))
                            bucket = totals.setdefault(key, defaultdict(Decimal))
                            for name, value in day_values.items():
                                bucket[name] += value
        for (entity_id, day), values in sorted(totals.items()):
            if level == MetricLevel.CAMPAIGN:
                yield mapping.daily_metric(values, level=level, day=day, campaign_id=entity_id)
            else:
                campaign_id, line_item = parents.get(entity_id, ("", ""))
                yield mapping.daily_metric(
                    values,
                    level=level,
                    day=day,
                    campaign_id=campaign_id,
                    ad_group_id=line_item,
                    ad_id=entity_id,
                )

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        # X segments only through asynchronous stats jobs, which this connector does not run.
        raise NotSupported(
            f"X reports {dimension} only through async stats jobs", platform=self.platform
        )
