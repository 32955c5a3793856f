from django.urls import path

from diagnostics import api, oauth_api

urlpatterns = [
    path("mail-accounts/oauth/start/", oauth_api.OAuthStartView.as_view(), name="mail-account-oauth-start"),
    path("mail-accounts/<int:pk>/diagnostics/", api.AccountDiagnosticsView.as_view(), name="account-diagnostics"),
    path("mail-accounts/<int:pk>/sent-test/", api.SentTestView.as_view(), name="account-sent-test"),
    path("diagnostics/<int:pk>/", api.RunDetailView.as_view(), name="diagnostic-run"),
    path("tools/port-check/", api.PortCheckView.as_view(), name="tool-port-check"),
    path("tools/domain-details/", api.DomainDetailsView.as_view(), name="tool-domain-details"),
]
