"""Notification types: what each event is called, how it renders, what identifies its subject.

Types are registered in code (the built-ins below; other apps may add their own with
`register_type` at start-up). An organization can override the templates in the admin
(`NotificationTemplate`). Templates are Django template strings rendered with the event's
`data` as context, with autoescaping on for HTML and off for plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK: dict[str, int] = {
    Priority.LOW: 0,
    Priority.MEDIUM: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


def priority_at_least(priority: str, minimum: str) -> bool:
    return PRIORITY_RANK[priority] >= PRIORITY_RANK[minimum]


@dataclass(frozen=True)
class NotificationType:
    key: str
    label: str
    title: str
    body: str
    action_url: str = ""
    # Extra HTML for the email body; when empty the plain body is escaped into a paragraph.
    html: str = ""
    default_priority: str = Priority.MEDIUM
    # Data keys naming what the event is about; same type + same values = the same subject,
    # so repeats inside the de-duplication window bump a count instead of adding a row.
    subject_keys: tuple[str, ...] = ()
    # Partner systems may raise these through the API.
    partner_may_raise: bool = False
    required_keys: tuple[str, ...] = field(default=())

    def subject_for(self, data: dict[str, object]) -> str:
        # No subject, no de-duplication: unrelated events must not merge into one row.
        if not any(data.get(key) not in (None, "") for key in self.subject_keys):
            return ""
        return "|".join(f"{key}={data.get(key, '')}" for key in self.subject_keys)


class UnknownNotificationType(KeyError):
    pass


_REGISTRY: dict[str, NotificationType] = {}


def register_type(notification_type: NotificationType) -> NotificationType:
    if notification_type.key in _REGISTRY and _REGISTRY[notification_type.key] != notification_type:
        raise ValueError(f"Notification type {notification_type.key!r} is already registered.")
    _REGISTRY[notification_type.key] = notification_type
    return notification_type


def get_type(key: str) -> NotificationType:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise UnknownNotificationType(key) from None


def all_types() -> list[NotificationType]:
    return sorted(_REGISTRY.values(), key=lambda t: t.label)


def type_choices() -> list[tuple[str, str]]:
    return [(t.key, t.label) for t in all_types()]


CAMPAIGN_PERFORMANCE_ALERT = register_type(
    NotificationType(
        key="campaign_performance_alert",
        label="Campaign performance alert",
        title="{{ campaign_name|default:'A campaign' }}: {{ metric|default:'performance' }} {{ direction|default:'changed' }}",
        body=(
            "{{ metric|default:'A metric' }} is {{ value }}{% if expected %} (expected {{ expected }})"
            "{% endif %}{% if account_name %} on {{ account_name }}{% endif %}."
            "{% if detail %} {{ detail }}{% endif %}"
        ),
        action_url="{% if campaign_id %}/campaigns/?q={{ campaign_name|urlencode }}{% endif %}",
        default_priority=Priority.HIGH,
        subject_keys=("campaign_id", "metric"),
        required_keys=("campaign_id",),
    )
)
BUDGET_ALERT = register_type(
    NotificationType(
        key="budget_alert",
        label="Budget alert",
        title="Budget: {% firstof campaign_name account_name 'an account' %} has spent {{ spent_percent|default:'most' }}% of its budget",
        body=(
            "Spent {{ spent }} of {{ budget }}{% if currency %} {{ currency }}{% endif %}"
            "{% if period %} this {{ period }}{% endif %}.{% if detail %} {{ detail }}{% endif %}"
        ),
        action_url="/campaigns/",
        default_priority=Priority.HIGH,
        subject_keys=("campaign_id", "account_id"),
    )
)
INTEGRATION_ERROR = register_type(
    NotificationType(
        key="integration_error",
        label="Integration error",
        title=(
            "{% if reauthorization_required %}Reconnect {{ platform|default:'the platform' }}: "
            "authorization expired{% else %}{{ platform|default:'Platform' }} sync failed{% endif %}"
        ),
        body=(
            "{% if account_name %}{{ account_name }}: {% endif %}{{ error|default:'The last sync did not complete.' }}"
            "{% if reauthorization_required %} Someone with access must sign in to the platform again.{% endif %}"
        ),
        action_url="{{ reconnect_url|default:'' }}",
        default_priority=Priority.HIGH,
        subject_keys=("connection_id", "reauthorization_required"),
    )
)
AI_INSIGHT = register_type(
    NotificationType(
        key="ai_insight",
        label="AI insight",
        title="{{ headline|default:'New insight' }}",
        body="{{ summary }}{% if confidence %} (confidence {{ confidence }}){% endif %}",
        action_url="{{ url|default:'' }}",
        default_priority=Priority.MEDIUM,
        subject_keys=("insight_id",),
    )
)
SYSTEM_UPDATE = register_type(
    NotificationType(
        key="system_update",
        label="System update",
        title="{{ title|default:'System update' }}",
        body="{{ message }}",
        action_url="{{ url|default:'' }}",
        default_priority=Priority.LOW,
        subject_keys=("subject",),
        partner_may_raise=True,
        required_keys=("message",),
    )
)
USER_ACTIVITY = register_type(
    NotificationType(
        key="user_activity",
        label="User activity",
        title="{{ actor|default:'Someone' }} {{ action|default:'did something' }}",
        body="{{ message|default:'' }}",
        action_url="{{ url|default:'' }}",
        default_priority=Priority.LOW,
        subject_keys=("subject",),
        partner_may_raise=True,
        required_keys=("action",),
    )
)
