"""Pages of OAuth2 sign-in on /settings/email/: "Sign in with Google / Microsoft / ..." starts the flow from the
new-account form (its settings, never a password) or from an account ("Sign in again", "Sign in instead"); the
callback stores the tokens, binds the account and starts its check. Every refusal is its sentence on a page,
nothing saved: consent denied, a replayed or forged callback, another address than the one typed, a lock.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.errors import MailbindError
from config.exception_handler import as_product_error
from config.form_errors import form_add_product_error
from diagnostics import services
from diagnostics.oauth.flow import oauth_complete, oauth_start
from diagnostics.oauth.offers import oauth_offer_for_address
from diagnostics.pages import render_error
from locks.errors import SettingsLocked
from mailsettings import selectors as mail_selectors
from mailsettings.forms import MailAccountForm
from mailsettings.oauth_providers import provider_display_name


@require_POST
@never_cache
@login_required
def email_oauth_start(request: HttpRequest) -> HttpResponse:
    """Leave for the provider's sign-in page. From the new-account form the whole form comes (no password is
    read); from an account page only the provider, the address being the account's."""
    user = request.user
    provider = request.POST.get("oauth_provider", "")
    form = None
    try:
        own = mail_selectors.mail_account_own_get(actor=user)  # operators and a locked user stop here
        form = MailAccountForm(request.POST) if own is None else None
        if form is not None and form.is_valid():
            # The servers only: no password, and sending uses the same sign-in whatever the checkbox says.
            data = {k: v for k, v in form.service_data().items()
                    if not k.endswith("password") and k not in ("smtp_same_credentials", "smtp_username")}
        elif form is not None:
            data = {}
        else:
            data = {"address": own.address}
        url, _state, _flow = oauth_start(request=request, actor=user, owner=user, provider_id=provider, data=data,
                                         via_api=False)
    except Exception as exc:
        error = as_product_error(exc)
        if error is None:
            raise
        if isinstance(error, SettingsLocked) or form is None:
            return render_error(request, error, back_url=reverse("email-settings"))
        form_add_product_error(form, error, summary=True)
        context = {"nav": "email", "form": form, "detection": None, "saves_sent": form.provider_saves_sent(),
                   "holder": None, "detect_url": reverse("provider-detect"),
                   "oauth_offer": oauth_offer_for_address(request.POST.get("address"), user.organization_id)}
        return render(request, "diagnostics/email_new.html", context, status=error.status_code)
    return redirect(url)


@require_GET
@never_cache
def email_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the person back. Signed in or not (a sign-in started through the API may end in
    any browser): the flow named by `state` says whose binding it is."""
    try:
        account, flow = oauth_complete(request=request, state=request.GET.get("state"),
                                       code=request.GET.get("code"), error=request.GET.get("error"))
    except Exception as exc:
        error = as_product_error(exc)
        if error is None:
            raise
        return render(request, "diagnostics/oauth_result.html",
                      {"nav": "email", "error": error, "back_url": reverse("email-settings")},
                      status=error.status_code)
    message = _("Your mailbox %(address)s is connected with %(provider)s. It is being checked now.") % {
        "address": account.address, "provider": provider_display_name(account.oauth_credential.provider)}
    run = None
    try:
        run, _created = services.diagnostic_run_start(actor=flow.actor, account_id=account.pk)
    except MailbindError as error:
        message = f"{message} {error.message}"
    if request.user.is_authenticated and request.user.pk == flow.actor_id:
        messages.success(request, message)
        return redirect("email-run", pk=run.pk) if run is not None else redirect("email-settings")
    return render(request, "diagnostics/oauth_result.html", {"nav": "email", "connected": message})
