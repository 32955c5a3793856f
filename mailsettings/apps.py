from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailSettingsConfig(AppConfig):
    name = "mailsettings"
    verbose_name = _("Mail settings")

    def ready(self) -> None:
        from accounts.audit_labels import audit_action_register

        audit_action_register({
            "mail_account.registered": _("Mail account added"),
            "mail_account.updated": _("Mail account settings changed"),
            "mail_account.password_changed": _("Mail account password changed"),
            "mail_account.disabled": _("Mail account turned off"),
            "mail_account.enabled": _("Mail account turned on"),
            "mail_account.oauth_started": _("OAuth2 sign-in started"),
            "mail_account.oauth_signed_in": _("Mail account signed in with OAuth2"),
            "mail_account.oauth_reauth_required": _("OAuth2 sign-in refused by the provider"),
            "oauth_client.saved": _("OAuth client saved"),
        })
        # OAuth2 tokens, organizations' client secrets and sign-ins in progress are rotated with the passwords.
        from mailsettings.models_oauth import OAuthClient, OAuthCredential, OAuthFlow
        from mailsettings.secrets import secret_column_rotate, secret_rotator_register

        def rotate_columns(model, *names):
            def rotate() -> dict[str, int]:
                totals = {"touched": 0, "current": 0, "changed": 0}
                for name in names:
                    for key, count in secret_column_rotate(model, name).items():
                        totals[key] += count
                return totals
            return rotate

        secret_rotator_register("OAuth token", rotate_columns(OAuthCredential, "access_token", "refresh_token"))
        secret_rotator_register("OAuth client secret", rotate_columns(OAuthClient, "client_secret"))
        secret_rotator_register("OAuth sign-in in progress", rotate_columns(OAuthFlow, "code_verifier"))
