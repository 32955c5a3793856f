"""Forms of the self-service tools: they parse the browser's input; diagnostics.services decides."""
from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from diagnostics.walk import allowed_ports


def _port_list(ports: list[int]) -> str:
    """1, 2, 3, 7 -> "1–3, 7": settings may allow long ranges of ports beyond the mail ports."""
    spans: list[list[int]] = []
    for port in ports:
        if spans and port == spans[-1][1] + 1:
            spans[-1][1] = port
        else:
            spans.append([port, port])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def port_help_text() -> str:
    """The ports the tool may check now (allowed_ports() reads settings at each call), in the active language."""
    return gettext("A mail port: %(ports)s.") % {"ports": _port_list(sorted(allowed_ports()))}


class PortCheckForm(forms.Form):
    host = forms.CharField(
        label=_("Server name"), max_length=253, help_text=_("For example imap.example.com"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    port = forms.IntegerField(
        label=_("Port"), min_value=1, max_value=65535,
        help_text=lazy(port_help_text, str)(),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6}),
    )


class DomainDetailsForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain or email address"), max_length=254, help_text=_("For example example.com"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
