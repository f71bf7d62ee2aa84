"""Query parameters -> `MetricQuery`, shared by the API, the dashboard and the exports.

Errors name the parameter and list the valid values, so a caller can fix the request
from the message alone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from adplatform.models import Organization
from analytics.metrics import (
    ALL_METRICS,
    SEGMENT_DIMENSIONS,
    Dimension,
    MetricFilters,
    MetricQuery,
    Period,
)
from campaigns.models import Platform

PRESETS = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "mtd": "Month to date",
    "custom": "Custom",
}
DEFAULT_PRESET = "30d"
MAX_DAYS = 3 * 366
MAX_LIMIT = 10_000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ParamError(ValueError):
    """Bad parameters: `errors` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def organization_today(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the organization is: "yesterday" flips at its midnight, not UTC's."""
    return timezone.localtime(
        now or timezone.now(), zoneinfo.ZoneInfo(organization.time_zone)
    ).date()


def preset_period(preset: str, today: dt.date) -> Period:
    """Rolling presets end yesterday (today is still being counted); month to date ends today."""
    if preset == "mtd":
        return Period(start=today.replace(day=1), end=today)
    days = {"7d": 7, "30d": 30, "90d": 90}[preset]
    end = today - dt.timedelta(days=1)
    return Period(start=end - dt.timedelta(days=days - 1), end=end)


def _values(params: Mapping[str, object], name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist else ([params[name]] if name in params else [])
    values: list[str] = []
    for item in raw:
        values.extend(part.strip() for part in str(item).split(",") if part.strip())
    return values


def _ids(params: Mapping[str, object], name: str, errors: dict[str, list[str]]) -> tuple[int, ...]:
    values = _values(params, name)
    if any(not v.isdigit() for v in values):
        errors[name] = [f"{name} takes numeric ids, separated by commas."]
        return ()
    return tuple(int(v) for v in values)


def _date(value: str, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = [f"{name} must be a date as YYYY-MM-DD, got {value!r}."]
        return None


@dataclass(frozen=True, slots=True)
class PeriodChoice:
    preset: str
    period: Period


def parse_period(
    params: Mapping[str, object], *, today: dt.date, errors: dict[str, list[str]]
) -> PeriodChoice:
    """`start`/`end` win over `preset`; with neither, the default preset."""
    for name in ("start", "end", "preset"):
        # Present but empty is a client's mistake, not "use the default": say so.
        if name in params and str(params.get(name) or "") == "":
            errors[name] = ["Give a value or leave the parameter out."]
    start_raw = str(params.get("start") or "")
    end_raw = str(params.get("end") or "")
    preset = str(params.get("preset") or "")
    if start_raw or end_raw:
        if not (start_raw and end_raw):
            errors["start" if not start_raw else "end"] = ["Give both start and end."]
            return PeriodChoice(DEFAULT_PRESET, preset_period(DEFAULT_PRESET, today))
        start = _date(start_raw, "start", errors)
        end = _date(end_raw, "end", errors)
        if start and end:
            if end < start:
                errors["end"] = ["end must be on or after start."]
            elif (end - start).days + 1 > MAX_DAYS:
                errors["end"] = [f"A period is at most {MAX_DAYS} days."]
            else:
                return PeriodChoice("custom", Period(start=start, end=end))
        return PeriodChoice(DEFAULT_PRESET, preset_period(DEFAULT_PRESET, today))
    if preset and preset not in PRESETS or preset == "custom":
        valid = ", ".join(p for p in PRESETS if p != "custom")
        errors["preset"] = [
            f"Unknown preset {preset!r}; valid values are: {valid} (or give start and end)."
        ]
        preset = DEFAULT_PRESET
    preset = preset or DEFAULT_PRESET
    return PeriodChoice(preset, preset_period(preset, today))


def parse_filters(params: Mapping[str, object], errors: dict[str, list[str]]) -> MetricFilters:
    platforms = tuple(_values(params, "platform"))
    bad = [p for p in platforms if p not in Platform.values]
    if bad:
        errors["platform"] = [
            f"Unknown platform {bad[0]!r}; valid values are: {', '.join(Platform.values)}."
        ]
    segments = [(d.value, tuple(_values(params, d.value))) for d in sorted(SEGMENT_DIMENSIONS)]
    chosen = [(name, values) for name, values in segments if values]
    if len(chosen) > 1:
        errors[chosen[1][0]] = ["Filter on one audience dimension at a time."]
    return MetricFilters(
        platforms=platforms,
        ad_account_ids=_ids(params, "ad_account", errors),
        campaign_ids=_ids(params, "campaign", errors),
        ad_group_ids=_ids(params, "ad_group", errors),
        ad_ids=_ids(params, "ad", errors),
        creative_ids=_ids(params, "creative", errors),
        segment=chosen[0] if chosen else None,
    )


def parse_group_by(
    params: Mapping[str, object], errors: dict[str, list[str]]
) -> tuple[Dimension, ...]:
    names = _values(params, "group_by")
    valid = [d.value for d in Dimension]
    dimensions: list[Dimension] = []
    for name in names:
        if name not in valid:
            errors["group_by"] = [
                f"Unknown dimension {name!r}; valid values are: {', '.join(valid)}."
            ]
            return ()
        dimensions.append(Dimension(name))
    if len(dimensions) > 3:
        errors["group_by"] = ["Group by at most three dimensions."]
    return tuple(dimensions)


def parse_bool(params: Mapping[str, object], name: str, errors: dict[str, list[str]]) -> bool:
    raw = str(params.get(name) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw not in _FALSE:
        errors[name] = [f"{name} is true or false."]
    return False


def _int(
    params: Mapping[str, object],
    name: str,
    default: int | None,
    maximum: int,
    errors: dict[str, list[str]],
) -> int | None:
    raw = str(params.get(name) or "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        errors[name] = [f"{name} must be an integer from 0 to {maximum}."]
        return default
    return int(raw)


def parse_metric_query(
    params: Mapping[str, object], *, today: dt.date, default_limit: int | None = 1000
) -> tuple[MetricQuery, str]:
    """The `MetricQuery` and the preset name chosen; raises `ParamError`."""
    errors: dict[str, list[str]] = {}
    choice = parse_period(params, today=today, errors=errors)
    group_by = parse_group_by(params, errors)
    filters = parse_filters(params, errors)
    compare = parse_bool(params, "compare", errors)
    order_by = str(params.get("order_by") or "") or None
    if order_by is not None:
        allowed = [*ALL_METRICS, *(d.value for d in group_by)]
        if order_by.lstrip("-") not in allowed:
            errors["order_by"] = [
                f"Unknown order_by {order_by!r}; valid values are: {', '.join(allowed)} "
                "(prefix - for descending)."
            ]
            order_by = None
    limit = _int(params, "limit", default_limit, MAX_LIMIT, errors)
    offset = _int(params, "offset", 0, 10_000_000, errors) or 0
    if errors:
        raise ParamError(errors)
    query = MetricQuery(
        period=choice.period,
        group_by=group_by,
        filters=filters,
        compare=compare,
        order_by=order_by,
        limit=limit or None,
        offset=offset,
    )
    return query, choice.preset
