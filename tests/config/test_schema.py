"""What the OpenAPI schema says, point by point (the fuzzer in test_schema_fuzz.py holds it to the answers)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_every_list_is_documented_as_the_page_it_answers(schema):
    lists = [(path, op) for path, method, op in operations(schema)
             if method == "get" and any(p["name"] == "page" for p in op.get("parameters", []))]
    assert {path for path, _ in lists} == {"/api/v1/mail-accounts/", "/api/v1/audit-events/", "/api/v1/users/",
                                           "/api/v1/mail-accounts/{id}/diagnostics/"}
    for path, op in lists:
        body = resolve(schema, op["responses"]["200"]["content"]["application/json"]["schema"])
        assert body["type"] == "object" and {"count", "next", "previous", "results"} <= set(body["properties"]), path
        assert body["properties"]["results"]["type"] == "array", path


def test_a_runs_account_is_nullable_as_a_tool_run_has_none(schema):
    run = schema["components"]["schemas"]["RunOutput"]
    assert run["properties"]["account"].get("nullable") is True


def test_every_operation_documents_its_errors_with_the_one_error_body(schema):
    for path, method, op in operations(schema):
        errors = {code: response for code, response in op["responses"].items() if code >= "400"}
        assert errors, (method, path)
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                method, path, code)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["properties"]["error"]["required"] == ["code", "message"]


@pytest.mark.parametrize(("method", "path", "codes"), [
    ("post", "/api/v1/auth/token/", {"400", "401", "413", "429"}),
    ("get", "/api/v1/me/", {"401"}),
    ("post", "/api/v1/mail-accounts/", {"400", "401", "403", "404", "409", "413"}),
    ("patch", "/api/v1/mail-accounts/{account_id}/", {"400", "401", "403", "404", "409", "413"}),
    ("post", "/api/v1/mail-accounts/{id}/diagnostics/", {"401", "403", "404", "409", "429", "503"}),
    ("post", "/api/v1/tools/port-check/", {"400", "401", "403", "413", "429", "503"}),
    ("get", "/api/v1/users/", {"400", "401", "403", "404"}),
    ("post", "/api/v1/users/{user_id}/settings-lock/", {"400", "401", "403", "404", "409", "413"}),
])
def test_the_error_statuses_are_the_ones_that_occur(schema, method, path, codes):
    documented = {code for code in schema["paths"][path][method]["responses"] if code >= "400"}
    assert documented == codes


def test_turning_an_account_off_is_documented_as_the_200_with_the_account_it_answers(schema):
    responses = schema["paths"]["/api/v1/mail-accounts/{account_id}/"]["delete"]["responses"]
    assert "200" in responses and "204" not in responses


def test_the_audit_actor_filter_is_an_integer(schema):
    [actor] = [p for p in schema["paths"]["/api/v1/audit-events/"]["get"]["parameters"] if p["name"] == "actor"]
    assert actor["schema"]["type"] == "integer"


def test_every_required_request_string_has_a_minimum_length(schema):
    checked = 0
    for name, component in schema["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        for field in component.get("required", []):
            prop = component["properties"][field]
            if prop.get("type") == "string":
                assert prop.get("minLength", 0) >= 1, (name, field)
                checked += 1
    assert checked >= 5  # email, password, host, domain, password of the change


def test_an_unknown_yes_no_filter_value_is_400_not_ignored(api_as, admin_a):
    response = api_as(admin_a).get("/api/v1/users/", {"locked": "maybe"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "locked" in response.json()["error"]["fields"]
    assert api_as(admin_a).get("/api/v1/users/", {"locked": "false"}).status_code == 200
    assert api_as(admin_a).get("/api/v1/users/", {"has_mail_account": "TRUE"}).status_code == 200
