"""The six agents' offline analysts: numbers from agents.tools, words from templates.

Each `*_offline(snapshot, ...)` returns an `AgentReport`. `review_with_llm` then lets a
configured model reword the summary and drop recommendations it disagrees with; it can
neither add an action nor raise a confidence, so outside text (ad copy, competitor notes)
cannot steer a budget.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from adplatform.models import Organization
from agents.allocation import Curve, allocate
from agents.limits import fit_to, limits_for, violations
from agents.models import ProviderKind
from agents.providers import LLMRequest, PromptBuilder, ProviderSpec, Scrubber, run_llm_task
from agents.tools.analysis import (
    CurveFit,
    compare_segments,
    creative_fatigue,
    delivery_ratio,
    fit_response_curves,
    month_pacing,
    poisson_shortfall_p,
)
from agents.tools.competition import (
    CADENCE_WEEKS,
    LONG_RUNNING_DAYS,
    CompetitorAdView,
    analyze_competitor,
    offer_counts,
    theme_counts,
)
from agents.tools.data import AccountSnapshot
from analytics.statistics import detect_anomalies_many

ACTIONS = ("pause", "activate", "daily_budget", "bid")
# Guardrails every recommendation passes before it is stored (and again before applying).
MAX_BUDGET_STEP_UP = 2.0
MAX_BUDGET_STEP_DOWN = 0.5
SIGNIFICANCE = 0.01
FATIGUE_DECLINE = 0.2
# Days an anomaly scan reads: four weeks of baseline and the week whose days are reported
# (its cost grows with the window, and it runs on every campaign before anything else).
ANOMALY_WINDOW = 35
# Days a response curve is fitted on (recent enough to describe today's auction).
FIT_DAYS = 56


class Impact(BaseModel):
    metric: str
    change: float = Field(description="Expected change per day (absolute).")
    low: float
    high: float


class RecommendationDraft(BaseModel):
    agent: str
    campaign_id: int
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    title: str
    rationale: str
    expected_impact: Impact | None = None
    confidence: float = Field(ge=0, le=1)
    evidence: dict[str, Any] = Field(default_factory=dict)


class Finding(BaseModel):
    title: str
    detail: str
    confidence: float = Field(ge=0, le=1)
    evidence: dict[str, Any] = Field(default_factory=dict)


class AgentReport(BaseModel):
    agent: str
    summary: str
    findings: list[Finding] = Field(default_factory=list)
    recommendations: list[RecommendationDraft] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)
    extra: dict[str, Any] = Field(default_factory=dict)


class LLMReview(BaseModel):
    """What a model may change in an agent's report."""

    summary: str = Field(max_length=1200, description="The report's summary, reworded.")
    confidence: float = Field(ge=0, le=1, description="Your confidence in the report.")
    drop: list[int] = Field(
        default_factory=list,
        description="Indexes of recommendations you advise against (they are removed).",
    )


def check_guardrails(draft: RecommendationDraft, snapshot: AccountSnapshot) -> str | None:
    """Why `draft` may not be stored, or None."""
    campaign = snapshot.campaigns.get(draft.campaign_id)
    if campaign is None:
        return "unknown campaign"
    if draft.action not in ACTIONS:
        return f"action {draft.action!r} is not allowed"
    if draft.action == "daily_budget":
        current = campaign.daily_budget
        amount = float(draft.params.get("daily_budget", -1))
        if not current or amount <= 0:
            return "a budget change needs a current and a positive new budget"
        if (
            not MAX_BUDGET_STEP_DOWN * current - 0.01
            <= amount
            <= MAX_BUDGET_STEP_UP * current + 0.01
        ):
            return "budget change outside 0.5×–2× of the current budget"
    if draft.action == "bid":
        current_bid = campaign.bid_amount
        amount = float(draft.params.get("bid_amount", -1))
        if not current_bid or not 0.5 * current_bid <= amount <= 1.5 * current_bid:
            return "bid change outside 0.5×–1.5× of the current bid"
    return None


