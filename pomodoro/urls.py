from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from pomodoro import health, metrics
from pomodoro.errors import api_not_found

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("sessions_app.urls")),
    path("", include("events.urls")),
    path("", include("analytics.urls")),
    path("", include("teams.urls")),
    path("", include("integrations.urls")),
]

handler400 = "pomodoro.errors.bad_request"
handler500 = "pomodoro.errors.server_error"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline, so
    # the Content-Security-Policy can refuse every inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="docs/redoc.html"),
        name="redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # The web app's session sign-in (accounts/session_api.py), then the app itself.
    path("session/", include("accounts.session_urls")),
    path("", include("web.urls")),
    # Unknown paths under /api/ answer problem+json, not Django's HTML page.
    re_path(r"^api/", api_not_found),
]
