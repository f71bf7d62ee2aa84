"""OpenAPI generation: every operation documents the error answers it can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

# The one error shape of the API (a field named "errors" cannot be declared on a
# Serializer class, where that name is taken, hence the inline form).
ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(help_text="What went wrong, for people."),
        "code": serializers.CharField(help_text="A stable machine-readable code."),
        "errors": serializers.DictField(
            child=serializers.JSONField(),
            required=False,
            help_text=(
                "Messages per field, for invalid input: a list of strings, or for list and "
                "nested fields the same shape per item or key."
            ),
        ),
    },
)


_ERRORS = {
    "400": "Invalid input: unknown filter value, bad cursor or body; see `errors`.",
    "401": "Missing, invalid or revoked API key.",
    "403": "The key's role may not do this (viewers cannot write).",
    "404": "No such object in the caller's organization.",
    "409": "Conflict: the object's current state does not allow this change.",
    "429": "Too many requests for this key; retry after the `Retry-After` seconds.",
}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        has_input = self.method in {"POST", "PUT", "PATCH"} or bool(
            self._get_filter_parameters() or self._get_pagination_parameters()
        )
        codes = ["401", "403", "429"]
        if has_input:
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes.append("409")
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = _ERRORS[code]
                responses[code] = response
        return responses