# --- Campaign Analyst ------------------------------------------------------------------------
def campaign_analyst_offline(snapshot: AccountSnapshot) -> AgentReport:
    totals = snapshot.totals
    findings: list[Finding] = []
    kpis: dict[str, Any] = {}
    for metric in ("spend", "conversions", "cpa", "roas", "ctr"):
        change = totals.change(metric)
        current = totals.current.value(metric)
        kpis[metric] = {
            "current": float(current) if current is not None else None,
            "previous": float(totals.previous.value(metric) or 0) if totals.previous else None,
            "change_percent": float(change.percent) if change.percent is not None else None,
        }
    # Drivers: campaigns whose conversions moved most between the two fortnights.
    moves = []
    for campaign_id, series in snapshot.campaign_series.items():
        # The series end on the review date: the last 14 days and the 14 before them.
        now = sum(series.conversions[-14:])
        before = sum(series.conversions[-28:-14])
        moves.append((now - before, campaign_id, now, before))
    moves.sort(key=lambda m: abs(m[0]), reverse=True)
    total_move = sum(m[0] for m in moves) or 1.0
    for delta, campaign_id, now, before in moves[:3]:
        if delta == 0:
            continue
        name = snapshot.campaigns[campaign_id].name if campaign_id in snapshot.campaigns else "?"
        findings.append(
            Finding(
                title=f"Driver: campaign #{campaign_id}",
                detail=f"{name}: conversions {before:.0f} → {now:.0f} in the last 14 days "
                f"({delta:+.0f}, {abs(delta / total_move) * 100:.0f}% of the account's move).",
                confidence=0.9,
                evidence={"campaign_id": campaign_id, "current": now, "previous": before},
            )
        )
    anomalies = 0
    # Every campaign's spend and conversions scanned in one batch (1,000 series at 500
    # campaigns), then read back in campaign order.
    scanned = [
        (campaign_id, series, metric, values[-ANOMALY_WINDOW:])
        for campaign_id, series in snapshot.campaign_series.items()
        if sum(series.spend[-14:]) != 0
        for metric, values in (("spend", series.spend), ("conversions", series.conversions))
    ]
    scans = detect_anomalies_many([window for *_, window in scanned])
    for (campaign_id, series, metric, window), scan in zip(scanned, scans, strict=True):
        if scan is None:
            continue
        for point in scan.points:
            if point.index < len(window) - 7:
                continue
            anomalies += 1
            day = series.days[-ANOMALY_WINDOW:][point.index]
            findings.append(
                Finding(
                    title=f"Anomaly: {metric} of campaign #{campaign_id} on {day}",
                    detail=f"{metric} was {point.value:,.2f} against an expected "
                    f"{point.expected:,.2f} (robust z {point.score:+.1f}).",
                    confidence=round(point.confidence, 4),
                    evidence={
                        "campaign_id": campaign_id,
                        "metric": metric,
                        "date": day.isoformat(),
                        "value": point.value,
                        "expected": point.expected,
                        "method": scan.method,
                    },
                )  # fmt: skip
            )
    conv = kpis["conversions"]["change_percent"]
    spend = kpis["spend"]["change_percent"]
    summary = (
        f"Last 14 days: spend {kpis['spend']['current'] or 0:,.2f} {snapshot.currency}"
        + (f" ({spend:+.1f}%)" if spend is not None else "")
        + f", conversions {kpis['conversions']['current'] or 0:,.0f}"
        + (f" ({conv:+.1f}%)" if conv is not None else "")
        + f"; {anomalies} anomal{'y' if anomalies == 1 else 'ies'} in the last 7 days."
    )
    return AgentReport(
        agent="campaign_analyst",
        summary=summary,
        findings=findings,
        confidence=0.9,
        extra={"kpis": kpis},
    )


# --- Creative Specialist ---------------------------------------------------------------------
INSTRUCTION_LIKE = re.compile(
    r"\b(ignore|disregard)\b.{0,40}\b(instruction|prompt|rule)s?\b|\bsystem prompt\b"
    r"|\b(raise|increase|double)\b.{0,20}\bbudgets?\b",
    re.IGNORECASE,
)
CTA_PHRASES = ["Shop now", "Learn more", "Sign up today", "See what's new", "Get yours"]


