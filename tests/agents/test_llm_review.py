"""The agents' own LLM path: a review through a local model server speaking the provider's
wire format (OpenAI Chat Completions, Anthropic Messages), answering with tool calls that
carry the structured review. It checks what the model may and may not change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from adplatform.models import Membership, Organization, Role
from agents.models import AgentRun, CallStatus, LLMCall, ProviderKind, Recommendation, RunStatus
from agents.runs import start_run
from agents.specialists import AGENT_ROLES
from agents.testing import (
    ANTHROPIC_MESSAGES_PATH,
    OPENAI_CHAT_PATH,
    LocalLLMServer,
    RecordedRequest,
    StubResponse,
    anthropic_message,
    openai_chat_completion,
)
from campaigns.models import Campaign, DailyMetric
from campaigns.services import refresh_campaign_rollups
from tests.agents.factories import LLMProviderConfigFactory
from tests.agents.sandbox import AS_OF, build_sandbox_org

pytestmark = pytest.mark.django_db

REVIEW_AGENTS = ("campaign_analyst", "creative_specialist", "audience_expert",
                 "performance_optimizer", "competitive_analyst", "budget_manager")  # fmt: skip


def agent_of(request: RecordedRequest) -> str:
    """Which agent asked: its role sentence opens the system message."""
    text = json.dumps(request.body.get("messages") or request.body.get("system") or "")
    return next(agent for agent, role in AGENT_ROLES.items() if role in text)


def review_answers(reviews: dict[str, dict[str, Any]]) -> Callable[[RecordedRequest], StubResponse]:
    """Answer each forced LLMReview tool call with that agent's scripted review."""

    def answer(request: RecordedRequest) -> StubResponse:
        agent = agent_of(request)
        forced = request.body["tool_choice"]["function"]["name"]
        return StubResponse(openai_chat_completion(tool_calls=[(forced, reviews[agent])]))

    return answer


def use_openai_compatible(settings: Any, server: LocalLLMServer, *, timeout: float = 5.0) -> None:
    settings.ADPLATFORM_LLM_PROVIDER = "openai_compatible"
    settings.ADPLATFORM_LLM_MODEL = "local-model"
    settings.ADPLATFORM_LLM_API_KEY = "sk-local-0123456789"
    settings.ADPLATFORM_LLM_BASE_URL = server.url + "/v1"
    settings.ADPLATFORM_LLM_TIMEOUT = timeout


def review(organization: Organization, capture: Any) -> AgentRun:
    with capture(execute=True):
        run = start_run(
            organization=organization, task="account_review", params={"as_of": AS_OF.isoformat()}
        )
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def sections(run: AgentRun) -> dict[str, dict[str, Any]]:
    return {s["agent"]: s for s in run.output["sections"]}


def recommendations(run: AgentRun) -> dict[tuple[str, int, str], float]:
    return {
        (r.agent, r.campaign_id, r.action): r.confidence
        for r in Recommendation.objects.filter(run=run)
    }


