"""Behaviours for scripted servers: each function returns a callable that plays one client session.

Answer lines are module constants so tests can assert on exactly what the server said. IMAP replies
are given without their tag: the server prefixes the client's tag (e.g. "a NO [ALERT] ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tests.servers.scripted import Conn

Behaviour = Callable[["Conn"], None]
Protocol = Literal["imap", "pop3", "smtp"]


class _Drop:
    """Sentinel reply: close the connection instead of answering."""

    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()

# --- IMAP ---------------------------------------------------------------------------------------------
GMAIL_GREETING = "* OK Gimap ready"
GMAIL_CAPABILITIES = (
    "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR "
    "AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER"
)
GMAIL_APP_PASSWORD = (
    "NO [ALERT] Application-specific password required: "
    "https://support.google.com/mail/accounts/answer/185833 (Failure)"
)
GMAIL_WEB_LOGIN = "NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1] Web login required."
GMAIL_INVALID_CREDENTIALS = "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"
GMAIL_REPLIES = {
    "app_password": GMAIL_APP_PASSWORD,
    "web_login": GMAIL_WEB_LOGIN,
    "invalid_credentials": GMAIL_INVALID_CREDENTIALS,
}
EXCHANGE_GREETING = "* OK The Microsoft Exchange IMAP4 service is ready."
EXCHANGE_CAPABILITIES = (
    "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
)
EXCHANGE_LOGIN_FAILED = "NO LOGIN failed."
IMAP_GREETING = "* OK IMAP4rev1 scripted test server ready"
IMAP_CAPABILITIES = "IMAP4rev1 AUTH=PLAIN LITERAL+"
IMAP_LOGIN_OK = "OK LOGIN completed"
# RFC 5530 response codes with typical texts, for imap_login_code().
RFC5530_TEXTS = {
    "UNAVAILABLE": "Temporary authentication failure, try again later",
    "AUTHENTICATIONFAILED": "Authentication failed",
    "AUTHORIZATIONFAILED": "Not authorized to use this mailbox",
    "EXPIRED": "Password expired",
    "PRIVACYREQUIRED": "Connection is not private enough",
    "CONTACTADMIN": "Account disabled, contact your administrator",
    "LIMIT": "Too many connections",
    "INUSE": "Mailbox in use",
}
_LITERAL = re.compile(r"\{(\d+)(\+?)\}$")


def _imap_read_command(conn: Conn) -> str | None:
    """One IMAP command, with any {N} literals read in and inlined as quoted text."""
    line = conn.read_line()
    while line is not None and (match := _LITERAL.search(line)):
        if not match.group(2):
            conn.send_line("+ Ready for literal data")
        data = conn.read_exact(int(match.group(1)))
        rest = conn.read_line()
        if data is None or rest is None:
            return None
        line = line[: match.start()] + '"' + data.decode("utf-8", "replace") + '"' + rest
    return line


def imap(
    *,
    greeting: str = IMAP_GREETING,
    capabilities: str = IMAP_CAPABILITIES,
    login_reply: str | _Drop = IMAP_LOGIN_OK,
    login_untagged: tuple[str, ...] = (),
) -> Behaviour:
    """An IMAP server whose LOGIN/AUTHENTICATE always gets `login_reply` (untagged text; DROP closes), after the
    untagged lines `login_untagged` (e.g. "* OK [ALERT] ...").

    Answers CAPABILITY, NOOP, ID, LOGOUT, STARTTLS (when the server was made with tls="starttls"),
    and after a successful login a minimal LIST/SELECT with an empty INBOX.
    """

    def play(conn: Conn) -> None:
        authenticated = False
        conn.send_line(greeting)
        while (line := _imap_read_command(conn)) is not None:
            tag, _, rest = line.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                extra = " STARTTLS" if conn.can_start_tls else ""
                conn.send_line(f"* CAPABILITY {capabilities}{extra}")
                conn.send_line(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                conn.send_line(f"{tag} OK NOOP completed")
            elif command == "ID":
                conn.send_line("* ID NIL")
                conn.send_line(f"{tag} OK ID completed")
            elif command == "LOGOUT":
                conn.send_line("* BYE Logging out")
                conn.send_line(f"{tag} OK LOGOUT completed")
                return
            elif command == "STARTTLS" and conn.can_start_tls:
                conn.send_line(f"{tag} OK Begin TLS negotiation now")
                conn.start_tls()
            elif command in ("LOGIN", "AUTHENTICATE"):
                if command == "AUTHENTICATE" and len(args.split()) < 2:  # no SASL-IR: ask for the response
                    conn.send_line("+ ")
                    response = conn.read_line()
                    if response is None:
                        return
                    if response == "*":
                        conn.send_line(f"{tag} BAD AUTHENTICATE cancelled")
                        continue
                if isinstance(login_reply, _Drop):
                    return  # the server closes the connection (finally in ScriptedServer)
                for line in login_untagged:
                    conn.send_line(line)
                conn.send_line(f"{tag} {login_reply}")
                authenticated = login_reply.upper().startswith("OK")
            elif authenticated and command in ("LIST", "LSUB"):
                conn.send_line(f'* {command} (\\HasNoChildren) "/" INBOX')
                conn.send_line(f"{tag} OK {command} completed")
            elif authenticated and command in ("SELECT", "EXAMINE"):
                conn.send_line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
                conn.send_line("* 0 EXISTS")
                conn.send_line("* 0 RECENT")
                conn.send_line("* OK [UIDVALIDITY 1] UIDs valid")
                mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                conn.send_line(f"{tag} OK [{mode}] {command} completed")
            else:
                conn.send_line(f"{tag} BAD Unknown or unexpected command")

    return play


def imap_gmail(variant: Literal["app_password", "web_login", "invalid_credentials"] = "app_password") -> Behaviour:
    """Gmail-like IMAP: `* OK Gimap ready`, LOGIN refused with Gmail's own line for `variant`."""
    return imap(greeting=GMAIL_GREETING, capabilities=GMAIL_CAPABILITIES, login_reply=GMAIL_REPLIES[variant])


