"""Texts a server addresses to the person, to be shown with the run: IMAP's ALERT response code.

RFC 3501 7.1 (and RFC 9051 7.1): "the human-readable text contains a special alert that MUST be presented to the
user". Servers use it for a full mailbox, a password about to expire, maintenance, or a configuration problem on
their side (Courier-IMAP sends one right after LOGIN when a helper is missing). It may come with any status
response, tagged or untagged, successful or not: `* OK [ALERT] ...`, `a2 NO [ALERT] ...`, `* BYE [ALERT] ...`.

IMAP only: POP3 and SMTP have no equivalent. POP3's response codes (RFC 2449: IN-USE, LOGIN-DELAY; RFC 3206:
SYS/TEMP, SYS/PERM, AUTH; RFC 6856: UTF8; the IANA registry holds no other) say why a command failed, and
classify.py turns them into codes: shown as alerts, a failure would read as a message. SMTP's reply texts and
enhanced status codes (RFC 5321, 3463, 4954) describe the reply, not a message for the person.

A failure keeps its own code (classify wins); its alert text is shown beside it.
"""

from __future__ import annotations

import re

_IMAP_ALERT = re.compile(r"^\S+ (?:OK|NO|BAD|BYE|PREAUTH) \[ALERT\] ?(.*)$", re.I)


def imap_alert(line: str) -> str | None:
    """The text of an IMAP status response whose response code is ALERT; None for any other line (or an alert
    without text). "[ALERT]" elsewhere in a line (a mailbox name, the text of another code) is not one."""
    match = _IMAP_ALERT.match(line)
    if match is None:
        return None
    return match.group(1).strip() or None
