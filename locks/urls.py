from django.urls import path

from locks import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("users/<int:user_id>/settings-lock/", api.SettingsLockView.as_view(), name="user-settings-lock"),
]
