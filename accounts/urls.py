from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="auth-token"),
    path("audit-events/", api.AuditEventListView.as_view(), name="audit-event-list"),
]
