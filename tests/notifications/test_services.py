from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from adplatform.models import Membership, Organization, Role
from notifications import services
from notifications.delivery import send_due_digests
from notifications.models import Channel, Delivery, DeliveryStatus, Notification
from notifications.registry import UnknownNotificationType
from notifications.selectors import count_unread, list_notifications_for_user
from tests.adplatform.factories import MembershipFactory
from tests.notifications.conftest import PushService
from tests.notifications.factories import (
    NotificationPreferenceFactory,
    NotificationSettingsFactory,
    NotificationTemplateFactory,
)

BUDGET = {
    "campaign_id": 7,
    "campaign_name": "Spring sale",
    "spent_percent": 92,
    "spent": "920.00",
    "budget": "1000.00",
    "currency": "USD",
}


NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _locmem_email(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _email_deliveries(notification: Notification) -> list[Delivery]:
    return list(Delivery.objects.filter(notification=notification, channel=Channel.EMAIL))


def test_notify_stores_a_rendered_notification_for_every_member(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(organization, "budget_alert", BUDGET, priority="high")

    assert notification.recipient is None
    assert notification.title == "Budget: Spring sale has spent 92% of its budget"
    assert notification.body == "Spent 920.00 of 1000.00 USD."
    assert notification.action_url == "/campaigns/"
    assert notification.data == BUDGET
    assert count_unread(organization, user=member.user) == 1
    [email] = _email_deliveries(notification)
    assert email.status == DeliveryStatus.SENT
    assert email.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.user.email]
    assert mail.outbox[0].subject == "[Acme Retail] Budget: Spring sale has spent 92% of its budget"
    # Live delivery worked, so only the outbound channel has a row (outages get one).
    assert not Delivery.objects.filter(channel=Channel.WEBSOCKET).exists()


def test_notify_costs_the_same_few_queries_however_many_members(
    organization: Organization, other_organization: Organization
) -> None:
    """The caller's transaction holds one INSERT, not per-member work: outbound deliveries
    are planned by a task after commit."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    MembershipFactory(organization=other_organization)
    MembershipFactory.create_batch(25, organization=organization)

    with CaptureQueriesContext(connection) as small:
        services.notify(other_organization, "system_update", {"message": "one member"})
    with CaptureQueriesContext(connection) as large:
        services.notify(organization, "system_update", {"message": "25 members"})

    inserts = [q["sql"] for q in large.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert "notifications_notification" in inserts[0]
    assert len(large.captured_queries) == len(small.captured_queries)


def test_unknown_type_and_foreign_recipient_are_refused(
    organization: Organization, other_organization: Organization, member: Membership
) -> None:
    outsider = MembershipFactory(organization=other_organization)

    with pytest.raises(UnknownNotificationType):
        services.notify(organization, "no_such_type", {})
    with pytest.raises(services.NotificationError):
        services.notify(organization, "budget_alert", BUDGET, recipients=[outsider.user])

    assert Notification.objects.count() == 0


def test_personal_notification_is_seen_only_by_its_recipient(
    organization: Organization, member: Membership, owner: Membership
) -> None:
    services.notify(
        organization,
        "user_activity",
        {"actor": "Ana", "action": "paused a campaign"},
        recipients=[owner.user],
    )

    assert list_notifications_for_user(organization, user=owner.user).count() == 1
    assert list_notifications_for_user(organization, user=member.user).count() == 0


def test_repeat_within_window_bumps_the_count_instead_of_adding_a_row(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [first] = services.notify(organization, "budget_alert", BUDGET, priority="high")
        [second] = services.notify(
            organization, "budget_alert", {**BUDGET, "spent_percent": 97}, priority="high"
        )

    assert second.pk == first.pk
    assert Notification.objects.count() == 1
    first.refresh_from_db()
    assert first.count == 2
    assert first.title == "Budget: Spring sale has spent 97% of its budget"
    # The repeat does not email again.
    assert len(mail.outbox) == 1


def test_repeat_after_the_window_is_a_new_notification(
    organization: Organization, member: Membership, settings: Any
) -> None:
    settings.NOTIFICATIONS_DEDUP_WINDOW_SECONDS = 60
    [first] = services.notify(organization, "budget_alert", BUDGET)
    Notification.objects.filter(pk=first.pk).update(
        last_occurred_at=timezone.now() - dt.timedelta(minutes=2)
    )

    [second] = services.notify(organization, "budget_alert", BUDGET)

    assert second.pk != first.pk
    assert Notification.objects.count() == 2


def test_different_subjects_are_not_merged(organization: Organization, member: Membership) -> None:
    services.notify(organization, "budget_alert", BUDGET)
    services.notify(organization, "budget_alert", {**BUDGET, "campaign_id": 8})
    services.notify(organization, "system_update", {"message": "Maintenance tonight"})
    services.notify(organization, "system_update", {"message": "New report available"})

    assert Notification.objects.count() == 4


def test_escalated_repeat_is_delivered_again(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(organization, "budget_alert", BUDGET, priority="medium")
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(organization, "budget_alert", BUDGET, priority="urgent")

    assert notification.priority == "urgent"
    assert [m.subject for m in mail.outbox] == [
        "[Acme Retail] Budget: Spring sale has spent 92% of its budget"
    ] * 2


def test_a_repeated_planning_task_sends_nothing_twice(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(organization, "budget_alert", BUDGET, priority="high")

    from notifications.tasks import plan_deliveries_task

    # A worker that died before acking gets the same task again.
    assert plan_deliveries_task.delay(notification.pk).get() == 0
    assert len(_email_deliveries(notification)) == 1
    assert len(mail.outbox) == 1


def test_preferences_choose_channels_and_minimum_priority(
    organization: Organization,
    member: Membership,
    owner: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    NotificationPreferenceFactory(
        organization=organization, user=member.user, type="budget_alert", email=False
    )
    NotificationPreferenceFactory(
        organization=organization, user=owner.user, type="budget_alert", min_priority="urgent"
    )

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(organization, "budget_alert", BUDGET, priority="high")

    assert _email_deliveries(notification) == []
    assert mail.outbox == []
    # In-app is the record: both still see it.
    assert count_unread(organization, user=member.user) == 1
    assert count_unread(organization, user=owner.user) == 1


def test_low_priority_waits_for_the_daily_digest(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationPreferenceFactory(
        organization=organization, user=member.user, type="system_update", min_priority="low"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            organization, "system_update", {"message": "New export format", "subject": "a"}
        )
        services.notify(
            organization, "system_update", {"message": "Reports are faster", "subject": "b"}
        )
    assert mail.outbox == []
    assert Delivery.objects.filter(status=DeliveryStatus.DIGEST).count() == 2

    eight_am = timezone.now().replace(hour=8, minute=5)
    sent = send_due_digests(now=eight_am)

    assert sent == 1
    [digest] = mail.outbox
    assert digest.subject == "[Acme Retail] 2 updates today"
    assert "New export format" in digest.body
    assert "Reports are faster" in digest.body
    assert Delivery.objects.filter(status=DeliveryStatus.SENT, channel=Channel.EMAIL).count() == 2
    # Sent once a day: a second run in the same hour sends nothing.
    assert send_due_digests(now=eight_am) == 0


def test_digest_waits_for_the_members_local_hour(
    organization: Organization, member: Membership
) -> None:
    NotificationPreferenceFactory(
        organization=organization, user=member.user, type="system_update", min_priority="low"
    )
    NotificationSettingsFactory(organization=organization, user=member.user, time_zone="Asia/Tokyo")
    [notification] = services.notify(organization, "system_update", {"message": "Hi"})
    services.plan_deliveries(notification.pk)  # what the task does once notify() commits
    assert [d.status for d in _email_deliveries(notification)] == [DeliveryStatus.DIGEST]

    utc_eight = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)  # 17:00 in Tokyo
    utc_twenty_three = dt.datetime(2025, 3, 3, 23, 0, tzinfo=dt.UTC)  # 08:00 in Tokyo

    assert send_due_digests(now=utc_eight) == 0
    assert send_due_digests(now=utc_twenty_three) == 1


@pytest.mark.parametrize(
    ("local_now", "priority", "expected", "held_until_local"),
    [
        ("23:30", "high", DeliveryStatus.HELD, dt.datetime(2025, 7, 2, 7, 0, tzinfo=NEW_YORK)),
        ("06:59", "high", DeliveryStatus.HELD, dt.datetime(2025, 7, 1, 7, 0, tzinfo=NEW_YORK)),
        ("07:00", "high", DeliveryStatus.SENT, None),
        ("12:00", "high", DeliveryStatus.SENT, None),
        ("23:30", "urgent", DeliveryStatus.SENT, None),
    ],
)
def test_quiet_hours_hold_back_all_but_urgent_in_the_members_time_zone(
    organization: Organization,
    member: Membership,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    local_now: str,
    priority: str,
    expected: str,
    held_until_local: dt.datetime | None,
) -> None:
    NotificationSettingsFactory(
        organization=organization,
        user=member.user,
        time_zone="America/New_York",
        quiet_hours_start=dt.time(22, 0),
        quiet_hours_end=dt.time(7, 0),
    )
    hour, minute = map(int, local_now.split(":"))
    fixed = dt.datetime(2025, 7, 1, hour, minute, tzinfo=NEW_YORK)
    monkeypatch.setattr(timezone, "now", lambda: fixed.astimezone(dt.UTC))

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(organization, "budget_alert", BUDGET, priority=priority)

    [email] = _email_deliveries(notification)
    assert email.status == expected
    assert email.hold_until == held_until_local
    assert len(mail.outbox) == (1 if expected == DeliveryStatus.SENT else 0)


def test_held_email_and_push_go_out_when_quiet_hours_end_not_before(
    organization: Organization,
    member: Membership,
    push_service: PushService,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a member whose quiet hours (22:00-07:00 Tokyo) are in force, with email and a
    subscribed browser; when a high-priority notification is raised, then both are held
    and the minute sweep sends them only once 07:00 Tokyo has passed."""
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    NotificationSettingsFactory(
        organization=organization,
        user=member.user,
        time_zone="Asia/Tokyo",
        quiet_hours_start=dt.time(22, 0),
        quiet_hours_end=dt.time(7, 0),
    )
    push_service.subscribe(member)
    clock = {"now": dt.datetime(2025, 3, 3, 23, 15, tzinfo=tokyo)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(organization, "budget_alert", BUDGET, priority="high")

    held = Delivery.objects.filter(notification=notification).order_by("channel")
    assert [(d.channel, d.status) for d in held] == [
        (Channel.EMAIL, DeliveryStatus.HELD),
        (Channel.WEB_PUSH, DeliveryStatus.HELD),
    ]
    assert {d.hold_until for d in held} == {dt.datetime(2025, 3, 4, 7, 0, tzinfo=tokyo)}

    from notifications.tasks import retry_due_deliveries_task

    clock["now"] = dt.datetime(2025, 3, 4, 6, 59, tzinfo=tokyo)
    assert retry_due_deliveries_task.delay().get() == 0
    assert (mail.outbox, push_service.received) == ([], [])

    clock["now"] = dt.datetime(2025, 3, 4, 7, 0, 30, tzinfo=tokyo)
    assert retry_due_deliveries_task.delay().get() == 2
    assert len(mail.outbox) == 1
    assert [p["id"] for p in push_service.received] == [notification.pk]
    assert set(
        Delivery.objects.filter(notification=notification).values_list("status", flat=True)
    ) == {DeliveryStatus.SENT}
    # The next sweep finds nothing left to release.
    assert retry_due_deliveries_task.delay().get() == 0
    assert len(mail.outbox) == 1


def test_held_delivery_of_a_notification_that_expired_meanwhile_is_not_sent(
    organization: Organization,
    member: Membership,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    NotificationSettingsFactory(
        organization=organization,
        user=member.user,
        quiet_hours_start=dt.time(0, 0),
        quiet_hours_end=dt.time(23, 59),
    )
    start = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = services.notify(
            organization,
            "budget_alert",
            BUDGET,
            priority="high",
            expires_at=start + dt.timedelta(hours=1),
        )
    [email] = _email_deliveries(notification)
    assert email.status == DeliveryStatus.HELD

    clock["now"] = dt.datetime(2025, 3, 4, 0, 0, tzinfo=dt.UTC)
    from notifications.delivery import release_held_deliveries

    assert release_held_deliveries() == 1
    email.refresh_from_db()
    assert email.status == DeliveryStatus.EXPIRED
    assert mail.outbox == []


def test_expired_notification_is_never_delivered(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    [notification] = services.notify(
        organization,
        "budget_alert",
        BUDGET,
        priority="high",
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    # Planned (what the task does once notify() commits), then it expires before the
    # queued delivery runs.
    [email_id] = services.plan_deliveries(notification.pk)
    Notification.objects.filter(pk=notification.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    [email] = _email_deliveries(notification)
    assert email.pk == email_id

    from notifications.delivery import deliver

    assert deliver(delivery_id=email.pk) == DeliveryStatus.EXPIRED
    assert mail.outbox == []
    assert list_notifications_for_user(organization, user=member.user).count() == 0


def test_expiry_task_removes_expired_notifications_only(
    organization: Organization, member: Membership
) -> None:
    [old] = services.notify(
        organization,
        "system_update",
        {"message": "old"},
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    [fresh] = services.notify(organization, "system_update", {"message": "fresh"})
    Notification.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))

    from notifications.tasks import delete_expired_notifications_task

    assert delete_expired_notifications_task.delay().get() == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Delivery.objects.filter(notification_id=old.pk).exists()


def test_expiry_in_the_past_is_refused(organization: Organization) -> None:
    with pytest.raises(services.NotificationError):
        services.notify(
            organization,
            "system_update",
            {"message": "x"},
            expires_at=timezone.now() - dt.timedelta(seconds=1),
        )


def test_expiry_is_scheduled_in_celery_beat(db: None) -> None:
    from django_celery_beat.models import PeriodicTask

    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "notifications.tasks.delete_expired_notifications_task",
        "notifications.tasks.send_email_digests_task",
    } <= tasks


def test_organization_template_override_changes_the_wording(
    organization: Organization, other_organization: Organization
) -> None:
    NotificationTemplateFactory(
        organization=organization,
        type="budget_alert",
        title="{{ campaign_name }} is at {{ spent_percent }}%!",
    )

    [ours] = services.notify(organization, "budget_alert", BUDGET)
    [theirs] = services.notify(other_organization, "budget_alert", BUDGET)

    assert ours.title == "Spring sale is at 92%!"
    assert ours.body == "Spent 920.00 of 1000.00 USD."  # not overridden: the built-in
    assert theirs.title == "Budget: Spring sale has spent 92% of its budget"


def test_html_body_escapes_event_data(organization: Organization) -> None:
    [notification] = services.notify(
        organization, "system_update", {"message": "<script>alert(1)</script>"}
    )

    assert notification.body == "<script>alert(1)</script>"
    assert "<script>" not in notification.body_html
    assert "&lt;script&gt;" in notification.body_html


def test_mark_all_read_then_dismiss(
    organization: Organization, member: Membership, other_organization: Organization
) -> None:
    services.notify(organization, "system_update", {"message": "one"})
    [two] = services.notify(organization, "system_update", {"message": "two"})
    services.notify(other_organization, "system_update", {"message": "elsewhere"})
    user = member.user

    assert services.mark_all_read(organization, user=user) == 2
    assert count_unread(organization, user=user) == 0
    services.dismiss(organization, user=user, notification=two)

    assert [n.body for n in list_notifications_for_user(organization, user=user)] == ["one"]
    assert Notification.objects.filter(organization=other_organization).count() == 1


def test_integration_errors_render_reauthorization(organization: Organization) -> None:
    [notification] = services.notify(
        organization,
        "integration_error",
        {
            "platform": "Meta",
            "connection_id": 3,
            "account_name": "Acme EU",
            "reauthorization_required": True,
            "reconnect_url": "/integrations/3/reconnect/",
        },
    )

    assert notification.title == "Reconnect Meta: authorization expired"
    assert notification.action_url == "/integrations/3/reconnect/"
    assert notification.priority == "high"


def test_action_url_to_another_scheme_is_dropped(organization: Organization) -> None:
    [notification] = services.notify(
        organization, "system_update", {"message": "x", "url": "javascript:alert(1)"}
    )
    [other] = services.notify(
        organization, "system_update", {"message": "y", "url": "//evil.example/"}
    )

    assert notification.action_url == ""
    assert other.action_url == ""


def test_viewer_role_still_receives_notifications(organization: Organization) -> None:
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER)
    services.notify(
        organization,
        "ai_insight",
        {"headline": "CPA is rising", "summary": "Up 18% this week", "insight_id": 5},
    )

    assert count_unread(organization, user=viewer.user) == 1
