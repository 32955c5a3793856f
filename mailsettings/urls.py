from django.urls import path

from mailsettings import api as mail_accounts_api
from mailsettings import api_users

urlpatterns: list = [
    # mail accounts
    path("mail-accounts/", mail_accounts_api.MailAccountListView.as_view(), name="mail-account-list"),
    path(
        "mail-accounts/<int:account_id>/",
        mail_accounts_api.MailAccountDetailView.as_view(),
        name="mail-account-detail",
    ),
    path(
        "mail-accounts/<int:account_id>/enable/",
        mail_accounts_api.MailAccountEnableView.as_view(),
        name="mail-account-enable",
    ),
    path(
        "mail-accounts/<int:account_id>/password/",
        mail_accounts_api.MailAccountPasswordView.as_view(),
        name="mail-account-password",
    ),
    path("address-availability/", mail_accounts_api.AddressAvailabilityView.as_view(), name="address-availability"),
    path("providers/detect/", mail_accounts_api.ProviderDetectView.as_view(), name="provider-detect"),
    # users and their lock state
    path("users/", api_users.UserListView.as_view(), name="user-list"),
]
