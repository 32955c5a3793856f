import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organization, User

pytestmark = pytest.mark.django_db


def test_createorg_creates_the_organization_and_its_admin(capsys):
    call_command("createorg", "--name", "Initech", "--admin-email", "Boss@Initech.test", "--admin-password", "pw-12345")
    admin = User.objects.get(email="boss@initech.test")
    assert admin.role == "admin" and admin.organization.name == "Initech"
    assert admin.check_password("pw-12345")
    assert "Initech" in capsys.readouterr().out


def test_createorg_refuses_a_duplicate_name_with_exit_code_2_and_creates_nothing(org1):
    with pytest.raises(CommandError) as exc:
        call_command("createorg", "--name", "ACME", "--admin-email", "x@acme2.test", "--admin-password", "pw")
    assert exc.value.returncode == 2
    assert not User.objects.filter(email="x@acme2.test").exists()


def test_createorg_with_a_bad_email_creates_no_half_organization():
    with pytest.raises(CommandError) as exc:
        call_command("createorg", "--name", "Halfway", "--admin-email", "not-an-email", "--admin-password", "pw")
    assert exc.value.returncode == 2
    assert "valid email" in str(exc.value)
    assert not Organization.objects.filter(name="Halfway").exists()


def test_createorg_prompts_for_a_password_when_none_is_given(monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "typed-password")
    call_command("createorg", "--name", "Prompted", "--admin-email", "p@prompted.test")
    assert User.objects.get(email="p@prompted.test").check_password("typed-password")


def test_adduser_adds_a_standard_user(org1):
    call_command("adduser", "--org", "acme", "--email", "new@acme.test", "--role", "standard", "--password", "pw")
    assert User.objects.get(email="new@acme.test").organization == org1


def test_adduser_refuses_an_unknown_organization_with_exit_code_2():
    with pytest.raises(CommandError) as exc:
        call_command("adduser", "--org", "Nowhere", "--email", "a@b.test", "--role", "admin", "--password", "pw")
    assert exc.value.returncode == 2
    assert "no organization" in str(exc.value)


def test_adduser_refuses_an_email_already_taken(user_s):
    with pytest.raises(CommandError) as exc:
        call_command("adduser", "--org", "Acme", "--email", "USER.S@acme.test", "--role", "admin", "--password", "pw")
    assert exc.value.returncode == 2


def test_adduser_refuses_an_unknown_role(org1):
    with pytest.raises(CommandError):
        call_command("adduser", "--org", "Acme", "--email", "a@acme.test", "--role", "owner", "--password", "pw")
    assert not User.objects.filter(email="a@acme.test").exists()


def test_seed_demo_is_idempotent_and_prints_how_to_sign_in(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert Organization.objects.filter(name="Demo").count() == 1
    assert set(User.objects.filter(organization__name="Demo").values_list("email", "role")) == {
        ("admin@demo.test", "admin"), ("user@demo.test", "standard"),
    }
    out = capsys.readouterr().out
    assert "admin@demo.test" in out and "user@demo.test" in out
