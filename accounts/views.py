"""Sign-in, sign-out, the language switcher, and the page of a refused form token (server-rendered pages)."""
from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import services
from accounts.forms import SignInForm
from config.errors import MailbindError, PermissionDenied


class SignInView(auth_views.LoginView):
    """Django's LoginView (CSRF, safe `next`, session rotation) with the service's throttled check."""

    form_class = SignInForm
    authentication_form = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """Django's safe `next`, except the sign-in page itself: a signed-in user sent there would loop (Django
        raises instead of redirecting), so they land on the default page."""
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


class SignOutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign anyone out. Then back to the sign-in page (LOGOUT_REDIRECT_URL)."""


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    """Switch the language: remembered on the user (accounts.services) and in the cookie, then back to `next`."""
    if request.user.is_authenticated:
        # An unknown language is refused by the service and ignored by set_language below as well.
        with contextlib.suppress(MailbindError):
            services.user_set_language(user=request.user, language=request.POST.get("language", ""))
    return set_language(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted with a missing or stale token (a page left open across signing in or out)
    gets a sentence and a way back to the page it came from, not Django's technical page."""
    error = PermissionDenied(_("The form expired. Reload the page and try again."))
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {"error": error, "back_url": referer if safe else "/"}
    return render(request, "error.html", context, status=error.status_code)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page without a <link rel=icon> (the admin's): the bundled icon."""
    return redirect(static("mailbind/favicon.ico"))
