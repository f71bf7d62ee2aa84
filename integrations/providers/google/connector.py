"""The Google Ads connector: customers, campaigns, ad groups, ads and GAQL reports.

Access tokens live about an hour and are renewed with the refresh_token grant, ahead of
expiry and once more if Google answers UNAUTHENTICATED. Accounts reached through a
manager (MCC) need its id as `login-customer-id`; the connection keeps it in
`extra["login_customer_id"]`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar

from integrations.clients.errors import AuthExpired, InvalidRequest, MalformedResponse
from integrations.clients.paging import unique_by
from integrations.connector import AdsConnector
from integrations.providers.google import mapping
from integrations.providers.google.client import GoogleAdsClient, digits
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
    widen_age_range,
)
from integrations.registry import register_connector
from integrations.vocabulary import BidStrategy, DeliveryStatus

CUSTOMER_QUERY = (
    "SELECT customer.id, customer.descriptive_name, customer.currency_code, "
    "customer.time_zone, customer.manager, customer.status FROM customer"
)
CLIENTS_QUERY = (
    "SELECT customer_client.id, customer_client.descriptive_name, "
    "customer_client.currency_code, customer_client.time_zone, customer_client.manager, "
    "customer_client.status FROM customer_client WHERE customer_client.level <= 1"
)
CAMPAIGN_QUERY = (
    "SELECT campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, "
    "campaign.bidding_strategy_type, campaign.start_date_time, campaign.end_date_time, "
    "campaign.campaign_budget, campaign.target_cpa.target_cpa_micros, "
    "campaign.maximize_conversions.target_cpa_micros, campaign.target_roas.target_roas, "
    "campaign.maximize_conversion_value.target_roas, campaign_budget.amount_micros, "
    "campaign_budget.total_amount_micros FROM campaign"
)
AD_GROUP_QUERY = (
    "SELECT ad_group.id, ad_group.name, ad_group.status, ad_group.type, "
    "ad_group.cpc_bid_micros, ad_group.cpm_bid_micros, ad_group.target_cpa_micros, "
    "ad_group.optimized_targeting_enabled, campaign.id FROM ad_group"
)
AD_QUERY = (
    "SELECT ad_group_ad.ad.id, ad_group_ad.ad.name, ad_group_ad.ad.type, "
    "ad_group_ad.ad.final_urls, ad_group_ad.ad.responsive_search_ad.headlines, "
    "ad_group_ad.ad.responsive_search_ad.descriptions, "
    "ad_group_ad.ad.expanded_text_ad.headline_part1, "
    "ad_group_ad.ad.expanded_text_ad.description, ad_group_ad.ad.image_ad.image_url, "
    "ad_group_ad.status, ad_group.id, campaign.id FROM ad_group_ad"
)
AGE_CRITERIA_QUERY = (
    "SELECT ad_group_criterion.resource_name, ad_group_criterion.age_range.type, "
    "ad_group_criterion.negative FROM ad_group_criterion"
)
# Google's age ranges (ad group criteria), youngest first; an ad group reaches every range
# it does not exclude with a negative criterion.
AGE_RANGES: list[tuple[str, int, int]] = [
    ("AGE_RANGE_18_24", 18, 24), ("AGE_RANGE_25_34", 25, 34), ("AGE_RANGE_35_44", 35, 44),
    ("AGE_RANGE_45_54", 45, 54), ("AGE_RANGE_55_64", 55, 64), ("AGE_RANGE_65_UP", 65, 65),
]  # fmt: skip
METRICS = (
    "metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, "
    "metrics.conversions_value"
)
DAILY_QUERY = {
    MetricLevel.CAMPAIGN: f"SELECT campaign.id, segments.date, {METRICS}, "
    "metrics.video_trueview_views FROM campaign",
    MetricLevel.AD: f"SELECT campaign.id, ad_group.id, ad_group_ad.ad.id, segments.date, "
    f"{METRICS}, metrics.video_trueview_views FROM ad_group_ad",
}
# (query, where the segment value is in a row) per dimension.
SEGMENT_QUERY = {
    SegmentDimension.DEVICE: (
        f"SELECT campaign.id, segments.date, segments.device, {METRICS} FROM campaign",
        ("segments", "device"),
    ),
    SegmentDimension.PLACEMENT: (
        f"SELECT campaign.id, segments.date, segments.ad_network_type, {METRICS} FROM campaign",
        ("segments", "adNetworkType"),
    ),
    SegmentDimension.AGE: (
        "SELECT campaign.id, ad_group.id, ad_group_criterion.age_range.type, segments.date, "
        f"{METRICS} FROM age_range_view",
        ("adGroupCriterion", "ageRange", "type"),
    ),
    SegmentDimension.GENDER: (
        "SELECT campaign.id, ad_group.id, ad_group_criterion.gender.type, segments.date, "
        f"{METRICS} FROM gender_view",
        ("adGroupCriterion", "gender", "type"),
    ),
    SegmentDimension.COUNTRY: (
        "SELECT campaign.id, geographic_view.country_criterion_id, "
        f"geographic_view.location_type, segments.date, {METRICS} FROM geographic_view",
        ("geographicView", "countryCriterionId"),
    ),
}
# Where the bid of each strategy lives: on the campaign (update mask path, JSON path) or
# on every ad group (field name).
CAMPAIGN_TARGETS = {
    "TARGET_CPA": ("targetCpa", "targetCpaMicros"),
    "MAXIMIZE_CONVERSIONS": ("maximizeConversions", "targetCpaMicros"),
    "TARGET_ROAS": ("targetRoas", "targetRoas"),
    "MAXIMIZE_CONVERSION_VALUE": ("maximizeConversionValue", "targetRoas"),
}
AD_GROUP_BIDS = {
    "MANUAL_CPC": "cpcBidMicros",
    "ENHANCED_CPC": "cpcBidMicros",
    "MANUAL_CPM": "cpmBidMicros",
}
REFRESH_MARGIN_SECONDS = 120


def _between(start: dt.date, end: dt.date) -> str:
    return f"segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'"


def _dig(row: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = row
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


@register_connector("google")
class GoogleAdsConnector(AdsConnector):
    segment_dimensions: ClassVar[frozenset[SegmentDimension]] = frozenset(SegmentDimension)
    audience_dimensions: ClassVar[frozenset[AudienceDimension]] = frozenset(
        {AudienceDimension.AGE_RANGE, AudienceDimension.INTERESTS}
    )

    @cached_property
    def client(self) -> GoogleAdsClient:
        return GoogleAdsClient(
            config=self.config,
            access_token=self._access_token,
            refresh=self._refresh_for_client,
            can_refresh=self._can_refresh,
            secrets=self._token_secrets,
            login_customer_id=self.extra.get("login_customer_id", ""),
            session=self.session,
            rate_limiter=self.rate_limiter,
            sleep=self.sleep,
        )

    # --- Tokens --------------------------------------------------------------------------
    def _token_secrets(self) -> list[str]:
        return [self.token.access_token, self.token.refresh_token] if self.token else []

    def _can_refresh(self) -> bool:
        return bool(self.token and self.token.refresh_token)

    def _refresh_for_client(self) -> None:
        self.refresh_token()

    def _access_token(self) -> str:
        if self.token is None or not self.token.access_token:
            raise AuthExpired("no access token; connect the account", platform=self.platform)
        now = dt.datetime.now(dt.UTC)
        if self._can_refresh() and self.token.expires_within(REFRESH_MARGIN_SECONDS, now=now):
            self.refresh_token()
        return self.token.access_token

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        return self.client.authorization_url(state=state, redirect_uri=redirect_uri)

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        payload = self.client.exchange_code(code=code, redirect_uri=redirect_uri)
        if not payload.get("refresh_token"):
            # Without one the connection dies within the hour; the consent URL forces it.
            raise MalformedResponse("Google returned no refresh token", platform=self.platform)
        self.token = self._token_set(payload, refresh_token=str(payload["refresh_token"]))
        return self.token

    def refresh_token(self) -> TokenSet:
        if self.token is None or not self.token.refresh_token:
            raise AuthExpired("no refresh token; connect the account again", platform=self.platform)
        payload = self.client.refresh_access_token(self.token.refresh_token)
        # Google usually keeps the refresh token; if it sends a new one, that one wins.
        refresh = str(payload.get("refresh_token") or self.token.refresh_token)
        self.token = self._token_set(payload, refresh_token=refresh)
        if self.on_token_refreshed is not None:
            self.on_token_refreshed(self.token)
        return self.token

    @staticmethod
    def _token_set(payload: Mapping[str, Any], *, refresh_token: str) -> TokenSet:
        expires_in = payload.get("expires_in")
        return TokenSet(
            access_token=str(payload["access_token"]),
            refresh_token=refresh_token,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(expires_in))
            if expires_in
            else None,
            scope=str(payload.get("scope", "")),
        )

    # --- Accounts ------------------------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        """Directly reachable customers, plus the client accounts under reachable managers."""
        found: list[RemoteAccount] = []
        for customer_id in self.client.list_accessible_customers():
            rows = self.client.search_stream(
                customer_id, CUSTOMER_QUERY, login_customer_id=customer_id
            )
            for row in rows:
                customer = row.get("customer") or {}
                if not customer.get("manager"):
                    found.append(mapping.account(customer))
                    continue
                children = self.client.search_stream(
                    customer_id, CLIENTS_QUERY, login_customer_id=customer_id
                )
                for child_row in children:
                    child = child_row.get("customerClient") or {}
                    if not child.get("manager"):
                        found.append(mapping.account(child, login_customer_id=customer_id))
        return list(unique_by(found, lambda account: account.external_id))

    def get_account(self, account_id: str) -> RemoteAccount:
        rows = self.client.search_stream(account_id, CUSTOMER_QUERY)
        if not rows:
            raise InvalidRequest(f"customer {account_id} not found", platform=self.platform)
        return mapping.account(rows[0].get("customer") or {})

    # --- Structure -----------------------------------------------------------------------
    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        rows = self.client.search_stream(account_id, CAMPAIGN_QUERY)
        campaigns = (mapping.campaign(row, account_id=digits(account_id)) for row in rows)
        return unique_by(campaigns, lambda campaign: campaign.external_id)

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        rows = self.client.search_stream(account_id, AD_GROUP_QUERY)
        return unique_by(map(mapping.ad_group, rows), lambda group: group.external_id)

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        rows = self.client.search_stream(account_id, AD_QUERY)
        # An ad id is unique within its ad group only; the pair is the ad_group_ad's key.
        return unique_by(
            map(mapping.ad, rows), lambda ad: (ad.ad_group_external_id, ad.external_id)
        )

    def _campaign_row(self, account_id: str, campaign_id: str) -> dict[str, Any]:
        query = f"{CAMPAIGN_QUERY} WHERE campaign.id = {int(campaign_id)}"
        rows = self.client.search_stream(account_id, query)
        if not rows:
            raise InvalidRequest(f"campaign {campaign_id} not found", platform=self.platform)
        return rows[0]

    def _ad_group_rows(self, account_id: str, campaign_id: str) -> list[dict[str, Any]]:
        query = (
            f"{AD_GROUP_QUERY} WHERE campaign.id = {int(campaign_id)} "
            "AND ad_group.status != 'REMOVED'"
        )
        return self.client.search_stream(account_id, query)

    def get_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        """One campaign now; for manual bidding, the bid its ad groups share."""
        row = self._campaign_row(account_id, campaign_id)
        strategy = str((row.get("campaign") or {}).get("biddingStrategyType", ""))
        bid = None
        if strategy in AD_GROUP_BIDS:
            bid = mapping.uniform_bid(self._ad_group_rows(account_id, campaign_id))
        return mapping.campaign(row, account_id=digits(account_id), bid_amount=bid)

    # --- Changes -------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        """A Search campaign and its budget, created together in one atomic mutate."""
        customer = digits(account_id)
        if spec.daily_budget is None and spec.lifetime_budget is None:
            raise InvalidRequest("Google campaigns need a budget", platform=self.platform)
        budget_name = f"customers/{customer}/campaignBudgets/-1"  # temporary resource name
        budget: dict[str, Any] = {
            "resourceName": budget_name,
            "name": f"{spec.name} budget",
            "deliveryMethod": "STANDARD",
            "explicitlyShared": False,
        }
        if spec.daily_budget is not None:
            budget["amountMicros"] = mapping.to_micros(spec.daily_budget)
        else:
            if spec.end_date is None:
                raise InvalidRequest("a lifetime budget needs an end date", platform=self.platform)
            assert spec.lifetime_budget is not None
            budget["totalAmountMicros"] = mapping.to_micros(spec.lifetime_budget)
            budget["period"] = "CUSTOM_PERIOD"
        campaign: dict[str, Any] = {
            "name": spec.name,
            "status": self._google_status(spec.status),
            "advertisingChannelType": "SEARCH",
            "campaignBudget": budget_name,
            "networkSettings": {
                "targetGoogleSearch": True,
                "targetSearchNetwork": True,
                "targetContentNetwork": False,
            },
            "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
            **self._bidding(spec.bid_strategy, spec.bid_amount),
        }
        if spec.start_date is not None:
            campaign["startDateTime"] = f"{spec.start_date.isoformat()} 00:00:00"
        if spec.end_date is not None:
            campaign["endDateTime"] = f"{spec.end_date.isoformat()} 23:59:59"
        responses = self.client.mutate_all(
            customer,
            [
                {"campaignBudgetOperation": {"create": budget}},
                {"campaignOperation": {"create": campaign}},
            ],
        )
        for response in responses:
            name = (response.get("campaignResult") or {}).get("resourceName")
            if name:
                return self.get_campaign(customer, str(name).rsplit("/", 1)[-1])
        raise MalformedResponse("mutate did not return the campaign", platform=self.platform)

    def _bidding(self, strategy: str, amount: Decimal | None) -> dict[str, Any]:
        if strategy == BidStrategy.MANUAL_CPC:
            return {"manualCpc": {}}
        if strategy == BidStrategy.TARGET_CPA:
            if amount is None:
                raise InvalidRequest("target CPA needs a bid amount", platform=self.platform)
            return {"targetCpa": {"targetCpaMicros": mapping.to_micros(amount)}}
        if strategy == BidStrategy.TARGET_ROAS:
            if amount is None:
                raise InvalidRequest("target ROAS needs a ratio", platform=self.platform)
            return {"targetRoas": {"targetRoas": float(amount)}}
        if strategy == BidStrategy.LOWEST_COST:
            return {"maximizeConversions": {}}
        raise InvalidRequest(
            f"Google Search has no bid strategy {strategy!r}", platform=self.platform
        )

    def _google_status(self, status: str) -> str:
        try:
            return mapping.STATUS_TO_GOOGLE[DeliveryStatus(status)]
        except (KeyError, ValueError):
            raise InvalidRequest(
                f"Google cannot set status {status!r}", platform=self.platform
            ) from None

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        if update.status in (DeliveryStatus.ARCHIVED, DeliveryStatus.DELETED):
            return self.archive_campaign(account_id, campaign_id)
        customer = digits(account_id)
        row = self._campaign_row(customer, campaign_id)
        raw = row.get("campaign") or {}
        resource = f"customers/{customer}/campaigns/{int(campaign_id)}"
        fields: dict[str, Any] = {}
        mask: list[str] = []
        if update.status is not None:
            fields["status"] = self._google_status(update.status)
            mask.append("status")
        if update.name is not None:
            fields["name"] = update.name
            mask.append("name")
        strategy = str(raw.get("biddingStrategyType", ""))
        if update.bid_amount is not None and strategy in CAMPAIGN_TARGETS:
            holder, field = CAMPAIGN_TARGETS[strategy]
            value: Any = (
                float(update.bid_amount)
                if field == "targetRoas"
                else mapping.to_micros(update.bid_amount)
            )
            fields[holder] = {field: value}
            mask.append(f"{holder}.{field}")
        if mask:
            self.client.mutate(
                customer,
                "campaigns",
                [{"update": {"resourceName": resource, **fields}, "updateMask": ",".join(mask)}],
                idempotent=True,
            )
        self._update_budget(customer, raw, update)
        if update.bid_amount is not None and strategy not in CAMPAIGN_TARGETS:
            self._update_ad_group_bids(customer, campaign_id, strategy, update.bid_amount)
        return self.get_campaign(customer, campaign_id)

    def _update_budget(self, customer: str, raw: Mapping[str, Any], update: CampaignUpdate) -> None:
        budget_fields: dict[str, str] = {}
        if update.daily_budget is not None:
            budget_fields["amountMicros"] = mapping.to_micros(update.daily_budget)
        if update.lifetime_budget is not None:
            budget_fields["totalAmountMicros"] = mapping.to_micros(update.lifetime_budget)
        if not budget_fields:
            return
        budget = raw.get("campaignBudget")
        if not budget:
            raise InvalidRequest("the campaign has no budget to change", platform=self.platform)
        self.client.mutate(
            customer,
            "campaignBudgets",
            [
                {
                    "update": {"resourceName": budget, **budget_fields},
                    "updateMask": ",".join(budget_fields),
                }
            ],
            idempotent=True,
        )

    def _update_ad_group_bids(
        self, customer: str, campaign_id: str, strategy: str, amount: Decimal
    ) -> None:
        field = AD_GROUP_BIDS.get(strategy)
        if field is None:
            raise InvalidRequest(
                f"bids cannot be set under the {strategy} strategy", platform=self.platform
            )
        operations = [
            {
                "update": {
                    "resourceName": f"customers/{customer}/adGroups/{row['adGroup']['id']}",
                    field: mapping.to_micros(amount),
                },
                "updateMask": field,
            }
            for row in self._ad_group_rows(customer, campaign_id)
        ]
        if operations:
            self.client.mutate(customer, "adGroups", operations, idempotent=True)

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """`adGroupAds:mutate` updating `status` of `customers/{c}/adGroupAds/{group}~{ad}`."""
        customer = digits(account_id)
        self.ad_status_wire(status)
        if not ad_group_id:
            rows = self.client.search_stream(
                customer, f"{AD_QUERY} WHERE ad_group_ad.ad.id = {int(ad_id)}"
            )
            groups = {str((row.get("adGroup") or {}).get("id", "")) for row in rows}
            if len(groups) != 1:
                raise InvalidRequest(
                    f"ad {ad_id} is in {len(groups)} ad groups; name the ad group",
                    platform=self.platform,
                )
            ad_group_id = groups.pop()
        resource = f"customers/{customer}/adGroupAds/{int(ad_group_id)}~{int(ad_id)}"
        self.client.mutate(
            customer,
            "adGroupAds",
            [{"update": {"resourceName": resource, "status": self._google_status(status)},
              "updateMask": "status"}],
            idempotent=True,
        )  # fmt: skip
        query = f"{AD_QUERY} WHERE ad_group.id = {int(ad_group_id)} AND ad_group_ad.ad.id = {int(ad_id)}"
        rows = self.client.search_stream(customer, query)
        if not rows:
            raise InvalidRequest(f"ad {ad_id} not found", platform=self.platform)
        return mapping.ad(rows[0])

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """Age: remove the negative AGE_RANGE criteria (`adGroupCriteria:mutate`) of the ranges
        the widened span overlaps. Interests: `optimizedTargetingEnabled` on the ad group
        (Display and Demand Gen; Google refuses it elsewhere, surfaced as InvalidRequest)."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(
                change, "Google's lookalike segments are sized when the segment is created"
            )
        customer = digits(account_id)
        group = int(ad_group_id)
        if change.dimension == AudienceDimension.INTERESTS:
            self.client.mutate(
                customer,
                "adGroups",
                [{"update": {"resourceName": f"customers/{customer}/adGroups/{group}",
                             "optimizedTargetingEnabled": True},
                  "updateMask": "optimizedTargetingEnabled"}],
                idempotent=True,
            )  # fmt: skip
        else:
            removals = self._age_exclusions_to_lift(customer, group, change.step)
            if removals:
                self.client.mutate(
                    customer, "adGroupCriteria", [{"remove": name} for name in removals],
                    idempotent=True,
                )  # fmt: skip
        return self._ad_group_with_targeting(customer, group)

    def _age_exclusions(self, customer: str, group: int) -> dict[str, str]:
        """Excluded age range type -> its criterion's resource name."""
        query = (
            f"{AGE_CRITERIA_QUERY} WHERE ad_group.id = {group} "
            "AND ad_group_criterion.type = 'AGE_RANGE'"
        )
        excluded: dict[str, str] = {}
        for row in self.client.search_stream(customer, query):
            criterion = row.get("adGroupCriterion") or {}
            if criterion.get("negative"):
                age = str((criterion.get("ageRange") or {}).get("type", ""))
                excluded[age] = str(criterion.get("resourceName", ""))
        return excluded

    def _age_exclusions_to_lift(self, customer: str, group: int, step: int) -> list[str]:
        excluded = self._age_exclusions(customer, group)
        reached = [(low, high) for name, low, high in AGE_RANGES if name not in excluded]
        if not reached or not excluded:
            return []  # nothing reached to widen from, or every age reached already
        low, high = widen_age_range(min(r[0] for r in reached), max(r[1] for r in reached), step)
        return [
            excluded[name] for name, r_low, r_high in AGE_RANGES
            if name in excluded and r_low <= high and r_high >= low
        ]  # fmt: skip

    def _ad_group_with_targeting(self, customer: str, group: int) -> RemoteAdGroup:
        rows = self.client.search_stream(customer, f"{AD_GROUP_QUERY} WHERE ad_group.id = {group}")
        if not rows:
            raise InvalidRequest(f"ad group {group} not found", platform=self.platform)
        remote = mapping.ad_group(rows[0])
        targeting = {
            **remote.targeting,
            "excluded_age_ranges": sorted(self._age_exclusions(customer, group)),
        }
        return dataclasses.replace(remote, targeting=targeting)

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        """Google's remove: the campaign stops for good and keeps its reporting."""
        customer = digits(account_id)
        resource = f"customers/{customer}/campaigns/{int(campaign_id)}"
        self.client.mutate(customer, "campaigns", [{"remove": resource}], idempotent=True)
        return self.get_campaign(customer, campaign_id)

    # --- Metrics -------------------------------------------------------------------------
    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        query = f"{DAILY_QUERY[level]} WHERE {_between(start, end)}"
        rows = self.client.search_stream(account_id, query)
        metrics = (mapping.daily_metric(row, level=level) for row in rows)
        return unique_by(metrics, lambda m: (m.campaign_external_id, m.ad_external_id, m.date))

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        query, path = SEGMENT_QUERY[dimension]
        query = f"{query} WHERE {_between(start, end)}"
        if dimension == SegmentDimension.COUNTRY:
            # Each location appears once as "presence" and once as "interest": keep one.
            query += " AND geographic_view.location_type = 'LOCATION_OF_PRESENCE'"
        rows = self.client.search_stream(account_id, query)
        countries = (
            self._country_codes(account_id, rows) if dimension == SegmentDimension.COUNTRY else {}
        )
        totals: dict[tuple[str, dt.date, str], dict[str, Decimal]] = {}
        for row in unique_by(rows, _segment_row_key):
            code = str(_dig(row, path) or "")
            if dimension == SegmentDimension.AGE:
                value = mapping.age_value(code)
            elif dimension == SegmentDimension.COUNTRY:
                value = countries.get(code, f"geo:{code}")
            else:
                value = mapping.enum_value(code)
            mapping.add_segment(totals, row, value)
        return iter(mapping.segment_metrics(totals, dimension))

    def _country_codes(self, account_id: str, rows: list[dict[str, Any]]) -> dict[str, str]:
        """Geo target constant id (2840) -> ISO country code (US), in one query."""
        ids = sorted(
            {str(_dig(row, ("geographicView", "countryCriterionId")) or "") for row in rows} - {""}
        )
        if not ids:
            return {}
        query = (
            "SELECT geo_target_constant.id, geo_target_constant.country_code "
            f"FROM geo_target_constant WHERE geo_target_constant.id IN ({', '.join(ids)})"
        )
        codes: dict[str, str] = {}
        for row in self.client.search_stream(account_id, query):
            constant = row.get("geoTargetConstant") or {}
            if constant.get("id") and constant.get("countryCode"):
                codes[str(constant["id"])] = str(constant["countryCode"])
        return codes


def _segment_row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """Identity of a segment row, so a batch the server repeats is not counted twice."""
    return (
        str(_dig(row, ("campaign", "id"))),
        str(_dig(row, ("adGroup", "id"))),
        str(_dig(row, ("segments", "date"))),
        str(_dig(row, ("segments", "device"))),
        str(_dig(row, ("segments", "adNetworkType"))),
        str(_dig(row, ("adGroupCriterion", "ageRange", "type"))),
        str(_dig(row, ("adGroupCriterion", "gender", "type"))),
        str(_dig(row, ("geographicView", "countryCriterionId"))),
    )