def _copy_variants(platform: str, sources: list[str], count: int = 5) -> list[dict[str, str]]:
    limits = limits_for(platform)
    variants: list[dict[str, str]] = []
    for index in range(count):
        source = sources[index % len(sources)] if sources else "Discover our best sellers"
        cta = CTA_PHRASES[index % len(CTA_PHRASES)]
        fields: dict[str, str] = {}
        for name, limit in limits.items():
            if name == "headline":
                text = source if index % 2 == 0 else f"{source} – {cta}"
            elif name == "brand_name":
                continue
            else:
                text = f"{source}. {cta}."
            fields[name] = fit_to(text, limit)
        if fields not in variants:
            variants.append(fields)
    return variants


def creative_specialist_offline(
    snapshot: AccountSnapshot,
    *,
    platform: str | None = None,
    days: int = 28,
    campaign_id: int | None = None,
    count: int = 5,
) -> AgentReport:
    """Rank creatives, find fatigue, and (with `platform`) write `count` copy variants
    grounded in the best-performing headlines: `campaign_id`'s own ads first."""
    ranked = []
    findings: list[Finding] = []
    fatigued = []
    for ad_id, series in snapshot.ad_series.items():
        impressions = sum(series.impressions[-days:])
        if impressions < 1000:
            continue
        clicks = sum(series.clicks[-days:])
        conversions = sum(series.conversions[-days:])
        ranked.append((clicks / impressions, conversions / clicks if clicks else 0.0, ad_id))
        test = creative_fatigue(series)
        if test and test.decline >= FATIGUE_DECLINE and test.p_value < SIGNIFICANCE:
            fatigued.append(ad_id)
            findings.append(
                Finding(
                    title=f"Creative fatigue: ad #{ad_id}",
                    detail=f"CTR fell {test.decline * 100:.0f}% over {test.age_days} days "
                    f"({test.ctr_start * 100:.2f}% → {test.ctr_end * 100:.2f}%); "
                    "refresh or rotate the creative.",
                    confidence=round(1 - test.p_value, 4),
                    evidence={
                        "ad_id": ad_id,
                        "decline": test.decline,
                        "p_value": test.p_value,
                        "days": test.days,
                        "method": "weighted least squares of log CTR "
                        "on creative age, one-sided t-test of the slope",
                    },
                )  # fmt: skip
            )
    ranked.sort(key=lambda r: r[0] * max(r[1], 1e-6), reverse=True)
    ranking = [
        {"ad_id": ad_id, "ctr": round(ctr, 6), "cvr": round(cvr, 6)} for ctr, cvr, ad_id in ranked
    ]
    extra: dict[str, Any] = {"ranking": ranking[:20], "fatigued_ad_ids": fatigued}
    if platform:
        sources: list[str] = []
        grounding = []
        own = [r for r in ranked if r[2] in snapshot.ads and
               snapshot.ads[r[2]].campaign_id == campaign_id]  # fmt: skip
        for ctr, cvr, ad_id in [*own, *ranked]:
            headline = snapshot.ads[ad_id].headline if ad_id in snapshot.ads else ""
            # Grounding only in copy that reads as copy, never in text that gives orders.
            if headline and not INSTRUCTION_LIKE.search(headline) and headline not in sources:
                sources.append(headline)
                grounding.append({"ad_id": ad_id, "headline": headline, "ctr": round(ctr, 6),
                                  "cvr": round(cvr, 6)})  # fmt: skip
            if len(sources) == 3:
                break
        variants = _copy_variants(platform, sources, count=count)
        extra["variants"] = [
            {"platform": platform, "fields": v, "violations": violations(platform, v)}
            for v in variants
        ]
        extra["grounded_in"] = sources
        extra["grounding"] = grounding
    summary = (
        f"{len(ranked)} ads ranked by CTR × conversion rate over {days} days; "
        f"{len(fatigued)} show significant creative fatigue."
    )
    return AgentReport(
        agent="creative_specialist",
        summary=summary,
        findings=findings,
        confidence=0.9 if ranked else 0.2,
        extra=extra,
    )


