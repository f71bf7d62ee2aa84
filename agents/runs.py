"""Starting and executing agent runs; the Celery task calls `execute_run`."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
import zoneinfo
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from adplatform.metrics import AGENT_RUN_SECONDS
from adplatform.models import Organization
from agents.competitors import refresh_competitor_ads
from agents.models import AgentRun, AgentTask, CreativeVariant, LLMCall, Recommendation, RunStatus
from agents.providers.safety import redact_secrets
from agents.specialists import (
    RecommendationDraft,
    budget_manager_offline,
    check_guardrails,
    creative_specialist_offline,
    review_with_llm,
)
from agents.tools.data import AccountSnapshot, load_snapshot
from agents.workflow import REVIEW_AGENTS, has_model, people_of, run_review
from analytics.services.forecasts import ForecastUnavailable, forecast_metric
from campaigns.models import CampaignDailyMetric

logger = logging.getLogger(__name__)


def start_run(
    *,
    organization: Organization,
    task: str,
    params: dict[str, Any] | None = None,
    user: Any = None,
) -> AgentRun:
    """Record a queued run and hand it to a worker once the transaction commits."""
    from agents.tasks import execute_run_task

    run = AgentRun.objects.create(
        organization=organization, task=task, params=params or {}, created_by=user
    )
    transaction.on_commit(lambda: execute_run_task.delay(run.pk))
    return run


def default_as_of(organization: Organization) -> dt.date:
    """Yesterday in the organization's time zone, or the last day with data if earlier
    (a paused sync must not make every review look at empty days)."""
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()
    yesterday = today - dt.timedelta(days=1)
    last = CampaignDailyMetric.objects.filter(organization=organization).aggregate(
        last=Max("date")
    )["last"]
    return min(yesterday, last) if last else yesterday


def _step(run: AgentRun, step: str, started: float) -> None:
    run.progress = [*run.progress, {"step": step, "seconds": round(time.monotonic() - started, 3)}]
    AgentRun.objects.filter(pk=run.pk).update(progress=run.progress)


def store_recommendations(
    run: AgentRun, snapshot: AccountSnapshot, drafts: list[dict[str, Any]]
) -> tuple[int, list[str]]:
    """Keep the drafts within guardrails; returns how many were stored and why others not."""
    rejected, rows = [], []
    for raw in drafts:
        draft = RecommendationDraft.model_validate(raw)
        reason = check_guardrails(draft, snapshot)
        if reason is not None:
            rejected.append(f"{draft.title}: {reason}")
            continue
        rows.append(
            Recommendation(
                organization_id=run.organization_id,
                run=run,
                agent=draft.agent,
                campaign_id=draft.campaign_id,
                action=draft.action,
                params=draft.params,
                title=draft.title[:300],
                rationale=draft.rationale,
                expected_impact=draft.expected_impact.model_dump()
                if draft.expected_impact
                else None,
                confidence=draft.confidence,
                evidence=draft.evidence,
            )
        )
    Recommendation.objects.bulk_create(rows)
    return len(rows), rejected


def store_variants(run: AgentRun, output: dict[str, Any]) -> None:
    """Keep the Creative Specialist's variants as proposals the studio can save or discard."""
    extra = output.get("extra", {})
    campaign_id = run.params.get("campaign")
    CreativeVariant.objects.bulk_create(
        CreativeVariant(
            organization_id=run.organization_id,
            run=run,
            campaign_id=int(campaign_id) if campaign_id else None,
            platform=variant["platform"],
            ad_format=str(run.params.get("format") or ""),
            fields=variant["fields"],
            violations=variant["violations"],
            grounded_in=extra.get("grounding", []),
        )
        for variant in extra.get("variants", [])
    )


