"""Render a type's templates (or an organization's override) with the event's data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils.html import escape, linebreaks

from notifications.registry import NotificationType

# A standalone engine: no app template loaders, no request context, only builtins.
_engine = Engine(builtins=["django.template.defaultfilters", "django.template.defaulttags"])


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    body_html: str
    action_url: str


@dataclass(frozen=True)
class TemplateSet:
    title: str
    body: str
    html: str
    action_url: str


def templates_for(notification_type: NotificationType, override: Any | None = None) -> TemplateSet:
    """The type's templates, each replaced by a non-empty field of `override`."""

    def pick(name: str) -> str:
        custom = getattr(override, name, "") if override is not None else ""
        return str(custom) if custom else str(getattr(notification_type, name))

    return TemplateSet(
        title=pick("title"), body=pick("body"), html=pick("html"), action_url=pick("action_url")
    )


@lru_cache(maxsize=512)
def _compile(source: str) -> Template:
    # Keyed by the source text, so an edited override compiles afresh; parsing costs more
    # than rendering, and notify() renders the same few templates over and over.
    return _engine.from_string(source)


def _render(source: str, data: dict[str, Any], *, autoescape: bool) -> str:
    if not source:
        return ""
    template = _compile(source)
    return template.render(Context(data, autoescape=autoescape)).strip()


def validate_template(source: str) -> None:
    """Raise TemplateSyntaxError for a template that would not compile (used by the admin)."""
    _engine.from_string(source)


def render_notification(templates: TemplateSet, data: dict[str, Any]) -> Rendered:
    """Plain text for title, body and URL; HTML (escaped) for the email body."""
    try:
        title = _render(templates.title, data, autoescape=False)
        body = _render(templates.body, data, autoescape=False)
        action_url = _render(templates.action_url, data, autoescape=False)
        html = _render(templates.html, data, autoescape=True)
    except TemplateSyntaxError:
        # A broken organization override must not swallow the event: fall back to the data.
        title, body, action_url, html = "Notification", str(data), "", ""
    if not html:
        html = linebreaks(escape(body))
    # Only site-relative or http(s) links are followed from the UI and emails.
    # "//host" is protocol-relative: another site.
    if action_url.startswith("//") or (
        action_url and not action_url.startswith(("/", "https://", "http://"))
    ):
        action_url = ""
    return Rendered(
        title=title[:300] or "Notification", body=body, body_html=html, action_url=action_url[:500]
    )
