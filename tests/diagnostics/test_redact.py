"""Secrets never reach a transcript: client credential lines are rewritten, echoed passwords masked."""

import base64

import pytest

from diagnostics.redact import MASK, mask_secrets, redact_client_line, redact_text, secret_forms


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('a1 LOGIN "alice@example.test" "s3cr\\"et"', 'a1 LOGIN "alice@example.test" ***'),
        ("a1 LOGIN alice s3cret", 'a1 LOGIN "alice" ***'),
        ("a2 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==", "a2 AUTHENTICATE PLAIN ***"),
        ("a2 AUTHENTICATE PLAIN", "a2 AUTHENTICATE PLAIN"),
        ("PASS s3cret", "PASS ***"),
        ("USER alice", "USER alice"),
        ("AUTH PLAIN AGFsaWNlAHMzY3JldA==", "AUTH PLAIN ***"),
        ("AUTH LOGIN", "AUTH LOGIN"),
        ("a3 LIST \"\" \"*\"", "a3 LIST \"\" \"*\""),
    ],
)
def test_it_rewrites_client_lines_that_carry_credentials(line, expected):
    assert redact_client_line(line) == expected


def test_it_masks_every_wire_form_of_the_password_in_server_lines():
    secrets = secret_forms(username="alice", password='pa"ss')
    plain_blob = base64.b64encode(b'\0alice\0pa"ss').decode()
    password_blob = base64.b64encode(b'pa"ss').decode()
    for line in (
        'a1 NO unknown password pa"ss',
        'a1 BAD bad argument "pa\\"ss"',
        f"535 5.7.8 cannot decode {plain_blob}",
        f"334 {password_blob}",
    ):
        masked = mask_secrets(line, secrets)
        assert 'pa"ss' not in masked and 'pa\\"ss' not in masked and plain_blob not in masked
        assert MASK in masked


def test_no_password_means_nothing_to_mask():
    assert secret_forms(username="alice", password=None) == []
    assert mask_secrets("a1 OK", []) == "a1 OK"


PASSWORD = "S3cretPassw0rd!"


def _no_piece_of(secret, text, *, size=3):
    """True when no run of `size` characters that starts `secret` survives in `text`."""
    return secret[:size] not in text


def test_a_password_cut_by_the_length_limit_leaves_no_part_behind():
    # A server echoing the LOGIN line: wherever the limit falls inside the password, none of it is kept.
    secrets = secret_forms(username="bob", password=PASSWORD)
    line = "a2 NO LOGIN bob " + "x" * 180 + PASSWORD + "y" * 400
    start = line.index(PASSWORD)
    for limit in range(start - 2, start + len(PASSWORD) + 2):
        stored = redact_text(line, secrets, limit=limit)
        assert _no_piece_of(PASSWORD, stored), (limit, stored)


@pytest.mark.parametrize("form", ["plain", "login"])
def test_a_base64_password_cut_by_the_length_limit_leaves_no_part_behind(form):
    # AUTH PLAIN / AUTH LOGIN payloads echoed by a server ("501 5.5.2 cannot decode <payload>").
    secrets = secret_forms(username="bob@example.test", password=PASSWORD)
    raw = b"\0bob@example.test\0" + PASSWORD.encode() if form == "plain" else PASSWORD.encode()
    blob = base64.b64encode(raw).decode()
    line = "501 5.5.2 cannot decode " + "x" * 100 + blob + " y"
    start = line.index(blob)
    for limit in range(start - 2, start + len(blob) + 2):
        assert _no_piece_of(blob, redact_text(line, secrets, limit=limit))
    # A line that stops inside the payload (the server or a read limit cut it): its end is masked.
    for end in range(start + 3, start + len(blob)):
        assert redact_text(line[:end], secrets) == line[:start] + MASK, end


def test_a_line_that_ends_inside_a_password_is_masked_at_its_end():
    secrets = secret_forms(username="bob", password=PASSWORD)
    assert redact_text("a2 NO bad password S3cretPa", secrets) == f"a2 NO bad password {MASK}"
    assert redact_text("a2 NO LOGIN failed", secrets) == "a2 NO LOGIN failed"


def test_long_server_lines_are_cut_after_masking():
    stored = redact_text("x" * 10_000 + PASSWORD, [PASSWORD])
    assert len(stored) < 600 and stored.endswith("[9503 more chars]")
