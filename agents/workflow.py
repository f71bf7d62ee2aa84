"""The multi-agent account review as a LangGraph graph, and the single-agent tasks.

frame (Campaign Analyst) → creative, audience, optimizer, competitive in parallel →
budget (Budget Manager, reconciling with the optimizer) → synthesis. The account is read
once, before the graph runs (`load_snapshot`); nodes compute on it, and call a model only
when the organization has one, so parallel branches overlap their model latency.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from adplatform.models import Organization
from agents.providers.config import resolve_chain
from agents.providers.safety import names_of_users
from agents.services import record_llm_calls
from agents.specialists import (
    AgentReport,
    audience_expert_offline,
    budget_manager_offline,
    campaign_analyst_offline,
    competitive_analyst_offline,
    creative_specialist_offline,
    performance_optimizer_offline,
    review_with_llm,
)
from agents.tools.data import AccountSnapshot

SPECIALISTS = ("creative_specialist", "audience_expert", "performance_optimizer",
               "competitive_analyst")  # fmt: skip
REVIEW_AGENTS = ("campaign_analyst", *SPECIALISTS, "budget_manager")


class ReviewState(TypedDict, total=False):
    reports: Annotated[dict[str, dict[str, Any]], operator.or_]
    providers: Annotated[list[dict[str, Any]], operator.add]
    final: dict[str, Any]


def people_of(organization: Organization) -> tuple[str, ...]:
    """Names (user, first, last, full, e-mail local part) of the organization's members:
    they are scrubbed from everything sent to a model, wherever they appear."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(memberships__organization=organization)
    return names_of_users(users)


def has_model(organization: Organization) -> bool:
    """Whether the organization's chain starts with a real model (not offline)."""
    return not resolve_chain(organization)[0].is_offline


class Reviewer:
    """Runs agents on one snapshot, through the organization's model when it has one.

    Parallel branches run in LangGraph's worker threads. They touch no database: each
    agent's provider chain is resolved here, before the graph runs, and the chain's call
    records are collected and written by the caller's thread (`flush`).
    """

    def __init__(self, organization: Organization, snapshot: AccountSnapshot) -> None:
        self.organization = organization
        self.snapshot = snapshot
        self.use_model = has_model(organization)
        self.people = people_of(organization) if self.use_model else ()
        self.chains = (
            {agent: resolve_chain(organization, agent=agent) for agent in REVIEW_AGENTS}
            if self.use_model
            else {}
        )
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ahead: dict[str, Future[Any]] = {}

    def start_ahead(self, makers: dict[str, Callable[[], Any]]) -> None:
        """With a model, compute the later agents' statistics while the analyst's model
        call is in flight: they read only the snapshot, so their own model calls can start
        as soon as the graph reaches them. (Offline there is no wait to fill.)"""
        if not self.use_model or self._ahead:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-ahead")
        self._ahead = {name: executor.submit(make) for name, make in makers.items()}
        executor.shutdown(wait=False)

    def ahead(self, name: str) -> Any | None:
        """What `start_ahead` computed under `name` (waiting for it), or None."""
        future = self._ahead.get(name)
        return future.result() if future is not None else None

    def finish(self, report: AgentReport) -> dict[str, Any]:
        notes: list[dict[str, Any]] = []
        if self.use_model:
            records: list[dict[str, Any]] = []
            report, note = review_with_llm(
                self.organization,
                report,
                people=self.people,
                chain=self.chains[report.agent],
                records=records,
            )
            notes.append(note | {"agent": report.agent})
            with self._lock:
                self._records.extend(records)
        return {"reports": {report.agent: report.model_dump(mode="json")}, "providers": notes}

    def flush(self) -> None:
        """Write the call records collected so far (from the caller's thread)."""
        with self._lock:
            rows, self._records = self._records, []
        if rows:
            record_llm_calls(rows)


def _node(reviewer: Reviewer, make: Callable[[ReviewState], AgentReport]) -> Any:
    def run(state: ReviewState) -> dict[str, Any]:
        return reviewer.finish(make(state))

    return run