# --- Audience Expert -------------------------------------------------------------------------
def audience_expert_offline(snapshot: AccountSnapshot) -> AgentReport:
    findings: list[Finding] = []
    best: dict[int, dict[str, Any]] = {}
    for (campaign_id, dimension), rows in snapshot.segments.items():
        tests = compare_segments(rows)
        if not tests:
            continue
        threshold = SIGNIFICANCE / len(tests)  # Bonferroni within the dimension
        for test in tests:
            if test.p_value >= threshold:
                continue
            direction = "out-performs" if test.lift > 1 else "under-performs"
            findings.append(
                Finding(
                    title=f"Campaign #{campaign_id}: {dimension} {test.value} {direction}",
                    detail=f"Conversion rate {test.rate * 100:.2f}% vs {test.rest_rate * 100:.2f}% "
                    f"for the rest of {dimension} ({test.lift:.2f}×).",
                    confidence=round(1 - test.p_value, 6),
                    evidence={
                        "campaign_id": campaign_id,
                        "dimension": dimension,
                        "value": test.value,
                        "lift": test.lift,
                        "p_value": test.p_value,
                        "clicks": test.trials,
                        "conversions": test.successes,
                        "method": "two-proportion z-test, two-sided, Bonferroni",
                    },
                )  # fmt: skip
            )
            if test.lift > 1 and test.lift > best.get(campaign_id, {}).get("lift", 0):
                best[campaign_id] = {"dimension": dimension, "value": test.value,
                                     "lift": test.lift, "p_value": test.p_value}  # fmt: skip
    return AgentReport(
        agent="audience_expert",
        summary=f"{len(findings)} significant segment differences; the strongest winner found "
        f"in {len(best)} campaigns. Segment targeting is changed on the platform (not an "
        "action this app applies).",
        findings=findings,
        confidence=0.9 if findings else 0.5,
        extra={"winning_segments": {str(k): v for k, v in best.items()}},
    )


# --- Performance Optimizer and Budget Manager ---------------------------------------------
_fits_lock = threading.Lock()


def _fits(snapshot: AccountSnapshot) -> dict[int, CurveFit]:
    """Each active campaign's response curve, fitted once per snapshot: the optimizer and
    the budget manager both read them, from parallel branches of the review."""
    with _fits_lock:
        cached = snapshot.memo.get("fits")
        if cached is None:
            cached = snapshot.memo["fits"] = _fit_all(snapshot)
    return cached


def _fit_all(snapshot: AccountSnapshot) -> dict[int, CurveFit]:
    """Active campaigns' curves on their last 56 days, all fitted in one batch."""
    ids = [
        campaign_id
        for campaign_id in snapshot.campaign_series
        if campaign_id in snapshot.campaigns and snapshot.campaigns[campaign_id].is_active
    ]
    if not ids:
        return {}
    series = [snapshot.campaign_series[campaign_id] for campaign_id in ids]
    fits = fit_response_curves(
        np.array([s.spend[-FIT_DAYS:] for s in series], dtype=float),
        np.array([s.conversions[-FIT_DAYS:] for s in series], dtype=float),
    )
    return {campaign_id: fit for campaign_id, fit in zip(ids, fits, strict=True) if fit}


def _target_cpa(snapshot: AccountSnapshot) -> float | None:
    spend = sum(sum(s.spend[-28:]) for s in snapshot.campaign_series.values())
    conversions = sum(sum(s.conversions[-28:]) for s in snapshot.campaign_series.values())
    return spend / conversions if conversions else None


