"""The user admin writes through accounts.services: audited, organization required, refusals as messages."""
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from tests.helpers import PERSONA_PASSWORD, signed_in

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough new password 42"
ADD = reverse("admin:accounts_user_add")


def test_a_role_change_in_the_admin_is_audited_with_the_field_name(admin_a, user_s):
    url = reverse("admin:accounts_user_change", args=[user_s.pk])
    data = {"email": user_s.email, "full_name": user_s.full_name, "role": "admin", "is_active": "on"}
    response = signed_in(admin_a).post(url, data)
    assert response.status_code == 302
    assert User.objects.get(pk=user_s.pk).role == "admin"
    event = AuditEvent.objects.get(action="user.updated")
    assert event.actor == admin_a and event.details == {"fields": ["role"]}


def test_setting_a_password_in_the_admin_goes_through_the_service(admin_a, user_s):
    url = reverse("admin:auth_user_password_change", args=[user_s.pk])
    response = signed_in(admin_a).post(
        url, {"password1": PASSWORD, "password2": PASSWORD, "usable_password": "true", "set-password": "1"}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user_s.pk).check_password(PASSWORD)
    event = AuditEvent.objects.get(action="user.password_set")
    assert event.actor == admin_a and PASSWORD not in str(event.details)


def test_a_mismatched_password_is_a_form_error_and_writes_nothing(admin_a, user_s):
    url = reverse("admin:auth_user_password_change", args=[user_s.pk])
    response = signed_in(admin_a).post(url, {"password1": PASSWORD, "password2": "other", "set-password": "1"})
    assert response.status_code == 200
    assert User.objects.get(pk=user_s.pk).check_password(PERSONA_PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password_set").exists()


def test_an_admin_changing_their_own_password_stays_signed_in(admin_a):
    client = signed_in(admin_a)
    url = reverse("admin:auth_user_password_change", args=[admin_a.pk])
    client.post(url, {"password1": PASSWORD, "password2": PASSWORD, "usable_password": "true", "set-password": "1"})
    assert client.get(reverse("admin:index")).status_code == 200


def test_an_operator_adding_a_user_without_an_organization_gets_a_form_error_not_a_500(operator):
    data = {"email": "lost@acme.test", "full_name": "", "role": "standard", "language": "", "password": PASSWORD}
    response = signed_in(operator).post(ADD, data)
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="lost@acme.test").exists()


def test_an_operator_adds_a_user_to_an_organization_through_the_service(operator, org2):
    data = {"email": "New@Globex.test", "full_name": "New", "organization": org2.pk, "role": "admin",
            "language": "ja", "password": PASSWORD}
    response = signed_in(operator).post(ADD, data)
    assert response.status_code == 302
    user = User.objects.get(email="new@globex.test")
    assert (user.organization, user.role, user.language) == (org2, "admin", "ja") and user.check_password(PASSWORD)
    assert AuditEvent.objects.get(action="user.created").actor == operator


def test_an_email_taken_in_another_case_is_a_sentence_not_a_constraint_name(admin_a, user_s):
    url = reverse("admin:accounts_user_change", args=[user_s.pk])
    data = {"email": "Admin.A@acme.test", "full_name": "", "role": "standard", "is_active": "on"}
    response = signed_in(admin_a).post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "A user with this email already exists." in html and "user_email_unique_ci" not in html
    assert User.objects.get(pk=user_s.pk).email == "user.s@acme.test"


def test_a_taken_organization_name_reveals_neither_the_constraint_nor_the_other_tenant(operator, org1):
    response = signed_in(operator).post(reverse("admin:accounts_organization_add"), {"name": "ACME"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This name can&#x27;t be used. Choose another." in html
    assert "organization_name_unique_ci" not in html and "already exists" not in html


def test_the_views_taking_a_password_hide_the_post_from_error_reports(admin_a, user_s):
    client = signed_in(admin_a)
    for url in (ADD, reverse("admin:auth_user_password_change", args=[user_s.pk])):
        response = client.post(url, {"password": "x", "password1": "x", "password2": "y"})
        assert response.wsgi_request.sensitive_post_parameters == "__ALL__", url


# --- signing in at /admin/login/ is throttled like the API and the pages -----------------------------------------

ADMIN_LOGIN = reverse("admin:login")
RIGHT = "correct horse battery"  # the personas' password (tests/conftest.py)
THROTTLED = "Too many failed sign-ins. Wait a few minutes before trying again."


def admin_sign_in(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def test_thirty_wrong_passwords_at_the_admin_then_the_right_one_does_not_sign_in(admin_a):
    client = Client()
    for _ in range(30):
        admin_sign_in(client, admin_a.email, "wrong guess")
    response = admin_sign_in(client, admin_a.email, RIGHT)
    assert response.status_code == 200  # the form again, not the redirect into the admin
    assert "_auth_user_id" not in client.session
    assert THROTTLED in response.content.decode()
    assert client.get("/api/v1/me/").status_code in (401, 403)  # no session for the API either


def test_the_admin_shares_the_apis_and_the_pages_throttle(admin_a, api, settings):
    for _ in range(settings.SIGNIN_FAILURES_PER_EMAIL):
        admin_sign_in(Client(), admin_a.email, "wrong guess")
    token = api.post("/api/v1/auth/token/", {"email": admin_a.email, "password": RIGHT}, format="json")
    assert token.status_code == 429 and token.json()["error"]["message"] == THROTTLED
    page = Client().post(reverse("login"), {"email": admin_a.email, "password": RIGHT})
    assert page.status_code == 429


def test_the_admin_still_signs_in_staff_with_the_right_password_and_refuses_standard_users(admin_a, user_s):
    client = Client()
    response = admin_sign_in(client, admin_a.email, RIGHT)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(admin_a.pk)
    refused = admin_sign_in(Client(), user_s.email, RIGHT)
    assert refused.status_code == 200 and "staff account" in refused.content.decode()
