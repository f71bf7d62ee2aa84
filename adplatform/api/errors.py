"""One JSON error shape for the API: `{"detail": ..., "code": ..., "errors": {field: [...]}}`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        # Same answer whether the row is missing or another organization's.
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if isinstance(errors, list):
            errors = {"non_field_errors": errors}
        first = next(iter(errors.values()), ["Invalid input."]) if errors else ["Invalid input."]
        message = first[0] if isinstance(first, list) and first else "Invalid input."
        response.data = {"detail": str(message), "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": _flatten(exc.detail) if not isinstance(exc.detail, dict) else "Error.",
            "code": codes if isinstance(codes, str) else "error",
        }
    return response


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        {"detail": "Not found.", "code": "not_found"}, status=status.HTTP_404_NOT_FOUND
    )


def api_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"detail": "Server error.", "code": "server_error"},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
