"""Views that exist only for benchmarks (mounted when ADPLATFORM_BENCH_VIEWS=1)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def bare_json(request: HttpRequest) -> JsonResponse:
    """The ceiling: the same server and middleware, no query, a tiny JSON body."""
    return JsonResponse({"status": "ok"})
