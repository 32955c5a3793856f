"""The sign-in form. It only parses what a browser sends; accounts.services checks the password (throttled per
email and per client address) and its refusal is the form's one sentence. The helper that puts a product error
onto any form is config.form_errors.form_add_product_error."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts import services
from config.errors import MailbindError, Throttled


class SignInForm(forms.Form):
    """Email and password, checked by accounts.services.signin_authenticate (throttled, no enumeration)."""

    email = forms.CharField(
        label=_("Email"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}, render_value=False),
    )

    def __init__(self, request=None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user_cache = None
        self.throttled = False
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.user_cache = services.signin_authenticate(
                request=self.request, email=cleaned["email"], password=cleaned["password"],
                client_address=services.client_address(self.request),
            )
        except MailbindError as error:
            # One sentence for a wrong email and a wrong password alike: the form never tells which.
            self.throttled = isinstance(error, Throttled)
            raise forms.ValidationError(str(error.message), code=error.code) from None
        return cleaned

    def get_user(self):
        return self.user_cache


class AdminSignInForm(AdminAuthenticationForm):
    """The Django admin's sign-in (its session also works for the API): the same throttled check as the API's and
    the pages', with the same cache keys and sentences, so a throttled email or address is refused even the right
    password here too. Django's own staff check follows a successful sign-in."""

    def clean(self) -> dict[str, Any]:
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = services.signin_authenticate(
                    request=self.request, email=email, password=password,
                    client_address=services.client_address(self.request),
                )
            except MailbindError as error:
                raise forms.ValidationError(str(error.message), code=error.code) from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
