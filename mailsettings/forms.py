"""Forms of the mail-settings page. They parse what a browser sends and hand it to mailsettings.services, which
holds every rule; a service's refusal comes back onto the form as sentences next to the fields
(config.form_errors.form_add_product_error). Password fields never echo a value back (render_value=False)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.errors import MailbindError
from config.form_errors import form_add_product_error
from locks.errors import SettingsLocked
from mailsettings import services
from mailsettings.discovery import Detection
from mailsettings.models import MailAccount
from mailsettings.providers import provider_for_domain
from mailsettings.vocabulary import INCOMING_PROTOCOL_CHOICES, Protocol, Security
from mailsettings.warnings import sent_copy_saver

_SECURITY_CHOICES = [
    (Security.SSL, Security.SSL.label), (Security.STARTTLS, Security.STARTTLS.label),
    (Security.NONE, _("None (not encrypted)")),  # on the form, "none" says what it means
]


def _text(label: Any, *, help_text: Any = "", autocomplete: str = "off", **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete, "spellcheck": "false", **attrs}),
    )


def _port(label: Any) -> forms.CharField:
    # Text with a numeric keyboard: the service says what is wrong with a port, in its own sentence.
    return forms.CharField(
        label=label, required=False, max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6}),
    )


def _password(label: Any, *, help_text: Any = "") -> forms.CharField:
    # The mail provider's password, not this site's: the browser must not offer or save it as mailbind's.
    return forms.CharField(
        label=label, required=False, strip=False, help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class MailAccountForm(forms.Form):
    """A new IMAP/POP3 + SMTP account, starting from the address."""

    address = forms.CharField(
        label=_("Email address"), required=False, max_length=254,
        help_text=_("The mail address to connect. Its provider's settings are filled in for you."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "required": True, "spellcheck": "false"}),
    )
    protocol = forms.ChoiceField(label=_("Incoming mail protocol"), choices=INCOMING_PROTOCOL_CHOICES,
                                 initial=Protocol.IMAP)
    incoming_host = _text(_("Incoming server"), help_text=_("For example imap.example.com"), required=True)
    incoming_port = _port(_("Port"))
    incoming_security = forms.ChoiceField(label=_("Security"), choices=_SECURITY_CHOICES, initial=Security.SSL)
    incoming_username = _text(
        _("Username"), help_text=_("Usually your full address. Leave empty to use the address."),
        autocomplete="username",
    )
    incoming_password = _password(
        _("Password"), help_text=_("If your provider uses two-step verification, enter an app password."),
    )
    smtp_host = _text(_("Outgoing (SMTP) server"), help_text=_("For example smtp.example.com"), required=True)
    smtp_port = _port(_("Port"))
    smtp_security = forms.ChoiceField(label=_("Security"), choices=_SECURITY_CHOICES, initial=Security.STARTTLS)
    smtp_same_credentials = forms.BooleanField(
        label=_("Use the same username and password for sending"), required=False, initial=True,
    )
    smtp_username = _text(_("Outgoing username"), autocomplete="off")
    smtp_password = _password(_("Outgoing password"))
    save_sent_on_server = forms.BooleanField(
        label=_("Save sent mail on the server"), required=False, initial=False,
        help_text=_("Puts a copy of each message you send into the Sent folder on the server."),
    )

    def service_data(self) -> dict[str, Any]:
        """What mailsettings.services expects: blank ports mean "the usual one", the SMTP login only when apart."""
        data = dict(self.cleaned_data)
        for name in ("incoming_port", "smtp_port"):
            data[name] = (data.get(name) or "").strip() or None
        if data.get("smtp_same_credentials"):
            data.pop("smtp_username", None)
            data.pop("smtp_password", None)
        return data

    def register(self, *, actor: User, owner: User) -> MailAccount | None:
        """Register through the service; None with the refusal on the form (address in use: docs/scenarios.md
        T6; validation). A lock propagates."""
        if not self.is_valid():
            return None
        try:
            return services.mail_account_register(actor=actor, owner=owner, data=self.service_data())
        except SettingsLocked:
            raise  # the lock's sentence replaces the form
        except MailbindError as error:
            form_add_product_error(self, error, summary=True)
            self.error = error
            return None

    error: MailbindError | None = None

    def provider_saves_sent(self, *, detection: Detection | None = None) -> bool:
        """Whether the provider files a copy of each sent mail itself (docs/scenarios.md T8), for the servers on the
        form as it is shown now: the detected provider (else our table's provider for the address's domain) and the SMTP
        host on the form. The page shows the duplicate warning from this on every render."""
        if detection is not None:
            domain_provider = detection.provider
        else:
            domain = str(self["address"].value() or "").rpartition("@")[2].strip().lower()
            domain_provider = provider_for_domain(domain)  # local knowledge: a re-render asks no network
        smtp_host = str(self["smtp_host"].value() or "").strip().lower()
        saver = sent_copy_saver(domain_provider=domain_provider, smtp_host=smtp_host)
        return bool(saver and saver.saves_sent_mail)

    @classmethod
    def from_detection(cls, *, data: Any, detection: Detection) -> MailAccountForm:
        """An unbound form keeping what the person typed (never a password). The detected servers fill only the
        host and port fields left empty, and a side's security only where its host was filled in here: pressing
        "Detect" never overwrites a server the person chose."""
        typed = ("address", "incoming_host", "incoming_port", "incoming_security", "incoming_username",
                 "smtp_host", "smtp_port", "smtp_security", "smtp_username")
        initial: dict[str, Any] = {name: data.get(name, "") for name in typed}
        initial["protocol"] = detection.incoming["protocol"]  # detection used the protocol the person chose
        for side, found in (("incoming", detection.incoming), ("smtp", detection.outgoing)):
            if not initial[f"{side}_host"].strip():
                initial[f"{side}_host"] = found["host"]
                initial[f"{side}_security"] = found["security"]
            if not initial[f"{side}_port"].strip():
                initial[f"{side}_port"] = str(found["port"])
            if not initial[f"{side}_security"]:
                del initial[f"{side}_security"]  # the field's own default
        # A login other than the address itself (IIJ's "local.domain"): fill it in, or the address would be used.
        username = str(detection.incoming.get("username", ""))
        if not initial["incoming_username"].strip() and username and "@" not in username:
            initial["incoming_username"] = username
        for name in ("smtp_same_credentials", "save_sent_on_server"):
            initial[name] = data.get(name) in ("on", "true", "1", True)
        return cls(initial=initial)


class PasswordChangeForm(forms.Form):
    """A new password for the incoming server, the outgoing one, or both (scenario T4 of docs/scenarios.md)."""

    apply_to = forms.ChoiceField(
        label=_("Where does the new password apply?"), required=False, widget=forms.RadioSelect,
        choices=[("both", _("Incoming and outgoing servers")), ("incoming", _("Incoming server only")),
                 ("outgoing", _("Outgoing server only"))],
        initial="both",
    )
    password = _password(_("New password"))

    def change(self, *, actor: User, account: MailAccount) -> MailAccount | None:
        """Change through the service; None with the refusal on the form. A lock is not the form's business: it
        propagates, and the page shows the lock's sentence instead of the form (docs/scenarios.md, T7/T9)."""
        if not self.is_valid():
            return None
        try:
            return services.mail_account_password_change(
                actor=actor, account=account, password=self.cleaned_data["password"],
                apply_to=self.cleaned_data["apply_to"] or None,
            )
        except SettingsLocked:
            raise
        except MailbindError as error:
            form_add_product_error(self, error, summary=True)
            return None