def imap_exchange() -> Behaviour:
    """Exchange/Outlook-like IMAP: LOGIN answers `NO LOGIN failed.` (no response code at all)."""
    return imap(greeting=EXCHANGE_GREETING, capabilities=EXCHANGE_CAPABILITIES, login_reply=EXCHANGE_LOGIN_FAILED)


def imap_login_code(code: str, text: str | None = None) -> Behaviour:
    """IMAP whose LOGIN answers `NO [CODE] text` (RFC 5530 codes such as UNAVAILABLE, CONTACTADMIN)."""
    return imap(login_reply=f"NO [{code}] {text or RFC5530_TEXTS.get(code, 'Login refused')}")


# --- POP3 ---------------------------------------------------------------------------------------------
POP3_GREETING = "+OK POP3 scripted test server ready"
POP3_AUTH_FAILED = "-ERR [AUTH] Invalid username or password"
POP3_SYS_TEMP = "-ERR [SYS/TEMP] System temporarily unavailable, try again later"
POP3_SYS_PERM = "-ERR [SYS/PERM] Account unavailable"
POP3_IN_USE = "-ERR [IN-USE] Mailbox is locked by another session"
POP3_LOGIN_DELAY = "-ERR [LOGIN-DELAY] Minimum time between logins not reached"
POP3_PASS_OK = "+OK Logged in."


def pop3(
    *,
    greeting: str = POP3_GREETING,
    pass_reply: str | _Drop = POP3_AUTH_FAILED,
    pass_replies: Mapping[str, str | _Drop] | None = None,
) -> Behaviour:
    """A POP3 server (CAPA advertises RESP-CODES and AUTH-RESP-CODE, RFC 2449/3206).

    PASS answers `pass_replies[user]` when the USER is listed there, else `pass_reply` (DROP closes).
    STLS works when the server was made with tls="starttls".
    """
    per_user = dict(pass_replies or {})

    def play(conn: Conn) -> None:
        user = ""
        authenticated = False
        conn.send_line(greeting)
        while (line := conn.read_line()) is not None:
            command, _, args = line.partition(" ")
            command = command.upper()
            if command == "CAPA":
                lines = ["+OK Capability list follows", "USER", "RESP-CODES", "AUTH-RESP-CODE", "UIDL", "TOP"]
                if conn.can_start_tls:
                    lines.append("STLS")
                for item in [*lines, "."]:
                    conn.send_line(item)
            elif command == "STLS" and conn.can_start_tls:
                conn.send_line("+OK Begin TLS negotiation")
                conn.start_tls()
            elif command == "USER":
                user = args.strip()
                conn.send_line("+OK")
            elif command == "PASS":
                reply = per_user.get(user, pass_reply)
                if isinstance(reply, _Drop):
                    return
                conn.send_line(reply)
                authenticated = reply.startswith("+OK")
            elif command == "QUIT":
                conn.send_line("+OK Bye")
                return
            elif command == "NOOP":
                conn.send_line("+OK")
            elif authenticated and command == "STAT":
                conn.send_line("+OK 0 0")
            elif authenticated and command in ("LIST", "UIDL"):
                conn.send_line("+OK 0 messages")
                conn.send_line(".")
            else:
                conn.send_line("-ERR Unknown or unexpected command")

    return play