def performance_optimizer_offline(snapshot: AccountSnapshot) -> AgentReport:
    target = _target_cpa(snapshot)
    fits = _fits(snapshot)
    drafts: list[RecommendationDraft] = []
    for campaign_id, info in snapshot.campaigns.items():
        series = snapshot.campaign_series.get(campaign_id)
        if not info.is_active or series is None or target is None:
            continue
        spend14, conv14 = sum(series.spend[-14:]), sum(series.conversions[-14:])
        if spend14 >= 3 * target and conv14 == 0:
            expected = spend14 / target
            drafts.append(
                RecommendationDraft(
                    agent="performance_optimizer",
                    campaign_id=campaign_id,
                    action="pause",
                    title=f"Pause {info.name}",
                    rationale=f"Spent {spend14:,.2f} in 14 days without a conversion; at the "
                    f"account CPA of {target:,.2f} about {expected:.1f} were expected.",
                    expected_impact=Impact(
                        metric="spend", change=-spend14 / 14, low=-spend14 / 14, high=-spend14 / 14
                    ),  # fmt: skip
                    confidence=round(1 - poisson_shortfall_p(0, expected), 4),
                    evidence={
                        "spend_14d": spend14,
                        "conversions_14d": conv14,
                        "account_cpa": target,
                    },  # fmt: skip
                )
            )
            continue
        fit = fits.get(campaign_id)
        if fit is None or not info.daily_budget:
            continue
        delivery = delivery_ratio(series, info.daily_budget)
        spend_now = info.daily_budget * delivery
        marginal = fit.marginal_cpa(spend_now)
        factor = 1.2 if marginal < 0.7 * target else 0.8 if marginal > 1.5 * target else None
        if factor is not None and fit.quality != "weak":
            new_budget = round(info.daily_budget * factor, 2)
            base = fit.conversions(spend_now)
            low, high = fit.conversions_range(spend_now * factor, spend_now)
            drafts.append(
                RecommendationDraft(
                    agent="performance_optimizer",
                    campaign_id=campaign_id,
                    action="daily_budget",
                    params={"daily_budget": new_budget},
                    title=f"{'Scale' if factor > 1 else 'Trim'} {info.name} to {new_budget:,.2f}/day",
                    rationale=f"The next conversion costs {marginal:,.2f} here against an "
                    f"account CPA of {target:,.2f}.",
                    expected_impact=Impact(
                        metric="conversions",
                        change=fit.conversions(spend_now * factor) - base,
                        low=low - base,
                        high=high - base,
                    ),
                    confidence=round(fit.confidence, 4),
                    evidence=_fit_evidence(fit, spend_now, marginal, target),
                )
            )
        elif (
            info.bid_amount
            and info.bid_strategy in ("cost_cap", "bid_cap", "target_cpa")
            and delivery < 0.75
            and marginal < target
        ):
            new_bid = round(info.bid_amount * 1.1, 2)
            drafts.append(
                RecommendationDraft(
                    agent="performance_optimizer",
                    campaign_id=campaign_id,
                    action="bid",
                    params={"bid_amount": new_bid},
                    title=f"Raise the bid of {info.name} to {new_bid:,.2f}",
                    rationale=f"It spends only {delivery * 100:.0f}% of its budget while its "
                    f"next conversion ({marginal:,.2f}) costs less than the account CPA.",
                    expected_impact=None,
                    confidence=round(fit.confidence * 0.8, 4),
                    evidence=_fit_evidence(fit, spend_now, marginal, target),
                )
            )
    return AgentReport(
        agent="performance_optimizer",
        summary=f"{len(drafts)} campaign changes proposed against an account CPA of "
        + (f"{target:,.2f}." if target else "n/a."),
        recommendations=drafts,
        confidence=0.8 if drafts else 0.6,
        extra={"account_cpa": target},
    )


def _fit_evidence(fit: CurveFit, spend: float, marginal: float, target: float | None) -> dict:
    return {
        "curve": {"scale": fit.scale, "shape": fit.shape, "shape_se": fit.shape_se,
                  "r_squared": fit.r_squared, "days": fit.days, "quality": fit.quality,
                  "method": fit.method},
        "spend_per_day": spend, "marginal_cpa": marginal, "account_cpa": target,
    }  # fmt: skip


