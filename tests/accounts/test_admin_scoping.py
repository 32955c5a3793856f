"""Organization admins use the Django admin for their own organization only; operators see everything."""
import pytest

from accounts.models import AuditEvent, User
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_an_organization_admin_can_open_the_admin(admin_a):
    assert signed_in(admin_a).get("/admin/").status_code == 200


def test_a_standard_user_is_sent_to_the_admin_sign_in(user_s):
    response = signed_in(user_s).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_user_list_shows_only_the_admins_organization(admin_a, user_s, admin_b, admin_x):
    page = signed_in(admin_a).get("/admin/accounts/user/").content.decode()
    assert "user.s@acme.test" in page and "admin.b@acme.test" in page
    assert "admin.x@globex.test" not in page


def test_another_organizations_user_is_not_found_by_id(admin_a, admin_x):
    client = signed_in(admin_a)
    response = client.get(f"/admin/accounts/user/{admin_x.pk}/change/")
    missing = client.get("/admin/accounts/user/999999/change/")
    # Django's admin redirects a missing object to the index with a message: another tenant's user looks the same.
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert (missing.status_code, missing["Location"]) == (302, "/admin/")
    followed = client.get(f"/admin/accounts/user/{admin_x.pk}/change/", follow=True)
    assert followed.status_code == 200
    page = followed.content.decode()
    assert "doesn’t exist" in page and "admin.x" not in page and "Globex" not in page


def test_another_organizations_user_cannot_be_changed_by_post(admin_a, admin_x):
    signed_in(admin_a).post(
        f"/admin/accounts/user/{admin_x.pk}/change/",
        {"email": "hijacked@globex.test", "role": "standard", "is_active": "on"},
    )
    admin_x.refresh_from_db()
    assert admin_x.email == "admin.x@globex.test"


def test_search_does_not_cross_organizations(admin_a, admin_x):
    page = signed_in(admin_a).get("/admin/accounts/user/?q=globex").content.decode()
    assert "admin.x@globex.test" not in page


def test_the_organization_list_holds_only_the_admins_own(admin_a, org2):
    page = signed_in(admin_a).get("/admin/accounts/organization/").content.decode()
    assert "Acme" in page and "Globex" not in page


def test_the_audit_trail_shows_only_the_admins_organization(admin_a, admin_x, org1, org2):
    AuditEvent.objects.create(organization=org1, action="test.acme", actor_email="a@acme.test")
    AuditEvent.objects.create(organization=org2, action="test.globex", actor_email="x@globex.test")
    page = signed_in(admin_a).get("/admin/accounts/auditevent/").content.decode()
    assert "test.acme" in page and "test.globex" not in page


def test_an_admin_adds_a_user_who_lands_in_the_admins_organization(admin_a, org1, org2):
    response = signed_in(admin_a).post(
        "/admin/accounts/user/add/",
        {"email": "new@acme.test", "full_name": "New", "organization": org2.pk, "role": "standard",
         "language": "", "password": "a long enough password"},
    )
    # The organization's choices are the admin's own: a forged org2 is refused by the form, nothing is created.
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="new@acme.test").exists()


def test_an_admin_adds_a_user_to_their_own_organization(admin_a, org1):
    response = signed_in(admin_a).post(
        "/admin/accounts/user/add/",
        {"email": "new@acme.test", "full_name": "New", "organization": org1.pk, "role": "standard",
         "language": "", "password": "a long enough password"},
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@acme.test").organization_id == org1.pk


def test_an_operator_sees_every_organization(operator, admin_a, admin_x):
    page = signed_in(operator).get("/admin/accounts/user/").content.decode()
    assert "admin.a@acme.test" in page and "admin.x@globex.test" in page


def test_audit_events_are_append_only(org1):
    event = AuditEvent.objects.create(organization=org1, action="x")
    event.action = "y"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


@pytest.mark.parametrize(
    ("app_label", "model_name", "field_name"),
    [("mailsettings", "mailaccount", "owner"), ("locks", "settingslock", "user"), ("accounts", "user", "organization")],
)
def test_autocomplete_stays_inside_the_admins_organization(
    admin_a, user_s, admin_x, operator, app_label, model_name, field_name
):
    client = signed_in(admin_a)
    params = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    response = client.get("/admin/autocomplete/", {**params, "term": ""})
    assert response.status_code == 200
    texts = [row["text"] for row in response.json()["results"]]
    assert texts  # the organization's own rows are offered
    assert not any("globex" in text.lower() for text in texts)
    searched = client.get("/admin/autocomplete/", {**params, "term": "globex"})
    assert searched.status_code == 200 and searched.json()["results"] == []
    # An operator sees both organizations through the same view: the query above could have found Globex.
    everyone = [row["text"] for row in signed_in(operator).get("/admin/autocomplete/", params).json()["results"]]
    assert any("globex" in text.lower() for text in everyone)
