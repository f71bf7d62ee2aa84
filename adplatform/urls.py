from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from adplatform import views

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("adplatform.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("notifications.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("organizations/switch/", views.switch_organization, name="switch-organization"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("", include("campaigns.urls")),
    path("", include("notifications.urls")),
]

handler404 = "adplatform.views.not_found"
handler500 = "adplatform.views.server_error"
