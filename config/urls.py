from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health

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
    path("admin/", admin.site.urls),
    path("", include("accounts.page_urls")),
    path("", include("diagnostics.page_urls")),
]


def handler404(request, exception=None):
    """API paths answer JSON in the one error shape; pages get Django's page."""
    from django.views.defaults import page_not_found

    from config.exception_handler import json_404

    if request.path.startswith("/api/"):
        return json_404(request, exception)
    return page_not_found(request, exception)
