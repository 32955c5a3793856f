"""Sign-in, sign-out and language pages, through the Django test client."""
import pytest
from django.conf import settings

from tests.factories import account_make
from tests.helpers import PERSONA_PASSWORD, SENTINEL, PageClient, signed_in

pytestmark = pytest.mark.django_db
PASSWORD = PERSONA_PASSWORD


@pytest.fixture
def browser():
    client = PageClient(enforce_csrf_checks=True)
    yield client
    client.assert_never_echoed()


def _csrf(client, path="/accounts/login/"):
    client.get(path)
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def test_the_sign_in_page_has_labelled_fields_and_a_csrf_token(browser):
    response = browser.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'for="id_email"' in html and 'for="id_password"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'lang="en"' in html


def test_a_right_password_signs_in_and_lands_on_the_email_settings(browser, user_s):
    token = _csrf(browser)
    response = browser.post("/accounts/login/", {"email": "USER.S@acme.test", "password": PASSWORD,
                                                 "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/settings/email/"
    assert browser.get("/settings/email/").status_code == 200


def test_a_post_without_csrf_token_is_refused(browser, user_s):
    browser.get("/accounts/login/")
    response = browser.post("/accounts/login/", {"email": user_s.email, "password": PASSWORD})
    assert response.status_code == 403


def test_a_wrong_password_and_an_unknown_email_read_the_same_sentence(browser, user_s):
    token = _csrf(browser)
    wrong = browser.post("/accounts/login/", {"email": user_s.email, "password": SENTINEL,
                                              "csrfmiddlewaretoken": token})
    unknown = browser.post("/accounts/login/", {"email": "nobody@acme.test", "password": SENTINEL,
                                                "csrfmiddlewaretoken": token})
    assert wrong.status_code == unknown.status_code == 200
    sentence = "The email or password is not right."
    assert sentence in wrong.content.decode() and sentence in unknown.content.decode()
    assert "nobody@acme.test" in unknown.content.decode()  # the email is kept, the password never


def test_repeated_failures_are_throttled_with_a_sentence_and_429(browser, user_s, settings):
    settings.SIGNIN_FAILURES_PER_EMAIL = 2
    token = _csrf(browser)
    for _ in range(2):
        browser.post("/accounts/login/", {"email": user_s.email, "password": SENTINEL, "csrfmiddlewaretoken": token})
    response = browser.post("/accounts/login/", {"email": user_s.email, "password": PASSWORD,
                                                 "csrfmiddlewaretoken": token})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_sign_out_is_a_post_and_ends_the_session(browser, user_s):
    browser.force_login(user_s)
    token = _csrf(browser, "/settings/email/")
    assert browser.get("/accounts/logout/").status_code == 405
    response = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert browser.get("/settings/email/")["Location"].startswith("/accounts/login/?next=")


def test_the_pages_need_a_signed_in_user(browser):
    for path in ("/settings/email/", "/tools/port-check/", "/tools/domain-details/", "/settings/email/runs/1/"):
        response = browser.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_language_switcher_saves_the_choice_and_the_pages_follow_it(browser, user_s):
    browser.force_login(user_s)
    token = _csrf(browser, "/settings/email/")
    response = browser.post("/accounts/language/", {"language": "ja", "next": "/tools/port-check/",
                                                    "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/tools/port-check/"
    user_s.refresh_from_db()
    assert user_s.language == "ja"
    assert 'lang="ja"' in browser.get("/tools/port-check/").content.decode()


def test_the_browser_language_is_used_before_any_choice(browser, user_s):
    html = browser.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'lang="ja"' in html


def test_an_unknown_page_is_a_page_not_a_trace(browser, user_s):
    browser.force_login(user_s)
    response = browser.get("/settings/nothing-here/")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode() and "Not found" in response.content.decode()


@pytest.mark.parametrize("next_url", ["/accounts/login/", "/accounts/login/?next=/accounts/login/"])
def test_a_signed_in_user_sent_to_the_sign_in_page_lands_on_the_email_settings(browser, user_s, next_url):
    browser.force_login(user_s)
    response = browser.get("/accounts/login/", {"next": next_url})
    assert response.status_code == 302 and response["Location"] == "/settings/email/"


def test_a_signed_in_user_follows_a_safe_next(browser, user_s):
    browser.force_login(user_s)
    response = browser.get("/accounts/login/", {"next": "/tools/port-check/"})
    assert response.status_code == 302 and response["Location"] == "/tools/port-check/"


def _fail_sign_in(client, token, email, forwarded):
    return client.post("/accounts/login/", {"email": email, "password": SENTINEL, "csrfmiddlewaretoken": token},
                       HTTP_X_FORWARDED_FOR=forwarded)


def trust_proxies(settings, count: int) -> None:
    """What TRUSTED_PROXY_COUNT sets at start-up: DRF's NUM_PROXIES (DRF reloads its settings on the change)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_address_throttle(browser, settings):
    trust_proxies(settings, 0)
    settings.SIGNIN_FAILURES_PER_ADDRESS = 2
    token = _csrf(browser)
    _fail_sign_in(browser, token, "a@acme.test", "198.51.100.1")
    _fail_sign_in(browser, token, "b@acme.test", "198.51.100.2")
    assert _fail_sign_in(browser, token, "c@acme.test", "198.51.100.3").status_code == 429


def test_behind_one_trusted_proxy_each_client_address_is_throttled_on_its_own(browser, settings):
    trust_proxies(settings, 1)
    settings.SIGNIN_FAILURES_PER_ADDRESS = 2
    token = _csrf(browser)
    # The proxy appends what it saw; the client may put anything before it.
    _fail_sign_in(browser, token, "a@acme.test", "10.9.9.9, 198.51.100.1")
    _fail_sign_in(browser, token, "b@acme.test", "10.8.8.8, 198.51.100.1")
    assert _fail_sign_in(browser, token, "c@acme.test", "198.51.100.1").status_code == 429
    assert _fail_sign_in(browser, token, "d@acme.test", "198.51.100.2").status_code == 200


@pytest.mark.parametrize(("count", "forwarded", "expected"), [
    (0, "198.51.100.1", "127.0.0.9"),
    (1, "", "127.0.0.9"),
    (1, "203.0.113.7, 198.51.100.1", "198.51.100.1"),
    (2, "203.0.113.7, 198.51.100.1", "203.0.113.7"),
    (3, "203.0.113.7, 198.51.100.1", "203.0.113.7"),  # fewer addresses than proxies: the leftmost
])
def test_the_client_address_counts_trusted_proxies_from_the_right(settings, rf, count, forwarded, expected):
    from accounts.services import client_address

    trust_proxies(settings, count)
    request = rf.get("/", REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_the_apis_throttles_trust_the_same_number_of_proxies():
    from rest_framework.settings import api_settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT == api_settings.NUM_PROXIES == 0


PAGE_POSTS = ["/accounts/login/", "/accounts/logout/", "/accounts/language/", "/settings/email/",
              "/settings/email/test/", "/settings/email/password/", "/settings/email/turn-off/",
              "/tools/port-check/", "/tools/domain-details/"]


@pytest.mark.parametrize("path", PAGE_POSTS)
def test_every_page_post_without_its_form_token_is_refused_with_a_sentence(user_s, path):
    from diagnostics.models import DiagnosticRun
    from mailsettings.models import MailAccount

    account = account_make(user_s, "s@acme.test", incoming_password="x")
    client = signed_in(user_s, client_class=PageClient, enforce_csrf_checks=True)
    data = {"email": user_s.email, "password": SENTINEL, "language": "ja", "apply_to": "both", "host": "localhost",
            "port": "993", "domain": "acme.test", "address": "t@acme.test", "save": "1"}
    response = client.post(path, data, HTTP_REFERER="http://testserver/settings/email/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "The form expired. Reload the page and try again." in html and "CSRF" not in html
    assert 'href="http://testserver/settings/email/"' in html  # back to the page the form was on
    account.refresh_from_db()
    user_s.refresh_from_db()
    assert account.is_active and account.incoming_password == "x" and user_s.language != "ja"
    assert not DiagnosticRun.objects.exists() and MailAccount.objects.count() == 1
    assert "_auth_user_id" in client.session  # still signed in
    client.assert_never_echoed()


def test_a_refused_form_token_never_links_back_to_another_site(browser):
    response = browser.post("/accounts/login/", {"email": "a@acme.test"}, HTTP_REFERER="https://evil.example/")
    assert response.status_code == 403 and b"evil.example" not in response.content


def test_the_error_page_of_a_bug_speaks_the_readers_language():
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("ja"):
        html = render_to_string("500.html")
    assert '<html lang="ja">' in html and "Something went wrong" not in html


def test_the_site_root_leads_to_the_email_settings_and_the_favicon_is_bundled(browser):
    assert browser.get("/")["Location"] == "/settings/email/"
    icon = browser.get("/favicon.ico")
    assert icon.status_code == 302 and icon["Location"] == "/static/mailbind/favicon.ico"
    assert browser.get(icon["Location"]).status_code == 200
    assert 'rel="icon" href="/static/mailbind/favicon.svg"' in browser.get("/accounts/login/").content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/settings/", "http:/\\evil.example"])
def test_sign_in_never_sends_anyone_to_another_site(browser, user_s, target):
    token = _csrf(browser)
    response = browser.post("/accounts/login/", {"email": user_s.email, "password": PASSWORD, "next": target,
                                                 "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/settings/email/"
    assert browser.get("/accounts/login/", {"next": target})["Location"] == "/settings/email/"  # signed in now


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/settings/"])
def test_the_language_switcher_never_sends_anyone_to_another_site(browser, user_s, target):
    browser.force_login(user_s)
    token = _csrf(browser, "/settings/email/")
    response = browser.post("/accounts/language/", {"language": "ja", "next": target, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
