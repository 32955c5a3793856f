import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_answers_404_in_the_error_shape(api_as, user_s):
    response = api_as(user_s).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_answers_the_error_shape_even_in_debug_mode(api, settings, debug):
    settings.DEBUG = debug
    for path in ("/api/v1/no-such-thing/", "/api/v2/", "/api/nothing", "/api/v1/mail-accounts/x/y/"):
        response = api.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", path
        assert response.json() == {"error": {"code": "not_found", "message": response.json()["error"]["message"]}}
        assert b"URLconf" not in response.content


def test_a_wrong_method_answers_in_the_error_shape(api_as, user_s):
    response = api_as(user_s).put("/api/v1/me/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_a_400_invalid(api):
    response = api.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_the_openapi_schema_and_docs_are_served_without_a_cdn(api_as, user_s, client):
    schema = api_as(user_s).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
