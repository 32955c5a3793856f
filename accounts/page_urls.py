"""Pages of the accounts app (mounted at the site root by config/urls.py)."""
from django.urls import path
from django.views.generic import RedirectView

from accounts import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="email-settings", permanent=False), name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/language/", views.language_view, name="set-language"),
]
