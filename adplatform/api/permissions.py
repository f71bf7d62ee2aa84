from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from adplatform.api.tenancy import resolve_api_access


class IsOrganizationMember(BasePermission):
    """Any role may read; viewers may not write."""

    message = "Viewers can read but not make changes."

    def has_permission(self, request: Request, view: Any) -> bool:
        access = resolve_api_access(request)
        if access is None:
            return False
        if request.method in SAFE_METHODS:
            return True
        return access.can_write


class IsOrganizationAdmin(BasePermission):
    message = "Only owners and admins can do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        access = resolve_api_access(request)
        return access is not None and access.is_admin
