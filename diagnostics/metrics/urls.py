from django.urls import path

from diagnostics.metrics.views import metrics

urlpatterns = [
    path("metrics", metrics, name="metrics"),
]
