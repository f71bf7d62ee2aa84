from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    """Stable pages over changing data; `ordering` may be chosen with `?ordering=`."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            # DRF answers a bad cursor with 404; it is a bad parameter, not a missing page.
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and (not raw.isdigit() or int(raw) < 1):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be an integer from 1 to {self.max_page_size}."
                    ]
                }
            )
        return super().get_page_size(request)  # type: ignore[return-value]
