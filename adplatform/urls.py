from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from adplatform import health, settings_views, views

api_v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("adplatform.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("agents.api.urls")),
    path("", include("automation.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("organizations/switch/", views.switch_organization, name="switch-organization"),
    path("settings/", settings_views.organization_settings, name="organization-settings"),
    path("settings/export/", settings_views.export_organization, name="organization-export"),
    path("settings/delete/", settings_views.delete_organization_view, name="organization-delete"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("", include("campaigns.urls")),
    path("", include("campaigns.integrations_urls")),
    path("", include("analytics.urls")),
    path("", include("notifications.urls")),
    path("", include("agents.urls")),
    path("", include("automation.urls")),
]

if settings.BENCH_VIEWS:
    from adplatform import bench_views

    urlpatterns.append(path("bench/bare-json/", bench_views.bare_json))

handler404 = "adplatform.views.not_found"
handler500 = "adplatform.views.server_error"
