import pytest

from accounts.models import ApiToken, AuditEvent
from accounts.tokens import token_hash
from tests.helpers import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db

PASSWORD = PERSONA_PASSWORD


def issue(api, email, password=PASSWORD, **extra):
    return api.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json", **extra)


def test_a_user_gets_a_token_that_authenticates_later_requests(api, user_s):
    response = issue(api, "USER.S@acme.test")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "user.s@acme.test"


def test_the_stored_token_is_only_its_hash(api, user_s):
    token = issue(api, user_s.email).json()["token"]
    stored = ApiToken.objects.get(user=user_s)
    assert stored.key_hash == token_hash(token)
    assert token not in stored.key_hash
    assert stored.prefix == token[:8]


def test_a_revoked_token_gets_401_in_the_error_shape(api, user_s):
    token = issue(api, user_s.email).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.delete("/api/v1/auth/token/").status_code == 204
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert AuditEvent.objects.filter(action="token.revoked", actor=user_s).exists()


def test_an_unknown_token_gets_401(api, user_s):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message"}


def test_no_credentials_gets_401_not_authenticated(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_wrong_password_gets_a_sentence_that_does_not_say_which_part_was_wrong(api, user_s):
    wrong = issue(api, user_s.email, "nope")
    unknown = issue(api, "nobody@acme.test", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_a_missing_field_is_a_400_invalid_with_the_field_named(api):
    response = api.post("/api/v1/auth/token/", {"email": "a@b.test"}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "password" in body["fields"]


def test_repeated_failures_for_one_email_are_throttled_even_with_the_right_password(api, user_s, settings):
    settings.SIGNIN_FAILURES_PER_EMAIL = 3
    for _ in range(3):
        assert issue(api, user_s.email, "wrong").status_code == 401
    response = issue(api, user_s.email)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_repeated_failures_from_one_address_are_throttled_across_emails(api, user_s, settings):
    settings.SIGNIN_FAILURES_PER_ADDRESS = 4
    for n in range(4):
        issue(api, f"guess{n}@acme.test", "wrong", REMOTE_ADDR="203.0.113.9")
    assert issue(api, user_s.email, REMOTE_ADDR="203.0.113.9").status_code == 429
    # Another address is not punished for it.
    assert issue(api, user_s.email, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_deactivated_user_cannot_use_an_old_token(api, api_as, user_s):
    client = api_as(user_s)
    user_s.is_active = False
    user_s.save()
    assert client.get("/api/v1/me/").status_code == 401
