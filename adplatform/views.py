from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import views as auth_views
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from adplatform.api.errors import api_not_found, api_server_error
from adplatform.audit import record_audit
from adplatform.middleware import SESSION_KEY
from adplatform.models import AuditAction
from adplatform.selectors import list_memberships


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("campaigns:list")


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # One entry per organization, so each one's owners see their members' sign-ins.
        for membership in list_memberships(user=self.request.user):
            record_audit(
                action=AuditAction.LOGIN,
                organization=membership.organization,
                user=self.request.user,
                request=self.request,
            )
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        username = form.data.get("username", "")
        user_model = get_user_model()
        user = user_model._default_manager.filter(
            Q(username=username) | Q(email__iexact=username)
        ).first()
        if user is not None:
            for membership in list_memberships(user=user):
                record_audit(
                    action=AuditAction.LOGIN_FAILED,
                    organization=membership.organization,
                    target=user.email or user.get_username(),
                    request=self.request,
                )
        return super().form_invalid(form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        for membership in list_memberships(user=request.user):
            record_audit(
                action=AuditAction.LOGOUT,
                organization=membership.organization,
                user=request.user,
                request=request,
            )
    logout(request)
    messages.info(request, "You have been signed out.")
    return redirect("login")


@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Remember which organization the user works in; membership is re-checked per request."""
    if not request.user.is_authenticated:
        return redirect("login")
    slug = request.POST.get("organization", "")
    membership = list_memberships(user=request.user).filter(organization__slug=slug).first()
    if membership is None:
        messages.error(request, "You are not a member of that organization.")
    else:
        request.session[SESSION_KEY] = membership.organization_id
    target = request.POST.get("next") or reverse("campaigns:list")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("campaigns:list")
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return render(request, "500.html", status=500)
