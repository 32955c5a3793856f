"""`GET /metrics`: off (404) unless METRICS_TOKEN is set, then only with `Authorization: Bearer <token>`."""
from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config.errors import NotAuthenticated, NotFound
from diagnostics.metrics.collector import DatabaseCollector


def _error(error) -> JsonResponse:
    response = JsonResponse(error.as_body(), status=error.status_code)
    if error.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@require_GET
def metrics(request) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return _error(NotFound())
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _error(NotAuthenticated("Send the metrics token: Authorization: Bearer <METRICS_TOKEN>."))
    registry = CollectorRegistry(auto_describe=False)  # one per scrape: nothing is kept in this process
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