def test_the_models_text_is_used_and_its_confidence_only_ever_lowers(
    organization: Organization,
    llm_server: LocalLLMServer,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    build_sandbox_org(organization)
    offline = review(organization, django_capture_on_commit_callbacks)
    reviews = {
        agent: {"summary": f"Model summary for {agent}.", "confidence": 0.99, "drop": []}
        for agent in REVIEW_AGENTS
    }
    reviews["budget_manager"]["confidence"] = 0.2
    llm_server.set_responder(OPENAI_CHAT_PATH, review_answers(reviews))
    use_openai_compatible(settings, llm_server)

    with_model = review(organization, django_capture_on_commit_callbacks)

    assert len(llm_server.requests_to(OPENAI_CHAT_PATH)) == len(REVIEW_AGENTS)
    assert with_model.provider == ProviderKind.OPENAI_COMPATIBLE
    assert with_model.model == "local-model"
    assert with_model.prompt_tokens > 0
    for agent, section in sections(with_model).items():
        assert section["summary"] == f"Model summary for {agent}."
        assert section["confidence"] <= sections(offline)[agent]["confidence"]
    before, after = recommendations(offline), recommendations(with_model)
    assert after.keys() == before.keys() and after
    for key, confidence in after.items():
        if key[0] == "budget_manager":
            assert confidence == min(before[key], 0.2)
        else:
            # 0.99 from the model never raises a statistical confidence.
            assert confidence == before[key]


def test_the_model_may_drop_a_recommendation_but_not_add_one(
    organization: Organization,
    llm_server: LocalLLMServer,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    build_sandbox_org(organization)
    offline = review(organization, django_capture_on_commit_callbacks)
    # The budget manager's proposals are all stored (none is superseded in the synthesis).
    assert Recommendation.objects.filter(run=offline, agent="budget_manager").exists()
    reviews = {
        agent: {"summary": "Fine.", "confidence": 0.9, "drop": []} for agent in REVIEW_AGENTS
    }
    reviews["budget_manager"]["drop"] = [0]
    # Fields outside the schema (an extra action) are ignored by validation, never applied.
    reviews["budget_manager"]["actions"] = [{"action": "daily_budget", "amount": 99999}]
    llm_server.set_responder(OPENAI_CHAT_PATH, review_answers(reviews))
    use_openai_compatible(settings, llm_server)

    run = review(organization, django_capture_on_commit_callbacks)

    stored = set(recommendations(run))
    expected = set(recommendations(offline))
    budget_before = {k for k in expected if k[0] == "budget_manager"}
    budget_after = {k for k in stored if k[0] == "budget_manager"}
    assert budget_after < budget_before and len(budget_after) == len(budget_before) - 1
    (dropped,) = budget_before - budget_after
    # Nothing new, except that the optimizer's own move on the dropped campaign, which the
    # budget plan had superseded, now stands on its own.
    assert stored - expected <= {("performance_optimizer", dropped[1], "daily_budget")}
    assert not Recommendation.objects.filter(run=run, params__daily_budget=99999).exists()


@pytest.mark.parametrize(
    "bad_review",
    [
        {"summary": "Too sure.", "confidence": 1.7, "drop": []},
        {"summary": "x" * 1300, "confidence": 0.5, "drop": []},
        {"confidence": 0.5},
    ],
    ids=["confidence-above-1", "summary-too-long", "summary-missing"],
)
def test_output_outside_the_schema_is_rejected_and_the_offline_text_stands(
    organization: Organization,
    llm_server: LocalLLMServer,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    bad_review: dict[str, Any],
) -> None:
    build_sandbox_org(organization)
    offline = review(organization, django_capture_on_commit_callbacks)
    llm_server.set_responder(
        OPENAI_CHAT_PATH, review_answers(dict.fromkeys(REVIEW_AGENTS, bad_review))
    )
    use_openai_compatible(settings, llm_server)

    run = review(organization, django_capture_on_commit_callbacks)

    # One corrective retry per agent, then the chain falls back to the offline analyst.
    assert len(llm_server.requests_to(OPENAI_CHAT_PATH)) == 2 * len(REVIEW_AGENTS)
    for agent, section in sections(run).items():
        assert section["summary"] == sections(offline)[agent]["summary"]
    assert recommendations(run) == recommendations(offline)
    statuses = set(
        LLMCall.objects.filter(organization=organization).values_list("status", flat=True)
    )
    assert statuses == {CallStatus.MALFORMED, CallStatus.OK}  # OK: the offline answers


def test_a_model_that_times_out_falls_back_to_the_offline_analyst(
    organization: Organization,
    llm_server: LocalLLMServer,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    build_sandbox_org(organization)
    offline = review(organization, django_capture_on_commit_callbacks)
    llm_server.set_responder(
        OPENAI_CHAT_PATH,
        lambda request: StubResponse(openai_chat_completion(content="late"), delay=3.0),
    )
    use_openai_compatible(settings, llm_server, timeout=0.3)

    run = review(organization, django_capture_on_commit_callbacks)

    assert recommendations(run) == recommendations(offline)
    for agent, section in sections(run).items():
        assert section["summary"] == sections(offline)[agent]["summary"]
    timed_out = LLMCall.objects.filter(organization=organization, status=CallStatus.TIMEOUT)
    assert timed_out.count() == len(REVIEW_AGENTS)


def test_no_member_name_or_email_reaches_the_model(
    organization: Organization,
    llm_server: LocalLLMServer,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    build_sandbox_org(organization)
    user = get_user_model().objects.create_user(
        username="jdoe", email="jane.doe@acme-retail.example", first_name="Janet",
        last_name="Dorrington", password="x",
    )  # fmt: skip
    Membership.objects.create(user=user, organization=organization, role=Role.MEMBER)
    # People's names end up in data: a campaign named after its owner, with her address.
    Campaign.objects.filter(organization=organization).update(
        name="Janet Dorrington test (jane.doe@acme-retail.example)"
    )
    reviews = {agent: {"summary": "Ok.", "confidence": 0.9, "drop": []} for agent in REVIEW_AGENTS}
    llm_server.set_responder(OPENAI_CHAT_PATH, review_answers(reviews))
    use_openai_compatible(settings, llm_server)

    review(organization, django_capture_on_commit_callbacks)

    sent = [json.dumps(r.body) for r in llm_server.requests_to(OPENAI_CHAT_PATH)]
    assert len(sent) == len(REVIEW_AGENTS)
    assert any("[email]" in body for body in sent)  # the data was there, scrubbed
    for body in sent:
        for personal in ("jane.doe", "acme-retail.example", "Janet", "Dorrington", "jdoe"):
            assert personal not in body


def test_a_budget_plan_through_anthropic_uses_the_models_tool_answer(
    organization: Organization,
    llm_server: LocalLLMServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    build_sandbox_org(organization)
    LLMProviderConfigFactory(
        organization=organization, provider=ProviderKind.ANTHROPIC,
        model="claude-3-5-haiku-20241022", base_url=llm_server.url, priority=0,
    )  # fmt: skip

    def answer(request: RecordedRequest) -> StubResponse:
        forced = request.body["tool_choice"]["name"]
        review = {"summary": "Claude: shift budget to the cheapest conversions.",
                  "confidence": 0.4, "drop": []}  # fmt: skip
        return StubResponse(anthropic_message(tool_uses=[(forced, review)]))

    llm_server.set_responder(ANTHROPIC_MESSAGES_PATH, answer)

    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(
            organization=organization, task="budget_plan", params={"as_of": AS_OF.isoformat()}
        )
    run.refresh_from_db()

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.output["summary"] == "Claude: shift budget to the cheapest conversions."
    assert run.provider == ProviderKind.ANTHROPIC
    request = llm_server.requests_to(ANTHROPIC_MESSAGES_PATH)[0]
    assert request.body["tool_choice"]["type"] == "tool"
    assert all(r.confidence <= 0.4 for r in Recommendation.objects.filter(run=run))


def test_a_vetoed_pause_gives_the_campaign_back_its_place_in_the_budget_plan(
    organization: Organization,
    llm_server: LocalLLMServer,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given a campaign that converted nothing in the last 14 days (the optimizer pauses it)
    build_sandbox_org(organization)
    dry = Campaign.objects.filter(organization=organization).order_by("pk").first()
    assert dry is not None
    since = AS_OF - dt.timedelta(days=13)
    DailyMetric.objects.filter(campaign=dry, date__gte=since).update(conversions=0)
    refresh_campaign_rollups({dry.pk: (since, AS_OF)})
    offline = review(organization, django_capture_on_commit_callbacks)
    assert ("performance_optimizer", dry.pk, "pause") in recommendations(offline)
    assert str(dry.pk) not in sections(offline)["budget_manager"]["extra"]["plan"]

    # When the model advises against that pause (and keeps everything else)
    def answer(request: RecordedRequest) -> StubResponse:
        agent = agent_of(request)
        drop: list[int] = []
        if agent == "performance_optimizer":
            text = request.body["messages"][-1]["content"]
            block = text.split('<data name="recommendations">\n', 1)[1].split("\n</data>", 1)[0]
            drop = [r["index"] for r in json.loads(block) if r["title"].startswith("Pause ")]
        review = {"summary": "Fine.", "confidence": 0.9, "drop": drop}
        forced = request.body["tool_choice"]["function"]["name"]
        return StubResponse(openai_chat_completion(tool_calls=[(forced, review)]))

    llm_server.set_responder(OPENAI_CHAT_PATH, answer)
    use_openai_compatible(settings, llm_server)
    run = review(organization, django_capture_on_commit_callbacks)

    # Then the campaign is not paused and the budget manager plans its budget again
    assert ("performance_optimizer", dry.pk, "pause") not in recommendations(run)
    assert str(dry.pk) in sections(run)["budget_manager"]["extra"]["plan"]
