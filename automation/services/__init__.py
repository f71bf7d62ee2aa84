"""Writes of automation: rules, live runs, approvals, backtests, notifications."""

from __future__ import annotations

from automation.services.backtest import BacktestResult, Firing, backtest_rule
from automation.services.execution import (
    ApprovalError,
    approve_rule_action,
    claim_due_rules,
    reject_rule_action,
    rule_definition,
    run_rule,
    run_rules,
)
from automation.services.notify import RuleEvent, notify_rule_event
from automation.services.rules import create_rule, delete_rule, set_rule_enabled, update_rule

__all__ = [
    "ApprovalError",
    "BacktestResult",
    "Firing",
    "RuleEvent",
    "approve_rule_action",
    "backtest_rule",
    "claim_due_rules",
    "create_rule",
    "delete_rule",
    "notify_rule_event",
    "reject_rule_action",
    "rule_definition",
    "run_rule",
    "run_rules",
    "set_rule_enabled",
    "update_rule",
]
