"""Scheduled client reports: when they are due, what they contain, sent once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from analytics.metrics import Period
from analytics.models import ReportFormat, ReportFrequency, ScheduledReport
from analytics.services.reports import (
    next_run_after,
    report_period,
    schedule_report,
    send_due_reports,
)
from tests.analytics.factories import write_ad_day
from tests.campaigns.factories import AdFactory

UTC = dt.UTC


def test_weekly_reports_go_out_on_monday_at_seven_local_time():
    sunday_evening = dt.datetime(2026, 3, 1, 20, 0, tzinfo=UTC)

    nxt = next_run_after(ReportFrequency.WEEKLY, sunday_evening, "America/New_York")

    assert nxt.isoformat() == "2026-03-02T07:00:00-05:00"


def test_monthly_reports_go_out_on_the_first():
    nxt = next_run_after(ReportFrequency.MONTHLY, dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "UTC")

    assert nxt == dt.datetime(2026, 4, 1, 7, 0, tzinfo=UTC)


def test_report_periods_are_the_last_full_week_or_month():
    wednesday = dt.date(2026, 3, 11)

    assert report_period(ReportFrequency.WEEKLY, wednesday) == Period(
        dt.date(2026, 3, 2), dt.date(2026, 3, 8)
    )
    assert report_period(ReportFrequency.MONTHLY, wednesday) == Period(
        dt.date(2026, 2, 1), dt.date(2026, 2, 28)
    )


def test_schedule_report_rejects_a_bad_address(organization):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        schedule_report(
            organization=organization,
            name="Weekly",
            frequency="weekly",
            recipients=["not-an-email"],
        )


@pytest.mark.parametrize(
    ("file_format", "attachment_type"),
    [
        (ReportFormat.PDF, "application/pdf"),
        (ReportFormat.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_a_due_report_is_emailed_once_with_its_attachment(
    organization, file_format, attachment_type
):
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    write_ad_day(ad, dt.date(2026, 3, 4), spend="12.50", clicks=4)
    scheduled = schedule_report(
        organization=organization,
        name="Weekly review",
        frequency=ReportFrequency.WEEKLY,
        recipients=["client@example.com", "am@example.com"],
        file_format=file_format,
        now=dt.datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
    )
    assert scheduled.next_run_at == dt.datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    monday = dt.datetime(2026, 3, 9, 7, 30, tzinfo=UTC)

    first = send_due_reports(now=monday)
    again = send_due_reports(now=monday)

    assert (first, again) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["client@example.com", "am@example.com"]
    assert "Mar 2 – Mar 8, 2026" in message.subject
    name, content, mimetype = message.attachments[0]
    assert mimetype == attachment_type
    assert len(content) > 500
    scheduled.refresh_from_db()
    assert scheduled.last_sent_at == monday
    assert scheduled.next_run_at == dt.datetime(2026, 3, 16, 7, 0, tzinfo=UTC)


def test_an_html_report_is_the_email_body(organization):
    ScheduledReport.objects.create(
        organization=organization, name="Monthly", frequency=ReportFrequency.MONTHLY,
        format=ReportFormat.HTML, recipients=["c@example.com"],
        next_run_at=dt.datetime(2026, 4, 1, 7, 0, tzinfo=UTC),
    )  # fmt: skip

    send_due_reports(now=dt.datetime(2026, 4, 1, 8, 0, tzinfo=UTC))

    assert mail.outbox[0].content_subtype == "html"
    assert "<svg" in mail.outbox[0].body


def test_the_report_sender_is_scheduled_hourly_in_beat(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="analytics.tasks.send_due_reports_task")

    assert task.enabled
    assert task.crontab.minute == "5"
    assert task.crontab.hour == "*"
