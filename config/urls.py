from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from config.exception_handler import json_404

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("locks.urls")),
    path("", include("mailsettings.urls")),
    path("", include("diagnostics.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("diagnostics.metrics.urls")),  # /metrics (config imports no app: URLs by module name)
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Any other API path is an API 404 in the error shape, in every mode: with DEBUG on, Django would answer its
    # HTML page listing every URL pattern instead of calling handler404.
    re_path(r"^api/", json_404),
    path("admin/", admin.site.urls),
    path("", include("accounts.page_urls")),
    path("", include("diagnostics.page_urls")),
]


def handler404(request, exception=None):
    """API paths answer JSON in the one error shape (a view raising Http404 too); pages get Django's page."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return json_404(request, exception)
    return page_not_found(request, exception)
