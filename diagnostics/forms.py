"""Forms of the self-service tools: they parse the browser's input; diagnostics.services decides."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PortCheckForm(forms.Form):
    host = forms.CharField(
        label=_("Server name"), max_length=253, help_text=_("For example imap.example.com"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    port = forms.IntegerField(
        label=_("Port"), min_value=1, max_value=65535,
        help_text=_("A mail port: 993, 143, 995, 110, 465, 587 or 25."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6}),
    )


class DomainDetailsForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain or email address"), max_length=254, help_text=_("For example example.com"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
