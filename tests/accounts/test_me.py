import pytest

pytestmark = pytest.mark.django_db


def test_a_standard_user_sees_their_own_identity_and_organization(api_as, user_s, org1):
    body = api_as(user_s).get("/api/v1/me/").json()
    assert body["id"] == user_s.pk
    assert body["email"] == "user.s@acme.test"
    assert body["role"] == "standard"
    assert body["organization"] == {"id": org1.pk, "name": "Acme"}
    assert body["mail_settings_locked"] is False


@pytest.mark.parametrize("persona,role,org_name", [
    ("admin_a", "admin", "Acme"), ("admin_b", "admin", "Acme"), ("admin_x", "admin", "Globex"),
])
def test_each_admin_sees_only_their_own_organization(request, api_as, persona, role, org_name):
    user = request.getfixturevalue(persona)
    body = api_as(user).get("/api/v1/me/").json()
    assert (body["email"], body["role"], body["organization"]["name"]) == (user.email, role, org_name)


def test_an_operator_has_no_organization(api_as, operator):
    body = api_as(operator).get("/api/v1/me/").json()
    assert body["organization"] is None
    assert body["is_operator"] is True
