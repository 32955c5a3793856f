"""The bounded channel keeps no part of a password when it records what a server sent that is no usable line
(too long, or never finished): masking runs over everything read, then the start is kept."""

import base64
import json
import socket

import pytest

from diagnostics.probes import imap, smtp
from diagnostics.probes.net import Channel, LineTooLong, ProbeOptions, ReadTimeout, Transcript
from diagnostics.redact import MASK, secret_forms
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s

USER = "bob@example.test"
PASSWORD = "S3cretPassw0rd!"


@pytest.fixture
def channel_and_server():
    """A Channel on one end of a connected socket pair; the test writes the server's bytes on the other."""
    client, server = socket.socketpair()
    options = ProbeOptions(step_timeout=0.3, max_line=8192)
    transcript = Transcript(secrets=secret_forms(username=USER, password=PASSWORD), limit=10)
    channel = Channel(client, host="localhost", ip="127.0.0.1", port=0, options=options, transcript=transcript)
    yield channel, server
    channel.close()
    server.close()


def _stored(channel):
    return "\n".join(channel.transcript.lines)


def _echo_with_password_at_the_cut(tag_and_text: str, secret: str) -> bytes:
    """A line whose first 200 characters end inside `secret` (the reviewer's case: the cut kept `S3cretPassw0r`)."""
    filler = "x" * (200 - len(tag_and_text) - len(secret) + 2)
    return (tag_and_text + filler + secret).encode()


@pytest.mark.parametrize("secret", [
    PASSWORD,
    base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),  # an AUTH PLAIN payload echoed
    base64.b64encode(PASSWORD.encode()).decode(),  # an AUTH LOGIN password echoed
])
def test_an_over_long_line_echoing_a_secret_keeps_none_of_it(channel_and_server, secret):
    channel, server = channel_and_server
    server.sendall(_echo_with_password_at_the_cut("a2 NO LOGIN bob ", secret) + b"y" * 9000 + b"\r\n")
    with pytest.raises(LineTooLong):
        channel.read_raw_line()
    stored = _stored(channel)
    assert "line too long" in stored
    assert secret[:3] not in stored


def test_an_unfinished_line_echoing_the_password_keeps_none_of_it(channel_and_server):
    channel, server = channel_and_server
    server.sendall(_echo_with_password_at_the_cut("a2 NO LOGIN bob ", PASSWORD) + b"yyyy")  # no line end
    with pytest.raises(ReadTimeout):
        channel.read_raw_line()
    stored = _stored(channel)
    assert "no line end before the deadline" in stored
    assert PASSWORD[:3] not in stored


def test_a_line_the_server_stopped_inside_the_password_is_masked_at_its_end(channel_and_server):
    channel, server = channel_and_server
    server.sendall(b"a2 NO LOGIN bob S3cretPassw")  # then nothing: the read times out
    with pytest.raises(ReadTimeout):
        channel.read_raw_line()
    assert channel.transcript.lines[0].startswith(f"S: a2 NO LOGIN bob {MASK}…")


def test_an_imap_server_echoing_the_login_in_a_long_line_stores_no_part_of_the_password(scripted_server):
    reply = "NO LOGIN " + "x" * 180 + PASSWORD + "y" * 9000  # the tagged line's first 200 chars end in it
    server = scripted_server(s.imap(login_reply=reply))
    result = imap.probe_session(host="127.0.0.1", port=server.port, security="none", username=USER,
                                password=PASSWORD, options=loopback_options())
    assert result.step(Step.LOGIN).code == Code.WRONG_PROTOCOL
    assert PASSWORD[:3] not in json.dumps(result.to_dict())


def test_an_smtp_server_echoing_the_auth_plain_payload_stores_no_part_of_it(scripted_server):
    blob = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    server = scripted_server(s.smtp(auth_reply="501 5.5.2 " + "x" * 180 + blob + "y" * 9000))
    result = smtp.probe_session(host="127.0.0.1", port=server.port, security="none", username=USER,
                                password=PASSWORD, options=loopback_options())
    assert result.step(Step.SMTP_AUTH).code == Code.WRONG_PROTOCOL
    dumped = json.dumps(result.to_dict())
    assert blob[:3] not in dumped and PASSWORD[:3] not in dumped
