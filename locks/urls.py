from django.urls import path

from locks import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
]
