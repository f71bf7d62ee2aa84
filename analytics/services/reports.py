"""Client reports (KPIs, charts, insights) as print-ready HTML or PDF, and their schedule.

The HTML draws its charts as inline SVG, so it reads the same in a browser, a print
dialog and an email client; the PDF draws them with ReportLab's own chart library.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import logging
import zoneinfo
from dataclasses import dataclass

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from adplatform.models import Organization
from analytics.metrics import METRIC_LABELS, Dimension, MetricFilters, MetricQuery, Period
from analytics.models import (
    SEVERITY_RANK,
    Insight,
    ReportFormat,
    ReportFrequency,
    ScheduledReport,
)
from analytics.params import organization_today
from analytics.presenters import format_metric
from analytics.selectors.metrics import (
    MetricReport,
    MetricTotals,
    get_metric_report,
    get_metric_series,
    get_metric_totals,
)
from analytics.services.exports import write_xlsx

logger = logging.getLogger(__name__)

REPORT_KPIS = ("spend", "revenue", "roas", "conversions", "cpa", "clicks", "ctr", "impressions")
SEND_HOUR = 7  # local time of the organization


@dataclass(frozen=True)
class ClientReport:
    organization: Organization
    period: Period
    totals: MetricTotals
    series: MetricReport
    platforms: MetricReport
    campaigns: MetricReport
    insights: list[Insight]

    @property
    def currency(self) -> str:
        return self.totals.currency

    def kpis(self) -> list[tuple[str, str, float | None, bool | None]]:
        """(label, value, % change, whether the change is good) per KPI."""
        rows = []
        for metric in REPORT_KPIS:
            change = self.totals.change(metric).percent
            percent = float(change) if change is not None else None
            good = None
            if percent:
                good = percent < 0 if metric in {"cpa", "cpc", "cpm"} else percent > 0
            rows.append(
                (
                    METRIC_LABELS[metric],
                    format_metric(metric, self.totals.current.value(metric), self.currency),
                    percent,
                    good,
                )
            )
        return rows


def build_client_report(
    organization: Organization, *, period: Period, filters: MetricFilters | None = None
) -> ClientReport:
    filters = filters or MetricFilters()
    grain = Dimension.DATE if period.days <= 120 else Dimension.WEEK
    insights = sorted(
        Insight.objects.filter(organization=organization, is_dismissed=False)
        .exclude(kind="forecast")
        .select_related("campaign")
        .order_by("-created_at")[:30],
        key=lambda i: (-SEVERITY_RANK.get(i.severity, 0), -i.created_at.timestamp()),
    )[:8]
    return ClientReport(
        organization=organization,
        period=period,
        totals=get_metric_totals(organization, period=period, filters=filters, compare=True),
        series=get_metric_series(organization, period=period, grain=grain, filters=filters),
        platforms=get_metric_report(
            organization,
            MetricQuery(period=period, group_by=(Dimension.PLATFORM,), filters=filters),
        ),
        campaigns=get_metric_report(
            organization,
            MetricQuery(period=period, group_by=(Dimension.CAMPAIGN,), filters=filters, limit=10),
        ),
        insights=insights,
    )


def _compact(value: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}".replace(".0", "")
    return f"{value:.0f}"


def _svg_lines(report: ClientReport, width: int = 720, height: int = 220) -> SafeString:
    """Spend and revenue over time as an inline SVG line chart."""
    rows = report.series.rows
    spend = [float(r.metrics.spend) for r in rows]
    revenue = [float(r.metrics.revenue) for r in rows]
    top = max([*spend, *revenue, 1.0])
    left, bottom, pad = 56, 24, 8
    inner_w, inner_h = width - left - pad, height - bottom - pad

    def points(values: list[float]) -> str:
        step = inner_w / max(len(values) - 1, 1)
        return " ".join(
            f"{left + i * step:.1f},{pad + inner_h - v / top * inner_h:.1f}"
            for i, v in enumerate(values)
        )

    ticks = "".join(
        f'<text x="{left - 6}" y="{pad + inner_h - f * inner_h + 4:.1f}" text-anchor="end">'
        f"{_compact(top * f)}</text>"
        f'<line x1="{left}" x2="{width - pad}" y1="{pad + inner_h - f * inner_h:.1f}" '
        f'y2="{pad + inner_h - f * inner_h:.1f}" class="grid"/>'
        for f in (0, 0.5, 1)
    )
    first = escape(rows[0].labels[0]) if rows else ""
    last = escape(rows[-1].labels[0]) if rows else ""
    return mark_safe(  # noqa: S308 - built from numbers and escaped labels only
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Revenue and spend over time">'
        f"{ticks}"
        f'<polyline fill="none" stroke="#0f7b4b" stroke-width="2" points="{points(revenue)}"/>'
        f'<polyline fill="none" stroke="#4f46e5" stroke-width="2" points="{points(spend)}"/>'
        f'<text x="{left}" y="{height - 6}">{first}</text>'
        f'<text x="{width - pad}" y="{height - 6}" text-anchor="end">{last}</text>'
        "</svg>"
    )


def _svg_bars(report: ClientReport, width: int = 720) -> SafeString:
    """Spend by platform as horizontal bars."""
    rows = report.platforms.rows
    top = max([float(r.metrics.spend) for r in rows] + [1.0])
    bar, gap, left = 18, 8, 120
    height = max(len(rows), 1) * (bar + gap) + gap
    parts = []
    for index, row in enumerate(rows):
        y = gap + index * (bar + gap)
        w = float(row.metrics.spend) / top * (width - left - 110)
        value = format_metric("spend", row.metrics.spend, report.currency)
        parts.append(
            f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{escape(row.labels[0])}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" rx="3" fill="#4f46e5"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 13}">{escape(value)}</text>'
        )
    return mark_safe(  # noqa: S308 - numbers and escaped labels only
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Spend by platform">'
        + "".join(parts)
        + "</svg>"
    )


def render_report_html(report: ClientReport) -> str:
    return render_to_string(
        "analytics/report.html",
        {
            "report": report,
            "kpis": report.kpis(),
            "line_chart": _svg_lines(report),
            "bar_chart": _svg_bars(report),
            "campaign_rows": [
                (
                    row.labels[0],
                    format_metric("spend", row.metrics.spend, report.currency),
                    format_metric("conversions", row.metrics.conversions, report.currency),
                    format_metric("cpa", row.metrics.cpa, report.currency),
                    format_metric("roas", row.metrics.roas, report.currency),
                )
                for row in report.campaigns.rows
            ],
            "generated_at": timezone.now(),
        },
    )


def render_report_pdf(report: ClientReport) -> bytes:
    """The same report as a PDF, laid out with ReportLab (no system libraries needed)."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    indigo = colors.HexColor("#4f46e5")
    green = colors.HexColor("#0f7b4b")
    story: list[object] = [
        Paragraph(f"{escape(report.organization.name)}: performance report", styles["Title"]),
        Paragraph(
            f"{report.period.start:%b %-d, %Y} – {report.period.end:%b %-d, %Y} · "
            f"compared with the previous {report.period.days} days · {report.currency}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    kpi_cells = []
    for label, value, percent, good in report.kpis():
        change = "—" if percent is None else f"{percent:+.1f}%"
        colour = "#0f7b4b" if good else "#b42318" if good is False else "#5d6474"
        kpi_cells.append(
            Paragraph(
                f"<font size=8 color='#5d6474'>{escape(label)}</font><br/>"
                f"<font size=13><b>{escape(value)}</b></font><br/>"
                f"<font size=8 color='{colour}'>{change}</font>",
                styles["Normal"],
            )
        )
    kpi_table = Table([kpi_cells[:4], kpi_cells[4:]], colWidths=[44 * mm] * 4)
    kpi_table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#e3e6ee")),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#e3e6ee")),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story += [kpi_table, Spacer(1, 6 * mm), Paragraph("Revenue and spend", styles["Heading2"])]

    rows = report.series.rows
    drawing = Drawing(170 * mm, 60 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 15 * mm, 8 * mm, 150 * mm, 48 * mm
    plot.data = [
        [(i, float(r.metrics.revenue)) for i, r in enumerate(rows)] or [(0, 0)],
        [(i, float(r.metrics.spend)) for i, r in enumerate(rows)] or [(0, 0)],
    ]
    plot.lines[0].strokeColor = green
    plot.lines[1].strokeColor = indigo
    plot.xValueAxis.visibleLabels = False
    drawing.add(plot)
    drawing.add(String(15 * mm, 2 * mm, rows[0].labels[0] if rows else "", fontSize=7))
    drawing.add(
        String(165 * mm, 2 * mm, rows[-1].labels[0] if rows else "", fontSize=7, textAnchor="end")
    )
    story += [drawing, Paragraph("Spend by platform", styles["Heading2"])]

    platforms = report.platforms.rows
    bars = Drawing(170 * mm, max(len(platforms), 1) * 7 * mm + 10 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y = 30 * mm, 5 * mm
    chart.width, chart.height = 130 * mm, max(len(platforms), 1) * 7 * mm
    chart.data = [[float(r.metrics.spend) for r in platforms] or [0]]
    chart.categoryAxis.categoryNames = [r.labels[0] for r in platforms] or [""]
    chart.bars[0].fillColor = indigo
    bars.add(chart)
    story += [bars, Paragraph("Top campaigns by spend", styles["Heading2"])]

    table_rows = [["Campaign", "Spend", "Conversions", "CPA", "ROAS"]]
    for row in report.campaigns.rows:
        m = row.metrics
        table_rows.append(
            [
                Paragraph(escape(row.labels[0]), styles["BodyText"]),
                format_metric("spend", m.spend, report.currency),
                format_metric("conversions", m.conversions, report.currency),
                format_metric("cpa", m.cpa, report.currency),
                format_metric("roas", m.roas, report.currency),
            ]
        )
    campaigns = Table(table_rows, colWidths=[74 * mm, 26 * mm, 24 * mm, 22 * mm, 20 * mm])
    campaigns.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor("#5d6474")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#e3e6ee")),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [campaigns, Spacer(1, 4 * mm), Paragraph("Insights", styles["Heading2"])]
    for insight in report.insights:
        story.append(
            Paragraph(
                f"<b>[{escape(insight.get_severity_display())}] {escape(insight.title)}</b><br/>"
                f"<font size=8>{escape(insight.summary)} "
                f"(confidence {float(insight.confidence):.0%})</font>",
                styles["BodyText"],
            )
        )
    if not report.insights:
        story.append(Paragraph("No open insights for this period.", styles["BodyText"]))

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{report.organization.name} report",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    ).build(story)
    return buffer.getvalue()


def report_period(frequency: str, today: dt.date) -> Period:
    """Weekly: the last full Monday–Sunday week; monthly: the last full calendar month."""
    if frequency == ReportFrequency.WEEKLY:
        end = today - dt.timedelta(days=today.weekday() + 1)
        return Period(start=end - dt.timedelta(days=6), end=end)
    end = today.replace(day=1) - dt.timedelta(days=1)
    return Period(start=end.replace(day=1), end=end)


def next_run_after(frequency: str, moment: dt.datetime, time_zone: str) -> dt.datetime:
    """The next send time strictly after `moment`: Mondays or the 1st, 07:00 local."""
    zone = zoneinfo.ZoneInfo(time_zone)
    day = timezone.localtime(moment, zone).date()
    if frequency == ReportFrequency.WEEKLY:
        for offset in range(8):
            candidate_day = day + dt.timedelta(days=offset)
            candidate = dt.datetime.combine(candidate_day, dt.time(SEND_HOUR), tzinfo=zone)
            if candidate_day.weekday() == 0 and candidate > moment:
                return candidate
    first = day.replace(day=1)
    candidate = dt.datetime.combine(first, dt.time(SEND_HOUR), tzinfo=zone)
    if candidate > moment:
        return candidate
    following = first + dt.timedelta(days=calendar.monthrange(first.year, first.month)[1])
    return dt.datetime.combine(following, dt.time(SEND_HOUR), tzinfo=zone)


def send_report(*, scheduled: ScheduledReport, today: dt.date | None = None) -> EmailMessage:
    """Build the report for its last full period and email it to its recipients."""
    organization = scheduled.organization
    today = today or organization_today(organization)
    period = report_period(scheduled.frequency, today)
    report = build_client_report(organization, period=period)
    subject = (
        f"{organization.name}: {scheduled.name} ({period.start:%b %-d} – {period.end:%b %-d, %Y})"
    )
    html = render_report_html(report)
    message = EmailMessage(subject=subject, to=list(scheduled.recipients))
    stem = f"report-{organization.slug}-{period.start}-{period.end}"
    if scheduled.format == ReportFormat.HTML:
        message.body = html
        message.content_subtype = "html"
    elif scheduled.format == ReportFormat.PDF:
        message.body = f"Your {scheduled.get_frequency_display().lower()} report is attached."
        message.attach(f"{stem}.pdf", render_report_pdf(report), "application/pdf")
    else:
        buffer = io.BytesIO()
        campaigns = get_metric_report(
            organization, MetricQuery(period=period, group_by=(Dimension.CAMPAIGN,), compare=True)
        )
        write_xlsx(campaigns, buffer)
        message.body = "Campaign metrics for the period are attached."
        message.attach(
            f"{stem}.xlsx",
            buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    message.send()
    return message


def send_due_reports(now: dt.datetime | None = None) -> int:
    """Send every active report whose `next_run_at` has passed; returns how many were sent.

    Each report is claimed by moving its `next_run_at` forward with a conditional UPDATE,
    so two beat workers never send the same report twice.
    """
    now = now or timezone.now()
    sent = 0
    due = ScheduledReport.objects.filter(is_active=True, next_run_at__lte=now).select_related(
        "organization"
    )
    for scheduled in due:
        following = next_run_after(scheduled.frequency, now, scheduled.organization.time_zone)
        claimed = ScheduledReport.objects.filter(
            pk=scheduled.pk, next_run_at=scheduled.next_run_at
        ).update(next_run_at=following)
        if claimed != 1:
            continue
        try:
            send_report(scheduled=scheduled, today=organization_today(scheduled.organization, now))
        except Exception:
            logger.exception("Scheduled report failed", extra={"report_id": scheduled.pk})
            continue
        ScheduledReport.objects.filter(pk=scheduled.pk).update(last_sent_at=now)
        sent += 1
    return sent


def schedule_report(
    *,
    organization: Organization,
    name: str,
    frequency: str,
    recipients: list[str],
    file_format: str = ReportFormat.PDF,
    now: dt.datetime | None = None,
) -> ScheduledReport:
    """Create a scheduled report; its first send is the next Monday or 1st, 07:00 local."""
    from django.core.validators import validate_email

    for address in recipients:
        validate_email(address)
    if frequency not in ReportFrequency.values:
        raise ValueError(f"frequency is one of {', '.join(ReportFrequency.values)}.")
    return ScheduledReport.objects.create(
        organization=organization,
        name=name,
        frequency=frequency,
        format=file_format,
        recipients=recipients,
        next_run_at=next_run_after(frequency, now or timezone.now(), organization.time_zone),
    )


__all__ = [
    "ClientReport",
    "build_client_report",
    "next_run_after",
    "render_report_html",
    "render_report_pdf",
    "report_period",
    "schedule_report",
    "send_due_reports",
    "send_report",
]
