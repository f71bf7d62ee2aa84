"""Breakdowns as files: CSV streamed row by row, XLSX written in openpyxl's write-only mode."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.http import FileResponse, StreamingHttpResponse

from analytics.metrics import ALL_METRICS, METRIC_LABELS, MONEY_METRICS
from analytics.presenters import metric_json
from analytics.selectors.metrics import MetricReport

EXPORT_FORMATS = ("csv", "xlsx")
MAX_EXPORT_ROWS = 200_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_header(report: MetricReport) -> list[str]:
    header: list[str] = []
    for dimension in report.group_by:
        header += (
            [f"{dimension.value}_id", dimension.value]
            if _has_id(dimension.value)
            else [dimension.value]
        )
    for metric in ALL_METRICS:
        label = METRIC_LABELS[metric]
        header.append(f"{label} ({report.currency})" if metric in MONEY_METRICS else label)
        if report.previous_period is not None:
            header.append(f"{label} change %")
    return header


def _has_id(dimension: str) -> bool:
    return dimension in {"ad_account", "campaign", "ad_group", "ad", "creative"}


def export_rows(report: MetricReport) -> Iterator[list[Any]]:
    """The report's rows as cells: ids and labels, then each metric (and its % change)."""
    for row in report.rows:
        cells: list[Any] = []
        for dimension, key, label in zip(report.group_by, row.key, row.labels, strict=True):
            if _has_id(dimension.value):
                cells += [key, label]
            else:
                cells.append(label)
        for metric in ALL_METRICS:
            value = metric_json(metric, row.metrics.value(metric), report.currency)
            cells.append(Decimal(value) if isinstance(value, str) else value)
            if report.previous_period is not None:
                percent = row.change(metric).percent
                cells.append(round(float(percent), 2) if percent is not None else None)
        yield cells


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(report: MetricReport) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(export_header(report))
    for cells in export_rows(report):
        yield writer.writerow(["" if c is None else c for c in cells])


def write_xlsx(report: MetricReport, target: Any) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Metrics")
    sheet.append([f"{report.period.start} to {report.period.end}, {report.currency}"])
    sheet.append(export_header(report))
    for cells in export_rows(report):
        sheet.append([float(c) if isinstance(c, Decimal) else c for c in cells])
    workbook.save(target)


def export_filename(report: MetricReport, extension: str) -> str:
    grouping = "-".join(d.value for d in report.group_by) or "totals"
    return f"metrics-{grouping}-{report.period.start}-{report.period.end}.{extension}"


def export_response(
    report: MetricReport, *, file_format: str
) -> StreamingHttpResponse | FileResponse:
    if file_format == "csv":
        response = StreamingHttpResponse(stream_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export_filename(report, "csv")}"'
        return response
    # A spooled file stays in memory when small and moves to disk when large.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(report, spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=export_filename(report, "xlsx"), content_type=XLSX_TYPE
    )
