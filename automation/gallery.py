"""Rule templates: ready-made definitions a user starts from (API and builder)."""

from __future__ import annotations

from typing import Any

from automation.models import RuleFrequency, RuleType

RULE_TEMPLATES: list[dict[str, Any]] = [
    {
        "slug": "budget-protection",
        "name": "Budget protection",
        "type": RuleType.BUDGET_PROTECTION,
        "description": "Pause a campaign that has spent 90% of its daily budget today, and alert.",
        "frequency": RuleFrequency.EVERY_15_MINUTES,
        "conditions": {
            "operator": "and",
            "items": [
                {"metric": "budget_spent_pct", "window": "today", "operator": "gte", "value": "90"}
            ],
        },
        "actions": [{"type": "pause"}, {"type": "notify", "priority": "high"}],
        "guardrails": {"cooldown_hours": 12, "max_actions_per_run": 50},
    },
    {
        "slug": "pause-high-cpa",
        "name": "Pause high-CPA campaigns",
        "type": RuleType.PERFORMANCE,
        "description": "Pause what converts at more than 50 per conversion over 7 days, once "
        "it has spent enough to judge.",
        "frequency": RuleFrequency.DAILY,
        "conditions": {
            "operator": "and",
            "items": [{"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "50"}],
            "minimum_data": {"window": "last_7_days", "spend": "100", "impressions": 1000},
        },
        "actions": [{"type": "pause"}, {"type": "notify", "priority": "normal"}],
        "guardrails": {"cooldown_hours": 24, "max_actions_per_run": 20},
    },
    {
        "slug": "scale-winners",
        "name": "Scale winners by 20%",
        "type": RuleType.SCALING,
        "description": "Raise the daily budget by 20% where ROAS over 7 days is above 3, "
        "at most once a day and never above the ceiling.",
        "frequency": RuleFrequency.DAILY,
        "conditions": {
            "operator": "and",
            "items": [
                {"metric": "roas", "window": "last_7_days", "operator": "gt", "value": "3"},
                {"metric": "conversions", "window": "last_7_days", "operator": "gte", "value": "5"},
            ],
        },
        "actions": [{"type": "increase_budget", "percent": "20"}],
        "guardrails": {
            "max_budget_change_pct": "25",
            "budget_ceiling": "1000",
            "cooldown_hours": 24,
            "max_actions_per_run": 20,
        },  # fmt: skip
    },
    {
        "slug": "rotate-fatigued-creatives",
        "name": "Rotate fatigued creatives",
        "type": RuleType.CREATIVE_ROTATION,
        "description": "When CTR over 3 days has dropped 30% against the 3 days before and "
        "people see the ads more than 3 times, pause the ad with the lowest CTR in each ad "
        "group and bring in the paused ad that has rested longest.",
        "frequency": RuleFrequency.DAILY,
        "conditions": {
            "operator": "and",
            "items": [
                {
                    "metric": "ctr",
                    "window": "last_3_days",
                    "operator": "lte",
                    "value": "-30",
                    "compare_to_previous": True,
                },
                {"metric": "frequency", "window": "last_3_days", "operator": "gt", "value": "3"},
            ],
            "minimum_data": {"window": "last_3_days", "impressions": 3000},
        },  # fmt: skip
        "actions": [
            {
                "type": "rotate_creatives",
                "metric": "ctr",
                "window": "last_3_days",
                "min_impressions": 500,
            },
            {"type": "notify", "priority": "normal", "message": "Fatigued creatives were rotated."},
        ],  # fmt: skip
        "guardrails": {"cooldown_hours": 72, "max_actions_per_run": 20},
    },
    {
        "slug": "night-pause",
        "name": "Night-time pause",
        "type": RuleType.SCHEDULE,
        "description": "Pause delivering campaigns between 23:00 and 05:59 (organization "
        "time); pair it with a morning rule that activates them.",
        "frequency": RuleFrequency.HOURLY,
        "conditions": {
            "operator": "and",
            "items": [{"metric": "spend", "window": "today", "operator": "gte", "value": "0"}],
            "hours": {"start": 23, "end": 5},
        },
        "actions": [{"type": "pause"}],
        "guardrails": {"cooldown_hours": 6},
    },
    {
        "slug": "apply-confident-ai-recommendations",
        "name": "Apply high-confidence AI recommendations",
        "type": RuleType.AI_OPTIMIZATION,
        "description": "When the agents hold an open recommendation for a campaign with at "
        "least 85% confidence, apply it (within this rule's guardrails) and notify. Try it in "
        "dry run first; the AI trigger and action come from the agents app.",
        "frequency": RuleFrequency.HOURLY,
        "conditions": {
            "operator": "and",
            "items": [
                {
                    "signal": "ai_recommendation",
                    "action": "any",
                    "min_confidence": 0.85,
                    "max_age_hours": 48,
                },
                {"metric": "spend", "window": "last_7_days", "operator": "gt", "value": "0"},
            ],
        },  # fmt: skip
        "actions": [
            {"type": "ai_optimize", "min_confidence": 0.85, "source": "open"},
            {"type": "notify", "priority": "normal"},
        ],
        "guardrails": {
            "cooldown_hours": 24,
            "max_budget_change_pct": "50",
            "max_actions_per_run": 10,
        },  # fmt: skip
    },
]


def get_template(slug: str) -> dict[str, Any]:
    for template in RULE_TEMPLATES:
        if template["slug"] == slug:
            return template
    raise KeyError(slug)
