"""Every notification automation sends goes through `notify_rule_event`.

`notifications.services.notify` is not on this branch yet; until it is wired here this
logs the event (with no secrets: ids, names and metric values only).
"""

from __future__ import annotations

import logging
from typing import Any

from adplatform.models import Organization

logger = logging.getLogger(__name__)


class RuleEvent:
    ACTION_NOTIFY = "rule.notify"  # a rule's "send notification" step
    APPROVAL_REQUESTED = "rule.approval_requested"
    RULE_DISABLED = "rule.disabled"  # the circuit breaker tripped


def notify_rule_event(
    organization: Organization,
    event: str,
    data: dict[str, Any],
    *,
    priority: str = "normal",
    subject: str = "",
) -> None:
    """Tell the organization about a rule event. Wire to notifications.services.notify."""
    logger.info(
        "automation notification",
        extra={
            "organization_id": organization.pk,
            "event": event,
            "priority": priority,
            "subject": subject,
            "data": data,
        },
    )
