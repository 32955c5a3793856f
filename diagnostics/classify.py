"""Pure judgment: server answers and observed events -> codes.

Table-driven so a new provider answer is one line. Every rule was written against a real server line
(RFC 5530 IMAP response codes, RFC 2449/3206 POP3 codes, Gmail, Microsoft 365/Exchange, Dovecot);
the tests hold those lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from diagnostics.results import Code, Verdict
from mailsettings.vocabulary import Protocol

Rule = tuple[re.Pattern[str], Verdict]


def _rule(pattern: str, code: Code, *, transient: bool = False, reason: str = "") -> Rule:
    return re.compile(pattern, re.I), Verdict(code, transient=transient, reason=reason)


# Provider answers that mean the same in every protocol; checked first because they ride on generic
# codes (Gmail sends "[ALERT] Application-specific password required" and "-ERR [AUTH] ...").
_PROVIDER_RULES: tuple[Rule, ...] = (
    _rule(r"application[- ]specific password|app[- ]password required|\b5\.7\.9\b", Code.AUTH_APP_PASSWORD_REQUIRED,
          reason="app_password"),
    _rule(r"\[WEBALERT|web login required|log ?in via your web browser|\b5\.7\.14\b", Code.AUTH_WEB_LOGIN_REQUIRED,
          reason="web_login"),
    _rule(r"\b5\.7\.139\b|basic auth(entication)? is disabled|SmtpClientAuthentication is disabled",
          Code.AUTH_BASIC_AUTH_DISABLED, reason="basic_auth_disabled"),
    # Microsoft 365 once basic authentication is retired for SMTP submission.
    _rule(r"\b5\.7\.30\b|basic auth(entication)? is not supported", Code.AUTH_BASIC_AUTH_DISABLED,
          reason="basic_auth_not_supported"),
    _rule(r"plain ?text (authentication|auth|login)s? (is )?(disallowed|not allowed|disabled)|\[PRIVACYREQUIRED\]"
          r"|LOGINDISABLED", Code.PLAINTEXT_LOGIN_REFUSED, reason="privacy_required"),
    # Too many simultaneous sessions of one user (Dovecot's mail_max_userip_connections, Gmail's own wording):
    # other programs and devices hold the connections; rides on [UNAVAILABLE] / [IN-USE], so it comes first.
    _rule(r"maximum number of (simultaneous |concurrent )?connections|too many (simultaneous |concurrent |open )?"
          r"(connections|sessions)|connection limit (reached|exceeded)", Code.SERVER_BUSY, transient=True,
          reason="too_many_connections"),
)

_IMAP_RULES: tuple[Rule, ...] = (
    *_PROVIDER_RULES,
    _rule(r"\[UNAVAILABLE\]", Code.SERVER_BUSY, transient=True, reason="unavailable"),
    _rule(r"\[INUSE\]", Code.SERVER_BUSY, transient=True, reason="in_use"),
    _rule(r"\[EXPIRED\]", Code.AUTH_INVALID_CREDENTIALS, reason="expired"),
    _rule(r"\[CONTACTADMIN\]", Code.AUTH_INVALID_CREDENTIALS, reason="contact_admin"),
    _rule(r"\[AUTHORIZATIONFAILED\]", Code.AUTH_INVALID_CREDENTIALS, reason="authorization_failed"),
    _rule(r"\[AUTHENTICATIONFAILED\]", Code.AUTH_INVALID_CREDENTIALS, reason="authentication_failed"),
    _rule(r"(LOGIN|AUTHENTICATE) failed", Code.AUTH_INVALID_CREDENTIALS, reason="login_failed"),
)

_POP3_RULES: tuple[Rule, ...] = (
    *_PROVIDER_RULES,
    _rule(r"\[SYS/TEMP\]", Code.SERVER_BUSY, transient=True, reason="sys_temp"),
    _rule(r"\[SYS/PERM\]", Code.SERVER_BUSY, reason="sys_perm"),
    _rule(r"\[IN-USE\]", Code.SERVER_BUSY, transient=True, reason="in_use"),
    _rule(r"\[LOGIN-DELAY\]", Code.SERVER_BUSY, transient=True, reason="login_delay"),
    _rule(r"\[AUTH\]", Code.AUTH_INVALID_CREDENTIALS, reason="auth"),
)

_SMTP_RULES: tuple[Rule, ...] = (
    *_PROVIDER_RULES,
    _rule(r"^53[08][ -]|\b5\.7\.11\b|must issue a STARTTLS|encryption required", Code.PLAINTEXT_LOGIN_REFUSED,
          reason="encryption_required"),
    _rule(r"^4\d\d[ -]", Code.SERVER_BUSY, transient=True, reason="temporary"),
    _rule(r"\b5\.7\.3\b", Code.SMTP_AUTH_FAILED, reason="authentication_unsuccessful"),
    _rule(r"\b5\.7\.8\b", Code.SMTP_AUTH_FAILED, reason="bad_credentials"),
    _rule(r"^5\d\d[ -]", Code.SMTP_AUTH_FAILED, reason="rejected"),
)

_OK = Verdict(Code.OK)


# --- mailbox access turned off ----------------------------------------------------------------------------
# Recognized by meaning, not by one string per provider: a mail protocol named next to words that say it is
# off ("IMAP access is disabled", "not enabled for POP access", "enable your account for IMAP access"), and
# an administrator or the domain named when only they can turn it back on. Lines collected in the tests.
_PROTOCOL = r"(?:IMAP4?|POP3?)"
_OFF = (r"(?:not (?:been )?enabled|disabled|deactivated|not activated|turned off|switched off|not allowed|"
        r"not permitted|blocked)")
_TURN_ON = r"(?:enable|activate|turn on|switch on)"
_ACCESS_OFF = re.compile(
    rf"\b{_PROTOCOL}\b[^.]{{0,40}}\b{_OFF}"  # "IMAP access is disabled", "POP3 is not enabled"
    rf"|\b{_OFF}\b[^.]{{0,20}}\bfor {_PROTOCOL}\b"  # "not enabled for IMAP use"
    rf"|\b{_TURN_ON}\b[^.]{{0,40}}\b{_PROTOCOL}\b",  # "enable your account for IMAP access"
    re.I,
)
_BY_ADMIN = re.compile(
    r"administrator|\badmin\b|\b(your|the) (domain|organi[sz]ation|company)\b|\bpolic(y|ies)\b|IT department",
    re.I,
)
# "Invalid credentials or IMAP is disabled" (Yandex) cannot tell which: the password is the likelier cause.
_EITHER = re.compile(rf"(credentials|password)\W+or\W+[^.]{{0,10}}{_PROTOCOL}", re.I)


def classify_access_disabled(text: str) -> Verdict | None:
    """protocol_disabled (the person turns it on in the webmail's settings) or protocol_disabled_by_admin (only
    the domain's administrator can); None when the text does not say that mailbox access is off."""
    if not _ACCESS_OFF.search(text):
        return None
    if _EITHER.search(text):
        return Verdict(Code.AUTH_INVALID_CREDENTIALS, reason="invalid_or_access_disabled")
    if _BY_ADMIN.search(text):
        return Verdict(Code.PROTOCOL_DISABLED_BY_ADMIN, reason="access_disabled_by_admin")
    return Verdict(Code.PROTOCOL_DISABLED, reason="access_disabled")


# What a provider rule says is more specific than "access is off"; generic codes ([AUTH], [SYS/PERM], 5xx) are not.
_SPECIFIC = frozenset({"app_password", "web_login", "basic_auth_disabled", "basic_auth_not_supported",
                       "privacy_required", "too_many_connections"})


def _first(rules: Iterable[Rule], text: str) -> Verdict | None:
    found = next((verdict for pattern, verdict in rules if pattern.search(text)), None)
    if found is not None and found.reason in _SPECIFIC:
        return found
    return classify_access_disabled(text) or found


def _tagged_status(line: str) -> str:
    """"a1 NO [X] text" -> "NO"; "" when the line is not a tagged status."""
    parts = line.split(" ", 2)
    return parts[1].upper() if len(parts) >= 2 else ""


def classify_imap_login(line: str) -> Verdict:
    """The tagged answer to LOGIN / AUTHENTICATE (e.g. "a2 NO [AUTHENTICATIONFAILED] Invalid credentials")."""
    status = _tagged_status(line)
    if status == "OK":
        return _OK
    return _first(_IMAP_RULES, line) or Verdict(Code.AUTH_INVALID_CREDENTIALS, reason="rejected")


def classify_pop3_login(line: str) -> Verdict:
    """The answer to USER or PASS (e.g. "-ERR [AUTH] Authentication failed.")."""
    if line.startswith("+OK"):
        return _OK
    return _first(_POP3_RULES, line) or Verdict(Code.AUTH_INVALID_CREDENTIALS, reason="rejected")


def classify_smtp_auth(reply: str) -> Verdict:
    """The final reply to AUTH, all lines joined by newlines (e.g. "535 5.7.8 Username and Password not accepted")."""
    if reply.startswith("235"):
        return _OK
    return _first(_SMTP_RULES, reply) or Verdict(Code.SMTP_AUTH_FAILED, reason="rejected")


# --- greetings -------------------------------------------------------------------------------------------

def detect_protocol(line: str) -> str:
    """Which protocol a first server line belongs to: imap, pop3, smtp, http, ssh or unknown."""
    if re.match(r"^\* (OK|PREAUTH|BYE)\b", line, re.I):
        return "imap"
    if re.match(r"^[+-](OK|ERR)\b", line):
        return "pop3"
    if re.match(r"^\d{3}([ -]|$)", line):
        return "smtp"
    if line.startswith("HTTP/"):
        return "http"
    if line.startswith("SSH-"):
        return "ssh"
    return "unknown"


def classify_greeting(protocol: Protocol | str, line: str) -> Verdict:
    """The first line a server sends, against the protocol the settings say it speaks."""
    protocol = Protocol(protocol)
    speaks = detect_protocol(line)
    if speaks != protocol.value:
        return Verdict(Code.WRONG_PROTOCOL, reason=f"speaks_{speaks}")
    if protocol == Protocol.IMAP:
        if line.upper().startswith("* BYE"):
            return Verdict(Code.SERVER_BUSY, transient=True, reason="bye")
        return _OK
    if protocol == Protocol.POP3:
        return _OK if line.startswith("+OK") else Verdict(Code.SERVER_BUSY, transient=True, reason="refused")
    if line.startswith("220"):
        return _OK
    if line.startswith("4"):
        return Verdict(Code.SERVER_BUSY, transient=True, reason="temporary")
    return Verdict(Code.SERVER_BUSY, reason="rejected")


# --- TLS -------------------------------------------------------------------------------------------------

# OpenSSL X509_V_ERR_* values that matter to a user.
_CERT_REASONS = {
    9: "not_yet_valid",
    10: "expired",
    62: "wrong_name",  # X509_V_ERR_HOSTNAME_MISMATCH
    64: "wrong_name",  # X509_V_ERR_IP_ADDRESS_MISMATCH
    2: "untrusted",
    18: "untrusted",  # self-signed leaf
    19: "untrusted",  # self-signed root in chain
    20: "untrusted",  # unknown issuer
    21: "untrusted",
    23: "revoked",
}


def classify_certificate_error(verify_code: int | None, message: str = "") -> Verdict:
    """An ssl.SSLCertVerificationError (its verify_code and verify_message) -> tls_certificate_invalid + which."""
    reason = _CERT_REASONS.get(verify_code or -1)
    if reason is None:
        text = message.lower()
        if "expired" in text:
            reason = "expired"
        elif "mismatch" in text or "not valid for" in text:
            reason = "wrong_name"
        else:
            reason = "untrusted"
    return Verdict(Code.TLS_CERTIFICATE_INVALID, reason=reason)


def classify_certificate_expiry(days_left: int | None, *, warning_days: int) -> Verdict:
    """A certificate that verified but expires within `warning_days` days: tls_certificate_expiring (a warning)."""
    if days_left is not None and 0 <= days_left <= warning_days:
        return Verdict(Code.TLS_CERTIFICATE_EXPIRING, reason="expires_soon")
    return _OK


def classify_tls_error(openssl_reason: str | None, message: str = "") -> Verdict:
    """A non-certificate ssl.SSLError during the handshake -> tls_handshake_failed + which."""
    text = f"{openssl_reason or ''} {message}".upper()
    if "WRONG_VERSION_NUMBER" in text or "RECORD_LAYER_FAILURE" in text or "PACKET_LENGTH_TOO_LONG" in text:
        reason = "server_not_tls"  # the server answered in clear text: the port is not an implicit-TLS port
    elif "PROTOCOL_VERSION" in text or "UNSUPPORTED_PROTOCOL" in text:
        reason = "protocol_version"
    elif "HANDSHAKE_FAILURE" in text or "NO_SHARED_CIPHER" in text or "NO_CIPHERS" in text:
        reason = "no_shared_cipher"
    elif "EOF" in text:
        reason = "closed"
    else:
        reason = "handshake_error"
    return Verdict(Code.TLS_HANDSHAKE_FAILED, reason=reason)


# --- folders ---------------------------------------------------------------------------------------------

# Names that clients and providers use for the sent folder, compared case-insensitively on the full name
# and on its last hierarchy component.
KNOWN_SENT_NAMES = frozenset(
    name.casefold()
    for name in (
        "Sent", "Sent Items", "Sent Messages", "Sent Mail", "Sent-Mail", "Sent Mails",
        "[Gmail]/Sent Mail", "[Google Mail]/Sent Mail", "INBOX.Sent", "INBOX/Sent",
        "送信済み", "送信済みアイテム", "送信済みメール", "送信箱",
        "Gesendet", "Gesendete Elemente", "Gesendete Objekte", "Envoyés", "Éléments envoyés",
        "Enviados", "Elementos enviados", "Posta inviata", "Verzonden items", "Skickat",
    )
)


@dataclass(frozen=True)
class Mailbox:
    name: str  # decoded (modified UTF-7 -> Unicode)
    flags: frozenset[str] = field(default_factory=frozenset)  # lower-cased, e.g. "\\sent", "\\noselect"
    delimiter: str | None = None
    raw_name: str = ""  # as the server spelled it, to use in commands

    @property
    def selectable(self) -> bool:
        return "\\noselect" not in self.flags and "\\nonexistent" not in self.flags


def find_inbox(mailboxes: Sequence[Mailbox]) -> Mailbox | None:
    return next((m for m in mailboxes if m.name.upper() == "INBOX" and m.selectable), None)


def find_sent(mailboxes: Sequence[Mailbox]) -> tuple[Mailbox | None, str]:
    """The sent folder and how it was found: "special_use" (RFC 6154 \\Sent) wins over "name"."""
    usable = [m for m in mailboxes if m.selectable]
    for m in usable:
        if "\\sent" in m.flags:
            return m, "special_use"
    for m in usable:
        last = m.name.rsplit(m.delimiter, 1)[-1] if m.delimiter else m.name
        if m.name.casefold() in KNOWN_SENT_NAMES or last.casefold() in KNOWN_SENT_NAMES:
            return m, "name"
    return None, ""


def judge_folders(*, inbox: Mailbox | None, sent: Mailbox | None) -> Verdict:
    """folder_missing names what is missing (reason "inbox", "sent" or "inbox_and_sent")."""
    missing = [label for label, box in (("inbox", inbox), ("sent", sent)) if box is None]
    if not missing:
        return _OK
    return Verdict(Code.FOLDER_MISSING, reason="_and_".join(missing))


# --- authentication mechanisms --------------------------------------------------------------------------

# SASL mechanisms that carry a token from the provider's sign-in page, never a password.
OAUTH_MECHANISMS = frozenset({"XOAUTH2", "OAUTHBEARER", "XOAUTH"})


def classify_mechanisms(mechanisms: Iterable[str]) -> Verdict:
    """The SASL mechanisms a server offers for a password: only OAuth ones (neither PLAIN nor LOGIN) means
    password sign-in is off for mail programs (auth_basic_auth_disabled, reason oauth_only)."""
    offered = {m.upper() for m in mechanisms}
    if offered and offered <= OAUTH_MECHANISMS:
        return Verdict(Code.AUTH_BASIC_AUTH_DISABLED, reason="oauth_only")
    return _OK


# --- settings-level judgments ----------------------------------------------------------------------------

def classify_sent_copy(*, save_sent_copy: bool, provider_saves_sent: bool) -> Verdict:
    """docs/scenarios.md T8: the CRM appends a copy to Sent while the provider already keeps one -> every mail
    shows twice."""
    if save_sent_copy and provider_saves_sent:
        return Verdict(Code.DUPLICATE_SENT_RISK, reason="provider_saves_sent")
    return _OK