def budget_curves(
    snapshot: AccountSnapshot,
    *,
    exclude: set[int] = frozenset(),  # type: ignore[assignment]
) -> list[Curve]:
    """Budget → conversions curves (spend curve × delivery), bounds 0.5×–2× today."""
    curves = []
    for campaign_id, fit in _fits(snapshot).items():
        info = snapshot.campaigns[campaign_id]
        if campaign_id in exclude or not info.daily_budget:
            continue
        delivery = delivery_ratio(snapshot.campaign_series[campaign_id], info.daily_budget)
        curves.append(
            Curve(
                key=campaign_id,
                scale=fit.scale * delivery**fit.shape,
                shape=fit.shape,
                low=info.daily_budget * MAX_BUDGET_STEP_DOWN,
                high=info.daily_budget * MAX_BUDGET_STEP_UP,
            )
        )
    return curves


def budget_manager_offline(
    snapshot: AccountSnapshot,
    *,
    total: float | None = None,
    exclude: set[int] = frozenset(),  # type: ignore[assignment]
    min_change: float = 0.05,
) -> AgentReport:
    curves = budget_curves(snapshot, exclude=exclude)
    fits = _fits(snapshot)
    current = {c.key: snapshot.campaigns[c.key].daily_budget or 0.0 for c in curves}
    budget_total = total if total is not None else sum(current.values())
    plan = allocate(curves, budget_total)
    before = sum(c.value(current[c.key]) for c in curves)
    after = sum(c.value(plan[c.key]) for c in curves)
    drafts = []
    for curve in curves:
        old, new = current[curve.key], round(plan[curve.key], 2)
        if old <= 0 or abs(new - old) / old < min_change:
            continue
        fit = fits[curve.key]
        delivery = curve.scale and (curve.scale / fit.scale) ** (1 / fit.shape)
        low, high = fit.conversions_range(new * delivery, old * delivery)
        base = curve.value(old)
        info = snapshot.campaigns[curve.key]
        drafts.append(
            RecommendationDraft(
                agent="budget_manager",
                campaign_id=curve.key,
                action="daily_budget",
                params={"daily_budget": new},
                title=f"Set {info.name} to {new:,.2f}/day (from {old:,.2f})",
                rationale="Moves budget to where the next conversion is cheapest: every "
                "campaign left between its bounds ends at the same marginal cost.",
                expected_impact=Impact(
                    metric="conversions",
                    change=curve.value(new) - base,
                    low=low - base,
                    high=high - base,
                ),
                confidence=round(fit.confidence, 4),
                evidence=_fit_evidence(fit, old * delivery, fit.marginal_cpa(old * delivery), None)
                | {"bounds": [curve.low, curve.high]},  # fmt: skip
            )
        )
    pacing = []
    for campaign_id, info in snapshot.campaigns.items():
        series = snapshot.campaign_series.get(campaign_id)
        if series is None or not info.is_active or not info.daily_budget:
            continue
        p = month_pacing(series, info.daily_budget, snapshot.as_of)
        if p.ratio is not None and abs(p.ratio - 1) > 0.1:
            pacing.append({"campaign_id": campaign_id, "month_to_date": p.month_to_date,
                           "projected": p.projected, "budget": p.budget,
                           "ratio": p.ratio})  # fmt: skip
    uplift = (after - before) / before if before else 0.0
    return AgentReport(
        agent="budget_manager",
        summary=f"Reallocating {budget_total:,.2f} {snapshot.currency}/day across "
        f"{len(curves)} campaigns: expected conversions {before:,.1f} → {after:,.1f} a day "
        f"({uplift * 100:+.1f}%). {len(pacing)} campaigns pace more than 10% off their "
        "month budget.",
        recommendations=drafts,
        confidence=round(min((d.confidence for d in drafts), default=0.5), 4),
        extra={
            "plan": {str(k): {"current": current[k], "proposed": plan[k]} for k in plan},
            "expected_conversions": {"current": before, "planned": after},
            "pacing": pacing,
        },
    )