# --- SMTP ---------------------------------------------------------------------------------------------
SMTP_GREETING = "220 mx.example.test ESMTP scripted test server"
M365_GREETING = "220 AM0PR01MB0000.eurprd01.prod.outlook.com Microsoft ESMTP MAIL Service ready"
M365_BASIC_AUTH_DISABLED = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
M365_AUTH_UNSUCCESSFUL = "535 5.7.3 Authentication unsuccessful"
M365_REPLIES = {"basic_auth_disabled": M365_BASIC_AUTH_DISABLED, "auth_unsuccessful": M365_AUTH_UNSUCCESSFUL}
SMTP_BAD_CREDENTIALS = "535 5.7.8 Username and Password not accepted"
SMTP_AUTH_OK = "235 2.7.0 Authentication successful"


def _smtp_auth_exchange(conn: Conn, args: str) -> bool | None:
    """Play the SASL PLAIN/LOGIN prompts. True: credentials read; False: refused here; None: client left."""
    mechanism, _, initial = args.partition(" ")
    mechanism = mechanism.upper()
    if mechanism == "PLAIN":
        prompts = [] if initial else ["334 "]
    elif mechanism == "LOGIN":
        prompts = ["334 UGFzc3dvcmQ6"] if initial else ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"]
    else:
        conn.send_line("504 5.5.4 Unrecognized authentication type")
        return False
    for prompt in prompts:
        conn.send_line(prompt)
        answer = conn.read_line()
        if answer is None:
            return None
        if answer == "*":
            conn.send_line("501 5.7.0 Authentication cancelled")
            return False
    return True


def smtp(
    *,
    greeting: str = SMTP_GREETING,
    host_name: str = "mx.example.test",
    auth_reply: str | _Drop = SMTP_BAD_CREDENTIALS,
    auth_on_plaintext: bool = False,
    auth_mechanisms: str = "LOGIN PLAIN",
) -> Behaviour:
    """An SMTP submission server whose AUTH (PLAIN or LOGIN) always ends with `auth_reply` (DROP closes).
    EHLO advertises `AUTH <auth_mechanisms>` (e.g. "XOAUTH2 OAUTHBEARER" for an OAuth-only server).

    With tls="starttls", EHLO offers STARTTLS and, like Microsoft 365, AUTH only after it unless
    `auth_on_plaintext`. Mail is refused until AUTH succeeded and is never delivered.
    """

    def play(conn: Conn) -> None:
        authenticated = False
        conn.send_line(greeting)
        while (line := conn.read_line()) is not None:
            command, _, args = line.partition(" ")
            command = command.upper()
            if command == "EHLO":
                lines = [
                    f"{host_name} Hello [127.0.0.1]",
                    "SIZE 36700160",
                    "PIPELINING",
                    "ENHANCEDSTATUSCODES",
                    "8BITMIME",
                ]
                if conn.can_start_tls:
                    lines.append("STARTTLS")
                if conn.tls_active or not conn.can_start_tls or auth_on_plaintext:
                    lines.append(f"AUTH {auth_mechanisms}")
                for index, item in enumerate(lines):
                    conn.send_line(("250 " if index == len(lines) - 1 else "250-") + item)
            elif command == "HELO":
                conn.send_line(f"250 {host_name}")
            elif command == "STARTTLS" and conn.can_start_tls:
                conn.send_line("220 2.0.0 Ready to start TLS")
                conn.start_tls()
                authenticated = False
            elif command == "AUTH":
                outcome = _smtp_auth_exchange(conn, args)
                if outcome is None:
                    return
                if outcome:
                    if isinstance(auth_reply, _Drop):
                        return
                    conn.send_line(auth_reply)
                    authenticated = auth_reply.startswith("235")
            elif command in ("MAIL", "RCPT"):
                conn.send_line("250 2.1.0 OK" if authenticated else "530 5.7.57 Client not authenticated to send mail")
            elif command == "DATA" and authenticated:
                conn.send_line("354 End data with <CR><LF>.<CR><LF>")
                while conn.read_line() not in (None, "."):
                    pass
                conn.send_line("250 2.0.0 OK (scripted test server, not delivered)")
            elif command in ("RSET", "NOOP"):
                conn.send_line("250 2.0.0 OK")
            elif command == "QUIT":
                conn.send_line("221 2.0.0 Bye")
                return
            else:
                conn.send_line("500 5.5.2 Error: command not recognized")

    return play


