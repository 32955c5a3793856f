"""Hostile requests answer 4xx in the error shape, never 500: oversized bodies, too many fields, JSON nested deep,
and NUL characters in any query parameter or text field. The suite runs on SQLite and again on PostgreSQL (CI's
second pass), which is the database that refuses NUL in text."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN_API = "/api/v1/auth/token/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def unraising(client):
    client.raise_request_exception = False  # a 500 must show as a 500 here, not as the test's own exception
    return client


# --- bodies over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 ------------------------------------------------------------------

def test_a_json_body_over_the_upload_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"email": "a@b.test", "password": "x" * 20_000})
    assert_error(unraising(api).post(LOGIN_API, body, content_type="application/json"), 413, "payload_too_large")


def test_a_json_body_over_the_limit_without_a_length_is_413_too(api_as, user_s, settings):
    import io

    from config.errors import PayloadTooLarge
    from config.parsers import GuardedJSONParser

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    with pytest.raises(PayloadTooLarge):  # a chunked body: no Content-Length for the middleware to read
        GuardedJSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'))


def test_a_form_body_over_the_upload_limit_is_413_for_the_api_and_the_pages(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    form = "email=" + "x" * 20_000
    kind = "application/x-www-form-urlencoded"
    assert_error(unraising(api).post(LOGIN_API, form, content_type=kind), 413, "payload_too_large")
    page = unraising(Client()).post(reverse("login"), form, content_type=kind)
    assert page.status_code == 413 and "too large" in page.content.decode()


def test_a_patch_form_body_over_the_limit_is_413(api_as, user_s, settings):
    from tests.factories import account_create

    account = account_create(user_s)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = unraising(api_as(user_s))
    response = client.patch(f"/api/v1/mail-accounts/{account.pk}/", "save_sent_on_server=" + "x" * 20_000,
                            content_type="application/x-www-form-urlencoded")
    assert_error(response, 413, "payload_too_large")


# --- more than DATA_UPLOAD_MAX_NUMBER_FIELDS form fields: 400 invalid -----------------------------------------------

def many_fields(settings) -> str:
    return "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))


def test_too_many_form_fields_are_400_invalid_for_the_api_and_the_pages(api, api_as, user_s, settings):
    kind = "application/x-www-form-urlencoded"
    assert_error(unraising(api).post(LOGIN_API, many_fields(settings), content_type=kind), 400, "invalid")
    assert_error(unraising(api).get(f"{LOGIN_API}?{many_fields(settings)}"), 400, "invalid")
    page = unraising(Client()).post(reverse("login"), many_fields(settings), content_type=kind)
    assert page.status_code == 400 and "more fields" in page.content.decode()
    from tests.factories import account_create

    account = account_create(user_s)
    patched = unraising(api_as(user_s)).patch(f"/api/v1/mail-accounts/{account.pk}/", many_fields(settings),
                                              content_type=kind)
    assert_error(patched, 400, "invalid")


# --- JSON nested 50,000 deep: 400 invalid ---------------------------------------------------------------------------

@pytest.mark.parametrize("nested", ["[" * 50_000 + "]" * 50_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_json_nested_fifty_thousand_deep_is_400_invalid(api, api_as, user_s, nested):
    assert_error(unraising(api).post(LOGIN_API, nested, content_type="application/json"), 400, "invalid")
    response = unraising(api_as(user_s)).post("/api/v1/tools/port-check/", nested, content_type="application/json")
    assert_error(response, 400, "invalid")


# --- NUL in any query parameter or text field: 400 invalid ------------------------------------------------------------

def query_parameters() -> list[tuple[str, str]]:
    """Every (path, query parameter) the API's schema documents: each is tried with a NUL in it."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and method == "get":
                    found.append((path, parameter["name"]))
    return found


def test_the_schema_documents_the_filters_this_file_tries():
    pairs = query_parameters()
    assert ("/api/v1/audit-events/", "action") in pairs and ("/api/v1/users/", "locked") in pairs
    assert ("/api/v1/mail-accounts/", "address") in pairs and len(pairs) >= 15


@pytest.mark.parametrize(("path", "name"), query_parameters())
def test_a_nul_in_any_query_parameter_is_400_invalid(api_as, admin_a, path, name):
    client = unraising(api_as(admin_a))
    url = path.replace("{account_id}", "1").replace("{id}", "1").replace("{user_id}", "1")
    error = assert_error(client.get(url, {name: "a\x00b"}), 400, "invalid")
    assert name in error["fields"]


def test_the_reported_audit_filter_with_a_nul_is_400(api_as, admin_a):
    assert_error(unraising(api_as(admin_a)).get("/api/v1/audit-events/?action=%00"), 400, "invalid")


@pytest.mark.parametrize("url", ["/admin/accounts/auditevent/?action__exact=%00", "/admin/accounts/auditevent/?q=%00",
                                 "/admin/mailsettings/mailaccount/?q=a%00"])
def test_a_nul_in_the_admins_filters_is_400(admin_a, url):
    client = unraising(Client())
    client.force_login(admin_a)
    assert client.get(url).status_code == 400


@pytest.mark.parametrize(("url", "body"), [
    (LOGIN_API, {"email": "a\x00@b.test", "password": "x"}),
    ("/api/v1/tools/domain-details/", {"domain": "example\x00.com"}),
    ("/api/v1/mail-accounts/", {"address": "a@example.com", "incoming_host": "imap\x00.example.com"}),
    ("/api/v1/mail-accounts/", {"unknown": {"deep": ["x\x00"]}}),
    ("/api/v1/mail-accounts/", {"key\x00": "x"}),
])
def test_a_nul_in_any_json_text_is_400_invalid(api_as, user_s, url, body):
    assert_error(unraising(api_as(user_s)).post(url, body, format="json"), 400, "invalid")


def test_a_nul_in_a_page_form_field_is_400(user_s):
    response = unraising(Client()).post(reverse("login"), {"email": "a\x00@b.test", "password": "x"})
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_a_nul_in_a_lock_reason_is_400(api_as, admin_a, user_s):
    response = unraising(api_as(admin_a)).post(f"/api/v1/users/{user_s.pk}/settings-lock/", {"reason": "x\x00"},
                                                format="json")
    assert_error(response, 400, "invalid")