# --- Competitive Analyst -----------------------------------------------------------------
def _sample_confidence(n: int, prior: int = 5) -> float:
    """How much a pattern seen in `n` ads is worth: n/(n+prior), at most 0.95."""
    return round(min(0.95, n / (n + prior)), 4) if n else 0.0


def competitive_analyst_offline(snapshot: AccountSnapshot) -> AgentReport:
    """Competitors from their Ad Library ads (themes, offers, formats, long runners,
    launch cadence) and from users' notes; every figure is counted from stored ads."""
    as_of = snapshot.as_of
    ads_by: dict[str, list[CompetitorAdView]] = defaultdict(list)
    for row in snapshot.competitor_ads:
        ad = CompetitorAdView.from_dict(row)
        ads_by[ad.competitor].append(ad)
    notes_by: dict[str, list[str]] = defaultdict(list)
    for note in snapshot.competitor_notes:
        notes_by[note["competitor"]].append(note["text"])

    findings: list[Finding] = []
    profiles: dict[str, Any] = {}
    for competitor in sorted(ads_by, key=lambda c: -len(ads_by[c]))[:10]:
        ads = ads_by[competitor]
        profile = analyze_competitor(ads, as_of)
        profiles[competitor] = profile
        n = profile["ads"]
        themes = ", ".join(f"{t} ({share * 100:.0f}%)"
                           for t, share in list(profile["themes"].items())[:3])  # fmt: skip
        offers = ", ".join(f"{o} ({c})" for o, c in list(profile["offers"].items())[:3])
        formats = profile["formats"]
        cadence = profile["cadence"]
        findings.append(
            Finding(
                title=f"{competitor}: {n} ads in the Ad Library, {profile['active_ads']} active",
                detail=(
                    f"Themes: {themes or 'none recurring'}. Offers: {offers or 'none'}. "
                    f"Video {formats['video_share'] * 100:.0f}% of ads, "
                    f"{formats['multi_version_share'] * 100:.0f}% with several versions."
                ),
                confidence=_sample_confidence(n),
                evidence={
                    "competitor": competitor,
                    "ads": n,
                    "themes": profile["themes"],
                    "offers": profile["offers"],
                    "formats": formats,
                    "method": "counts over the competitor's Ad Library ads",
                },
            )  # fmt: skip
        )
        if profile["long_running"]:
            top = profile["long_running"][0]
            findings.append(
                Finding(
                    title=f"{competitor}: {profile['long_running_count']} ads running "
                    f"{LONG_RUNNING_DAYS}+ days",
                    detail=f"The longest has run {top['days']} days since {top['since']}; "
                    "advertisers keep ads that pay, so these show what works for them.",
                    confidence=_sample_confidence(profile["long_running_count"], prior=2),
                    evidence={
                        "competitor": competitor,
                        "long_running": profile["long_running"],
                        "method": f"active ads with delivery start ≥ {LONG_RUNNING_DAYS} "
                        "days before the review date",
                    },
                )  # fmt: skip
            )
        if cadence["last_launch"]:
            trend = cadence["trend"]
            findings.append(
                Finding(
                    title=f"{competitor}: launches {cadence['recent_per_week']:.1f} ads a week",
                    detail=f"Over the last {CADENCE_WEEKS} weeks {cadence['mean_per_week']:.1f} "
                    f"new ads a week on average; last launch {cadence['last_launch']}"
                    + (
                        f"; the last 4 weeks run at {trend:.1f}× the weeks before."
                        if trend
                        else "."
                    ),
                    confidence=_sample_confidence(sum(cadence["per_week"])),
                    evidence={
                        "competitor": competitor,
                        "cadence": cadence,
                        "method": "ads by delivery start date, per week",
                    },
                )  # fmt: skip
            )
    for competitor, texts in sorted(notes_by.items(), key=lambda item: -len(item[1]))[:10]:
        counts = theme_counts(texts)
        findings.append(
            Finding(
                title=f"{competitor}: {len(texts)} note{'s' if len(texts) != 1 else ''}",
                detail=(
                    "Recurring themes in notes: "
                    + ", ".join(f"{t} ({n})" for t, n in counts.most_common(3))
                    if counts
                    else "No recurring theme in the notes."
                ),
                confidence=_sample_confidence(len(texts), prior=3),
                evidence={
                    "competitor": competitor,
                    "notes": len(texts),
                    "themes": dict(counts),
                    "offers": dict(offer_counts(texts)),
                },  # fmt: skip
            )
        )
    total_ads = sum(len(v) for v in ads_by.values())
    notes = len(snapshot.competitor_notes)
    if total_ads or notes:
        summary = (f"{total_ads} Ad Library ads of {len(ads_by)} tracked competitors and "
                   f"{notes} notes on {len(notes_by)} competitors.")  # fmt: skip
    else:
        summary = ("No competitor data yet: track competitors (Meta Ad Library) or add notes "
                   "on the competitors page.")  # fmt: skip
    return AgentReport(
        agent="competitive_analyst",
        summary=summary,
        findings=findings,
        confidence=_sample_confidence(total_ads + notes) if total_ads or notes else 0.1,
        extra={"competitors": profiles},
    )


