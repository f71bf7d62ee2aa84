"""The organization settings page: members, API keys, audit log, export and deletion."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from adplatform.audit import list_audit_entries, record_audit
from adplatform.models import ADMIN_ROLES, AuditAction, Role
from adplatform.organization_data import delete_organization, export_organization_data
from adplatform.selectors import list_api_keys
from adplatform.web import OrganizationRequest, organization_view


def _require_admin(request: OrganizationRequest) -> None:
    if request.membership.role not in ADMIN_ROLES:
        raise PermissionDenied("Only owners and admins can see the organization's settings.")


@require_GET
@organization_view()
def organization_settings(request: OrganizationRequest) -> HttpResponse:
    _require_admin(request)
    entries = Paginator(list_audit_entries(request.organization), 30).get_page(
        request.GET.get("page") or 1
    )
    context = {
        "members": request.organization.memberships.select_related("user").order_by("role"),
        "api_keys": list_api_keys(request.organization),
        "entries": entries,
        "is_owner": request.membership.role == Role.OWNER,
    }
    template = "adplatform/settings.html#audit" if request.htmx else "adplatform/settings.html"
    return render(request, template, context)


@require_GET
@organization_view()
def export_organization(request: OrganizationRequest) -> StreamingHttpResponse:
    if request.membership.role != Role.OWNER:
        raise PermissionDenied("Only owners can export the organization's data.")
    record_audit(
        action=AuditAction.ORGANIZATION_EXPORTED,
        organization=request.organization,
        user=request.user,
        request=request,
    )
    response = StreamingHttpResponse(
        export_organization_data(request.organization), content_type="application/json"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.organization.slug}-export-{stamp}.json"'
    )
    return response


@require_POST
@organization_view(write=True)
def delete_organization_view(request: OrganizationRequest) -> HttpResponse:
    if request.membership.role != Role.OWNER:
        raise PermissionDenied("Only owners can delete the organization.")
    if request.POST.get("confirm", "") != request.organization.slug:
        messages.error(request, "Type the organization's slug exactly to confirm the deletion.")
        return redirect("organization-settings")
    name = request.organization.name
    delete_organization(organization=request.organization)
    messages.info(request, f"{name} and all its data were deleted.")
    return redirect("home")
