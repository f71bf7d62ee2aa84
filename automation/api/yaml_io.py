"""YAML on the wire for rule files: a parser (safe subset only) and a renderer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

import yaml
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

YAML_MEDIA_TYPE = "application/yaml"


class YAMLParser(BaseParser):
    media_type = YAML_MEDIA_TYPE

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            # safe_load builds plain data only (no Python objects from tags).
            return yaml.safe_load(stream.read())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ParseError(f"Not valid YAML{where}.") from exc


class YAMLTextParser(YAMLParser):
    media_type = "text/yaml"


class YAMLRenderer(BaseRenderer):
    media_type = YAML_MEDIA_TYPE
    format = "yaml"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return yaml.safe_dump(
            data, sort_keys=False, allow_unicode=True, default_flow_style=False
        ).encode("utf-8")


class RuleFileNegotiation(DefaultContentNegotiation):
    """`?format=` other than json/yaml is a 400 naming the parameter (DRF says 404)."""

    def filter_renderers(
        self, renderers: Iterable[BaseRenderer], format: str
    ) -> list[BaseRenderer]:
        chosen = [renderer for renderer in renderers if renderer.format == format]
        if not chosen:
            names = ", ".join(str(renderer.format) for renderer in renderers)
            raise ValidationError({"format": [f"Choose one of {names}."]})
        return chosen