# --- The model's pass --------------------------------------------------------------------------
AGENT_ROLES = {
    "campaign_analyst": "You are a campaign analyst at an advertising agency.",
    "creative_specialist": "You are a creative specialist at an advertising agency.",
    "audience_expert": "You are an audience expert at an advertising agency.",
    "performance_optimizer": "You are a performance optimizer at an advertising agency.",
    "budget_manager": "You are a budget manager at an advertising agency.",
    "competitive_analyst": "You are a competitive analyst at an advertising agency.",
    "synthesis": "You are the lead strategist at an advertising agency.",
}


def review_with_llm(
    organization: Organization,
    report: AgentReport,
    *,
    people: tuple[str, ...] = (),
    chain: Sequence[ProviderSpec] | None = None,
    records: list[dict[str, Any]] | None = None,
) -> tuple[AgentReport, dict[str, Any]]:
    """Let the organization's model reword `report` and veto recommendations.

    Returns the report and a note of the provider used. The model never adds actions or
    changes numbers; its confidence can only lower the statistical one.
    """
    prompt = (
        PromptBuilder(role=AGENT_ROLES[report.agent], scrubber=Scrubber(names=people))
        .instruction(
            "Review the analysis in the data. Rewrite its summary for an account manager, "
            "quoting only numbers present in the data. List the indexes of recommendations "
            "you advise against, and say how confident you are in the analysis."
        )
        .data("summary", {"text": report.summary})
        .data("findings", [f.model_dump(exclude={"evidence"}) for f in report.findings[:30]])
        .data(
            "recommendations",
            [
                {"index": i, "title": r.title, "rationale": r.rationale, "confidence": r.confidence}
                for i, r in enumerate(report.recommendations)
            ],
        )
        .data("extra", {k: v for k, v in report.extra.items() if k != "plan"})
        .build()
    )
    result = run_llm_task(
        organization,
        LLMRequest(
            agent=report.agent,
            task="review",
            prompt=prompt,
            output_schema=LLMReview,
            offline=lambda: LLMReview(summary=report.summary, confidence=report.confidence),
        ),
        chain=chain,
        records=records,
    )
    note = {"provider": str(result.provider), "model": result.model, "run_id": str(result.run_id)}
    if result.provider == ProviderKind.OFFLINE:
        # Every model failed: the statistics stand as they are (capping each
        # recommendation at the report's confidence would lower them for no reason).
        return report, note
    review = result.output
    keep = [r for i, r in enumerate(report.recommendations) if i not in set(review.drop)]
    capped = min(report.confidence, review.confidence)
    updated = report.model_copy(
        update={
            "summary": review.summary.strip() or report.summary,
            "confidence": capped,
            "recommendations": [
                r.model_copy(update={"confidence": min(r.confidence, review.confidence)})
                for r in keep
            ],
        }
    )
    return updated, note


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
