"""Pages of /settings/email/ and /tools/ (mounted at the site root by config/urls.py)."""
from django.urls import path

from diagnostics import oauth_pages, pages

urlpatterns = [
    path("settings/email/", pages.email_settings, name="email-settings"),
    path("settings/email/test/", pages.email_test, name="email-test"),
    path("settings/email/password/", pages.email_password, name="email-password"),
    path("settings/email/turn-off/", pages.email_turn_off, name="email-turn-off"),
    path("settings/email/oauth/start/", oauth_pages.email_oauth_start, name="email-oauth-start"),
    path("settings/email/oauth/callback/", oauth_pages.email_oauth_callback, name="email-oauth-callback"),
    path("settings/email/sent-test/", pages.email_sent_test, name="email-sent-test"),
    path("settings/email/runs/<int:pk>/", pages.run_page, name="email-run"),
    path("settings/email/runs/<int:pk>/steps/", pages.run_steps, name="email-run-steps"),
    path("tools/port-check/", pages.tool_port_check, name="tool-port-check-page"),
    path("tools/domain-details/", pages.tool_domain_details, name="tool-domain-details-page"),
    path("tools/runs/<int:pk>/", pages.run_page, name="tool-run"),
    path("tools/runs/<int:pk>/steps/", pages.run_steps, name="tool-run-steps"),
]