def execute_run(run_id: int) -> AgentRun:
    run = AgentRun.objects.select_related("organization").get(pk=run_id)
    if run.status not in (RunStatus.QUEUED,):
        return run
    organization = run.organization
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    started = time.monotonic()
    providers: list[dict[str, Any]] = []
    try:
        as_of = (
            dt.date.fromisoformat(run.params["as_of"])
            if run.params.get("as_of")
            else default_as_of(organization)
        )
        # Competitors' Ad Library ads are read before the snapshot so the review sees them.
        refresh = (
            refresh_competitor_ads(organization=organization).as_dict()
            if run.task == AgentTask.ACCOUNT_REVIEW
            else None
        )
        snapshot = load_snapshot(organization, as_of=as_of)
        _step(run, "load", started)
        output: dict[str, Any]
        if run.task == AgentTask.ACCOUNT_REVIEW:
            run.agents = list(REVIEW_AGENTS)
            final: dict[str, Any] = {}
            for node, update in run_review(organization, snapshot):
                providers.extend(update.get("providers", []))
                final = update.get("final", final)
                _step(run, node, started)
            output = final
        elif run.task == AgentTask.BUDGET_PLAN:
            run.agents = ["budget_manager"]
            total = run.params.get("total")
            report = budget_manager_offline(
                snapshot, total=float(total) if total is not None else None
            )
            output = _single(organization, report, providers)
        elif run.task == AgentTask.CREATIVE_VARIANTS:
            run.agents = ["creative_specialist"]
            campaign_id = run.params.get("campaign")
            report = creative_specialist_offline(
                snapshot,
                platform=run.params.get("platform") or "meta",
                campaign_id=int(campaign_id) if campaign_id else None,
                count=min(int(run.params.get("count") or 5), 10),
            )
            output = _single(organization, report, providers)
            store_variants(run, output)
        elif run.task == AgentTask.FORECAST:
            run.agents = ["campaign_analyst"]
            output = {"forecasts": _forecasts(organization, as_of)}
        else:
            raise ValueError(f"Unknown task {run.task!r}.")
        stored, rejected = store_recommendations(run, snapshot, output.get("recommendations", []))
        if refresh is not None:
            output["competitor_refresh"] = refresh
        output["stored_recommendations"] = stored
        output["rejected_recommendations"] = rejected
        run.output = output
        run.status = RunStatus.SUCCEEDED
    except Exception as exc:
        logger.exception("Agent run %s failed", run.pk)
        run.status = RunStatus.FAILED
        run.error = redact_secrets(str(exc))[:2000]
    run.finished_at = timezone.now()
    _usage(run, providers)
    run.save()
    AGENT_RUN_SECONDS.labels(run.task, run.provider).observe(time.monotonic() - started)
    return run


def _single(
    organization: Organization, report: Any, providers: list[dict[str, Any]]
) -> dict[str, Any]:
    if has_model(organization):
        report, note = review_with_llm(organization, report, people=people_of(organization))
        providers.append(note)
    data: dict[str, Any] = report.model_dump(mode="json")
    return data


def _forecasts(organization: Organization, as_of: dt.date) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for metric in ("spend", "conversions", "revenue"):
        try:
            forecast = forecast_metric(organization, metric=metric, as_of=as_of, horizon=30)
        except ForecastUnavailable as exc:
            result[metric] = {"error": str(exc)}
            continue
        f = forecast.forecast
        result[metric] = {
            "dates": [d.isoformat() for d in forecast.dates],
            "mean": [float(x) for x in f.mean],
            "lower": [float(x) for x in f.lower],
            "upper": [float(x) for x in f.upper],
            "total": float(sum(f.mean)),
        }
    return result


def _usage(run: AgentRun, providers: list[dict[str, Any]]) -> None:
    if not providers:
        run.provider, run.model = "offline", ""
        return
    run.provider = providers[0]["provider"]
    run.model = providers[0]["model"]
    run_ids = [uuid.UUID(p["run_id"]) for p in providers]
    sums = LLMCall.objects.filter(
        organization_id=run.organization_id, run_id__in=run_ids
    ).aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"), cost=Sum("cost_estimate"))
    run.prompt_tokens = sums["p"] or 0
    run.completion_tokens = sums["c"] or 0
    run.cost_estimate = sums["cost"]


def decide_creative_variant(*, variant: CreativeVariant, save: bool) -> CreativeVariant:
    """Keep a proposed variant in the studio's library, or discard it."""
    from agents.models import VariantStatus

    variant.status = VariantStatus.SAVED if save else VariantStatus.DISCARDED
    variant.decided_at = timezone.now()
    variant.save(update_fields=["status", "decided_at"])
    return variant
