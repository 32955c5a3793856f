"""The organization's own OAuth clients in the Django admin (their Google Workspace project, their Entra app):
the client secret is written once, stored encrypted, and never shown again (an empty box keeps it)."""
from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OrganizationScopedAdmin
from accounts.services import audit_record
from mailsettings.models_oauth import OAuthClient

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$")


class OAuthClientForm(forms.ModelForm):
    client_secret = forms.CharField(
        label=_("client secret"), required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the stored secret."),
    )

    class Meta:
        model = OAuthClient
        fields = ["organization", "provider", "client_id", "client_secret", "tenant"]

    def clean_client_secret(self) -> str:
        secret = self.cleaned_data.get("client_secret", "")
        if not secret and not self.instance.pk:
            raise forms.ValidationError(_("Enter the client secret the provider gave you."))
        return secret

    def clean_tenant(self) -> str:
        tenant = (self.cleaned_data.get("tenant") or "").strip()
        if tenant and not _TENANT.match(tenant):
            # It becomes part of the sign-in URL: letters, digits, dots and hyphens only.
            raise forms.ValidationError(_("Enter the tenant ID or domain, for example contoso.onmicrosoft.com."))
        return tenant

    def clean(self):
        cleaned = super().clean()
        organization_id = getattr(cleaned.get("organization"), "pk", None) or self.instance.organization_id
        taken = OAuthClient.objects.filter(organization_id=organization_id, provider=cleaned.get("provider"))
        if organization_id and taken.exclude(pk=self.instance.pk).exists():
            self.add_error("provider", _("This organization already has a client for this provider: change that "
                                         "one instead."))
        return cleaned

    def save(self, commit: bool = True):
        secret = self.cleaned_data.get("client_secret")
        instance = super().save(commit=False)
        if not secret and instance.pk:
            instance.client_secret = OAuthClient.objects.get(pk=instance.pk).client_secret
        if commit:
            instance.save()
        return instance


class OAuthClientAdmin(OrganizationScopedAdmin):
    form = OAuthClientForm
    list_display = ["provider", "client_id", "tenant", "organization", "updated_at"]
    list_filter = ["provider"]
    org_admin_can_delete = True  # removing it falls back to the operator's client

    def get_fields(self, request, obj=None):
        fields = ["organization", "provider", "client_id", "client_secret", "tenant"]
        return fields if request.user.is_superuser else fields[1:]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            return form
        organization = request.user.organization

        class ForOrganization(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                if self.instance.organization_id is None:
                    self.instance.organization = organization

        return ForOrganization

    def save_model(self, request, obj: OAuthClient, form, change: bool) -> None:
        if not request.user.is_superuser:
            obj.organization = request.user.organization  # an admin registers clients for their own organization
        super().save_model(request, obj, form, change)
        audit_record(action="oauth_client.saved", actor=request.user, organization=obj.organization, target=obj,
                     details={"provider": obj.provider, "fields": sorted(form.changed_data)})
