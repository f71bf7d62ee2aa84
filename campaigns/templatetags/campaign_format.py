"""Formatting for money and for the campaigns table's sortable headers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}
# Currencies without minor units are shown without decimals.
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF"}


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    places = Decimal(1) if currency in ZERO_DECIMAL else Decimal("0.01")
    rounded = amount.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{rounded:,}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return str(query.urlencode())


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str, css: str = "") -> SafeString:
    current = context["sort"]
    active = current.lstrip("-") == key
    descending = current.startswith("-")
    next_sort = key if active and descending else f"-{key}"
    aria = ("descending" if descending else "ascending") if active else "none"
    query = context["request"].GET.copy()
    query["sort"] = next_sort
    query.pop("page", None)
    href = "?" + query.urlencode()
    arrow = ("▼" if descending else "▲") if active else ""
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a href="{}" hx-get="{}" '
        'hx-target="#campaign-table" hx-swap="outerHTML" hx-push-url="true" '
        'data-sort="{}">{} <span aria-hidden="true">{}</span></a></th>',
        css,
        aria,
        href,
        href,
        key,
        label,
        arrow,
    )