def _specialist(
    reviewer: Reviewer, agent: str, make: Callable[[], AgentReport]
) -> Callable[[ReviewState], AgentReport]:
    def report(state: ReviewState) -> AgentReport:
        ahead = reviewer.ahead(agent)
        return ahead if ahead is not None else make()

    return report


def _paused(recommendations: list[dict[str, Any]]) -> frozenset[int]:
    return frozenset(r["campaign_id"] for r in recommendations if r["action"] == "pause")


def build_review_graph(reviewer: Reviewer) -> Any:
    snapshot = reviewer.snapshot
    specialists: dict[str, Callable[[], AgentReport]] = {
        "performance_optimizer": lambda: performance_optimizer_offline(snapshot),
        "creative_specialist": lambda: creative_specialist_offline(snapshot),
        "audience_expert": lambda: audience_expert_offline(snapshot),
        "competitive_analyst": lambda: competitive_analyst_offline(snapshot),
    }

    def budget_plan() -> tuple[frozenset[int], AgentReport]:
        # The plan for the optimizer's pauses as computed; used if the model keeps them all.
        optimizer = (
            reviewer.ahead("performance_optimizer") or specialists["performance_optimizer"]()
        )
        paused = frozenset(r.campaign_id for r in optimizer.recommendations if r.action == "pause")
        return paused, budget_manager_offline(snapshot, exclude=set(paused))

    def frame(state: ReviewState) -> AgentReport:
        report = campaign_analyst_offline(snapshot)
        # The optimizer first (its curves are also the budget manager's), the plan last.
        reviewer.start_ahead({**specialists, "budget_plan": budget_plan})
        return report

    graph = StateGraph(ReviewState)
    graph.add_node("frame", _node(reviewer, frame))
    for name in SPECIALISTS:
        graph.add_node(name, _node(reviewer, _specialist(reviewer, name, specialists[name])))

    def budget(state: ReviewState) -> AgentReport:
        # Campaigns the optimizer wants paused get no budget in the plan.
        optimizer = state["reports"].get("performance_optimizer", {})
        paused = _paused(optimizer.get("recommendations", []))
        planned = reviewer.ahead("budget_plan")
        if planned is not None and planned[0] == paused:
            return planned[1]
        return budget_manager_offline(snapshot, exclude=set(paused))

    graph.add_node("budget_manager", _node(reviewer, budget))
    graph.add_node("synthesis", lambda state: {"final": synthesize(state["reports"])})
    graph.add_edge(START, "frame")
    for name in SPECIALISTS:
        graph.add_edge("frame", name)
    graph.add_edge(list(SPECIALISTS), "budget_manager")
    graph.add_edge("budget_manager", "synthesis")
    graph.add_edge("synthesis", END)
    return graph.compile()


def synthesize(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One report: each agent's section, and the recommendations reconciled.

    The Budget Manager's plan supersedes the optimizer's budget moves on the same campaign
    (one budget per campaign); a pause wins over everything for its campaign.
    """
    recommendations: list[dict[str, Any]] = []
    budget_campaigns = {
        r["campaign_id"] for r in reports.get("budget_manager", {}).get("recommendations", [])
    }
    for agent in REVIEW_AGENTS:
        for rec in reports.get(agent, {}).get("recommendations", []):
            if (
                agent == "performance_optimizer"
                and rec["action"] == "daily_budget"
                and rec["campaign_id"] in budget_campaigns
            ):
                continue
            recommendations.append(rec)
    confidence = min((r.get("confidence", 1.0) for r in reports.values()), default=0.0)
    analyst = reports.get("campaign_analyst", {})
    return {
        "headline": analyst.get("summary", ""),
        "sections": [
            {k: v for k, v in reports[agent].items() if k != "recommendations"}
            for agent in REVIEW_AGENTS
            if agent in reports
        ],
        "recommendations": recommendations,
        "confidence": confidence,
    }


def run_review(
    organization: Organization, snapshot: AccountSnapshot
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (node, update) as the review's steps finish; the last update holds "final"."""
    reviewer = Reviewer(organization, snapshot)
    graph = build_review_graph(reviewer)
    for chunk in graph.stream({"reports": {}, "providers": []}, stream_mode="updates"):
        reviewer.flush()
        for node, update in chunk.items():
            yield node, update or {}
    reviewer.flush()