def smtp_microsoft365(
    variant: Literal["basic_auth_disabled", "auth_unsuccessful"] = "basic_auth_disabled",
) -> Behaviour:
    """Microsoft 365-like submission: AUTH answers 535 5.7.139 (basic auth disabled) or 535 5.7.3."""
    return smtp(
        greeting=M365_GREETING, host_name="AM0PR01MB0000.outlook.office365.com", auth_reply=M365_REPLIES[variant]
    )


# --- Failures -----------------------------------------------------------------------------------------
def drop_during_auth(protocol: Protocol) -> Behaviour:
    """Closes the connection on IMAP LOGIN/AUTHENTICATE, POP3 PASS or SMTP AUTH (after the SASL prompts)."""
    if protocol == "imap":
        return imap(login_reply=DROP)
    if protocol == "pop3":
        return pop3(pass_reply=DROP)
    return smtp(auth_reply=DROP, auth_on_plaintext=True)


def wrong_protocol_smtp() -> Behaviour:
    """An SMTP server, to put where an IMAP or POP3 server is expected."""
    return smtp()


def huge_banner(*, size: int = 10 * 1024 * 1024, newline: bool = False) -> Behaviour:
    """Sends a `size`-byte greeting (no line end unless `newline`), then holds the connection."""

    def play(conn: Conn) -> None:
        block = b"x" * 65536
        conn.send(b"* OK ")
        remaining = size
        while remaining > 0 and not conn.stopping.is_set():
            conn.send(block[: min(remaining, len(block))])
            remaining -= len(block)
        if newline:
            conn.send(b"\r\n")
        conn.wait_for_close()

    return play


def drip(*, interval: float = 1.0, byte: bytes = b"*") -> Behaviour:
    """Sends one byte every `interval` seconds, never a line end, until the client or the server stops."""

    def play(conn: Conn) -> None:
        while not conn.stopping.wait(interval):
            conn.send(byte)

    return play


def silent() -> Behaviour:
    """Accepts and never says anything (greeting timeout)."""

    def play(conn: Conn) -> None:
        conn.wait_for_close()

    return play


def greet_late(behaviour: Behaviour, *, delay: float) -> Behaviour:
    """Plays `behaviour` only after `delay` seconds of silence (a server slow to greet, e.g. a slow DNS check)."""

    def play(conn: Conn) -> None:
        if not conn.stopping.wait(delay):
            behaviour(conn)

    return play


def close_at_once() -> Behaviour:
    """Accepts and closes before any greeting."""

    def play(conn: Conn) -> None:
        return None

    return play


__all__ = [
    "Behaviour",
    "Protocol",
    "DROP",
    "GMAIL_GREETING",
    "GMAIL_CAPABILITIES",
    "GMAIL_APP_PASSWORD",
    "GMAIL_WEB_LOGIN",
    "GMAIL_INVALID_CREDENTIALS",
    "GMAIL_REPLIES",
    "EXCHANGE_GREETING",
    "EXCHANGE_CAPABILITIES",
    "EXCHANGE_LOGIN_FAILED",
    "IMAP_GREETING",
    "IMAP_CAPABILITIES",
    "IMAP_LOGIN_OK",
    "RFC5530_TEXTS",
    "POP3_GREETING",
    "POP3_AUTH_FAILED",
    "POP3_SYS_TEMP",
    "POP3_SYS_PERM",
    "POP3_IN_USE",
    "POP3_LOGIN_DELAY",
    "POP3_PASS_OK",
    "SMTP_GREETING",
    "M365_GREETING",
    "M365_BASIC_AUTH_DISABLED",
    "M365_AUTH_UNSUCCESSFUL",
    "M365_REPLIES",
    "SMTP_BAD_CREDENTIALS",
    "SMTP_AUTH_OK",
    "imap",
    "imap_gmail",
    "imap_exchange",
    "imap_login_code",
    "pop3",
    "smtp",
    "smtp_microsoft365",
    "drop_during_auth",
    "wrong_protocol_smtp",
    "huge_banner",
    "drip",
    "silent",
    "greet_late",
    "close_at_once",
]
