"""Every notification automation sends goes through `notify_rule_event`, as one of three
notification types automation registers with the notifications registry."""

from __future__ import annotations

import logging
from typing import Any

from adplatform.models import Organization
from notifications.registry import NotificationType, Priority, register_type
from notifications.services import notify

logger = logging.getLogger(__name__)


class RuleEvent:
    ACTION_NOTIFY = "rule.notify"  # a rule's "send notification" step
    APPROVAL_REQUESTED = "rule.approval_requested"
    RULE_DISABLED = "rule.disabled"  # the circuit breaker tripped


RULE_ALERT = register_type(
    NotificationType(
        key="rule_alert",
        label="Rule alert",
        title="{{ rule }}: {{ campaign|default:'a campaign' }}",
        body="{% if message %}{{ message }} {% endif %}{% for name, value in values.items %}{{ name }} {{ value }}{% if not forloop.last %}, {% endif %}{% endfor %}",
        action_url="/rules/{{ rule_id }}/",
        default_priority=Priority.MEDIUM,
        subject_keys=("rule_id", "campaign_id"),
    )
)
RULE_APPROVAL = register_type(
    NotificationType(
        key="rule_approval",
        label="Rule proposals to approve",
        title="{{ rule }} proposes {{ proposals }} change{{ proposals|pluralize }}",
        body="They wait for someone to approve or reject them on the Rules page.",
        action_url="/rules/",
        default_priority=Priority.HIGH,
        subject_keys=("rule_id",),
    )
)
RULE_DISABLED = register_type(
    NotificationType(
        key="rule_disabled",
        label="Rule disabled",
        title="{{ rule }} was switched off after repeated failures",
        body="{{ error|default:'Its last runs failed.' }} Fix the cause and enable it again.",
        action_url="/rules/{{ rule_id }}/",
        default_priority=Priority.HIGH,
        subject_keys=("rule_id",),
    )
)
_TYPES = {
    RuleEvent.ACTION_NOTIFY: RULE_ALERT.key,
    RuleEvent.APPROVAL_REQUESTED: RULE_APPROVAL.key,
    RuleEvent.RULE_DISABLED: RULE_DISABLED.key,
}
# Rules speak of "normal" priority; the notifications service calls it "medium".
_PRIORITIES = {"normal": Priority.MEDIUM}


def notify_rule_event(
    organization: Organization,
    event: str,
    data: dict[str, Any],
    *,
    priority: str = "normal",
    subject: str = "",
) -> None:
    """Tell the organization about a rule event (sent when the caller's transaction commits)."""
    logger.info("automation notification", extra={"event": event, "rule_id": data.get("rule_id")})
    notify(
        organization,
        _TYPES[event],
        data,
        priority=_PRIORITIES.get(priority, priority),
        subject=subject or None,
        source="automation",
    )
