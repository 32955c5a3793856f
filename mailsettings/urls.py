from django.urls import path  # noqa: F401 - filled in by the mail-accounts and locks work

urlpatterns: list = [
    # mail accounts (issue 3)
    # users and their lock state (issue 4)
]
