"""TLS verification against real handshakes: trusted, expired, wrong name, unknown issuer, STARTTLS."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.net import Transcript, open_channel
from diagnostics.probes.tls import make_context, unverified_certificate
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.ports import free_port


def _imaps(port, *, ca_file, host="localhost"):
    return imap.probe_session(host=host, port=port, security="ssl", options=loopback_options(ca_file=ca_file))


@pytest.mark.parametrize(("cert", "reason"), [("expired", "expired"), ("wrong_name", "wrong_name")])
def test_it_says_which_way_a_certificate_is_invalid(scripted_server, test_ca, cert, reason):
    server = scripted_server(s.imap(), tls="implicit", cert=cert)
    result = _imaps(server.port, ca_file=test_ca.ca_pem)
    tls_step = result.step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"], tls_step.transient) == (
        Code.TLS_CERTIFICATE_INVALID, reason, False)
    assert tls_step.details["verify_message"]
    # The failing certificate is read once more, unverified, to show what it is.
    assert tls_step.details["certificate"]["subject"]
    assert result.step(Step.GREETING) is None


def test_an_expired_certificate_shows_negative_days_left(scripted_server, test_ca):
    server = scripted_server(s.imap(), tls="implicit", cert="expired")
    tls_step = _imaps(server.port, ca_file=test_ca.ca_pem).step(Step.TLS)
    assert tls_step.details["certificate"]["days_left"] < 0


def test_a_wrong_name_certificate_lists_the_names_it_has(scripted_server, test_ca):
    server = scripted_server(s.imap(), tls="implicit", cert="wrong_name")
    tls_step = _imaps(server.port, ca_file=test_ca.ca_pem).step(Step.TLS)
    assert tls_step.details["certificate"]["names"] == ["other.invalid"]


def test_a_certificate_from_an_unknown_authority_is_untrusted(scripted_server):
    server = scripted_server(s.imap(), tls="implicit")
    tls_step = _imaps(server.port, ca_file=None).step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"]) == (Code.TLS_CERTIFICATE_INVALID, "untrusted")


def test_the_host_name_is_checked_not_the_ip_we_connected_to(scripted_server, test_ca):
    # The wrong-name leaf is valid for other.invalid only; connecting by 127.0.0.1 must not make it pass,
    # and a valid leaf checked against the configured name "localhost" passes while we dial 127.0.0.1.
    good = scripted_server(s.imap(), tls="implicit")
    result = _imaps(good.port, ca_file=test_ca.ca_pem, host="localhost")
    assert result.step(Step.TLS).code == Code.OK
    assert result.step(Step.PORT).details["ip"] == "127.0.0.1"
    assert result.step(Step.TLS).details["server_name"] == "localhost"


def test_an_expired_certificate_behind_starttls_is_reported_with_its_details(scripted_server, test_ca):
    server = scripted_server(s.imap(), tls="starttls", cert="expired")
    result = imap.probe_session(host="localhost", port=server.port, security="starttls",
                                options=loopback_options(ca_file=test_ca.ca_pem))
    tls_step = result.step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"]) == (Code.TLS_CERTIFICATE_INVALID, "expired")
    assert tls_step.details["certificate"]["days_left"] < 0


def test_a_server_without_starttls_is_starttls_unavailable(scripted_server, test_ca):
    server = scripted_server(s.imap())  # plaintext, no STARTTLS capability
    result = imap.probe_session(host="localhost", port=server.port, security="starttls",
                                options=loopback_options(ca_file=test_ca.ca_pem))
    tls_step = result.step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"]) == (Code.STARTTLS_UNAVAILABLE, "not_advertised")


def test_pop3_and_smtp_verify_certificates_the_same_way(scripted_server, test_ca):
    pop = scripted_server(s.pop3(), tls="implicit", cert="wrong_name")
    sub = scripted_server(s.smtp(), tls="implicit", cert="expired")
    options = loopback_options(ca_file=test_ca.ca_pem)
    pop_tls = pop3.probe_session(host="localhost", port=pop.port, security="ssl", options=options).step(Step.TLS)
    smtp_tls = smtp.probe_session(host="localhost", port=sub.port, security="ssl", options=options).step(Step.TLS)
    assert (pop_tls.code, pop_tls.details["reason"]) == (Code.TLS_CERTIFICATE_INVALID, "wrong_name")
    assert (smtp_tls.code, smtp_tls.details["reason"]) == (Code.TLS_CERTIFICATE_INVALID, "expired")


def test_a_missing_ca_file_is_the_operators_error_not_the_servers(tmp_path):
    with pytest.raises(FileNotFoundError):
        make_context(ca_file=str(tmp_path / "missing.pem"))


def test_reading_a_failing_certificate_again_gives_up_quietly_when_the_server_is_gone():
    options = loopback_options()
    port = free_port()

    def reopen():
        return open_channel("127.0.0.1", port, options=options, transcript=Transcript(secrets=[], limit=10))

    assert unverified_certificate(reopen, host="localhost") is None


def test_reading_a_failing_certificate_again_lets_a_soft_time_limit_through():
    # Celery's SoftTimeLimitExceeded is an Exception: a broad catch here would keep a run past its limit.
    def interrupted():
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        unverified_certificate(interrupted, host="localhost")
