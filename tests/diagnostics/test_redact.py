"""Secrets never reach a transcript: client credential lines are rewritten, echoed passwords masked."""

import base64

import pytest

from diagnostics.redact import MASK, mask_secrets, redact_client_line, redact_server_line, secret_forms


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


def test_long_server_lines_are_cut():
    assert len(redact_server_line("x" * 10_000, [])) < 600
