"""OAuth2 sign-in failures judged from the server's JSON (status, schemes, scope), not from words."""
from __future__ import annotations

import base64
import json

from diagnostics.classify import classify_imap_login, classify_pop3_login, classify_smtp_auth
from diagnostics.classify_oauth import classify_oauth_failure, decode_challenge, oauth_verdict
from diagnostics.probes.xoauth2 import oauthbearer_blob, xoauth2_blob
from diagnostics.redact import secret_forms
from diagnostics.results import Code

GOOGLE_SCOPES = ["openid", "email", "https://mail.google.com/"]


def _b64(value: dict) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_it_reads_dovecots_and_gmails_challenges():
    # Dovecot 2.3, seen on the wire (recipe OAUTH2.md)
    assert decode_challenge("eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=") == {
        "status": "401", "schemes": "bearer", "scope": "mail"}
    assert decode_challenge("eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=") == {"status": "invalid_token"}
    gmail = _b64({"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"})
    assert decode_challenge(" " + gmail) == {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}
    assert decode_challenge("") == {} and decode_challenge("not base64 !!") == {} and decode_challenge("WzFd") == {}


def test_a_refused_token_with_the_scope_granted_is_invalid_and_without_it_scope_missing():
    challenge = {"status": "401", "schemes": "bearer mac", "scope": "https://mail.google.com/"}
    assert classify_oauth_failure(challenge, granted_scopes=GOOGLE_SCOPES).code == Code.OAUTH_TOKEN_INVALID
    assert classify_oauth_failure(challenge, granted_scopes=["openid", "email"]).code == Code.OAUTH_SCOPE_MISSING
    assert classify_oauth_failure({"status": "403"}, granted_scopes=GOOGLE_SCOPES).code == Code.OAUTH_SCOPE_MISSING
    assert classify_oauth_failure({}, granted_scopes=GOOGLE_SCOPES).code == Code.OAUTH_TOKEN_INVALID


def test_a_refusal_after_a_token_is_never_wrong_password_and_transient_answers_stay_transient():
    dovecot_no = classify_imap_login("a1 NO [AUTHENTICATIONFAILED] Authentication failed.")
    assert oauth_verdict(dovecot_no, {"status": "401"}, granted_scopes=["mail"]).code == Code.OAUTH_TOKEN_INVALID
    microsoft_no = classify_imap_login("a1 NO AUTHENTICATE failed.")  # no JSON at all
    assert oauth_verdict(microsoft_no, {}, granted_scopes=["x"]).code == Code.OAUTH_TOKEN_INVALID
    unreachable = classify_imap_login("a1 NO [UNAVAILABLE] Temporary authentication failure. [host:time]")
    verdict = oauth_verdict(unreachable, {}, granted_scopes=["mail"])
    assert (verdict.code, verdict.transient) == (Code.SERVER_BUSY, True)
    pop3 = classify_pop3_login("-ERR [AUTH] Authentication failed.")
    assert oauth_verdict(pop3, {}, granted_scopes=["mail"]).code == Code.OAUTH_TOKEN_INVALID
    smtp_gmail = classify_smtp_auth("535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8 https://x")
    assert oauth_verdict(smtp_gmail, {"scope": "mail"}, granted_scopes=["mail"]).code == Code.OAUTH_TOKEN_INVALID
    smtp_busy = classify_smtp_auth("454 4.7.0 Temporary authentication failure")
    assert oauth_verdict(smtp_busy, {}, granted_scopes=["mail"]).transient


def test_the_blobs_follow_the_documented_formats_and_every_form_is_masked():
    token = "ya29.A0-sentinel-token"
    assert base64.b64decode(xoauth2_blob("u@example.test", token)) == (
        b"user=u@example.test\x01auth=Bearer ya29.A0-sentinel-token\x01\x01")
    bearer = base64.b64decode(oauthbearer_blob("u@example.test", token))
    assert bearer.startswith(b"n,a=u@example.test,\x01auth=Bearer ")
    forms = secret_forms(username="u@example.test", password=token)
    assert token in forms
    assert xoauth2_blob("u@example.test", token) in forms and oauthbearer_blob("u@example.test", token) in forms
