"""Pure advice: a code -> what it means for the user and what to do, tied to a troubleshooting scenario.

The scenarios are docs/scenarios.md's. T6, T7 and T9 are about bindings and locks, not about servers, so no
diagnostic code leads there (they are answered by errors of mailsettings and locks).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from diagnostics.results import Code


class Scenario(enum.StrEnum):
    """The scenarios of docs/scenarios.md that a check answers; the values are the API's advice[].scenario."""

    CANNOT_CONNECT = "T1"
    CANNOT_AUTHENTICATE = "T2"
    CLOSED_DURING_SIGN_IN = "T3"
    SENDING_FAILS = "T4"
    MAIL_MISSING = "T5"
    EVERY_MAIL_TWICE = "T8"


@dataclass(frozen=True)
class Advice:
    code: Code
    scenario: Scenario | None
    title: Promise  # lazy: rendered in the reader's language
    steps: tuple[Promise, ...]


_CHECK_OTHER_CLIENT = _("Try the same server, port and security in another mail program; if it fails there too, "
                        "contact your mail provider or IT department.")

_ADVICE: dict[Code, Advice] = {
    Code.OK: Advice(Code.OK, None, _("Everything checked out"), (
        _("No action is needed."),
    )),
    Code.TARGET_NOT_ALLOWED: Advice(Code.TARGET_NOT_ALLOWED, None, _("This server or port cannot be tested"), (
        _("This service connects only to public addresses and to mail ports (IMAP 993/143, POP3 995/110, "
          "SMTP 465/587/25): the server name points to a private or reserved address, or the port is not a "
          "mail port."),
        _("Check that the server name is the public name your provider gives, not an internal one, and that the "
          "port is the one your provider lists."),
        _("If your organization runs its own mail server, ask the service operator to allow its network."),
    )),
    Code.DNS_NOT_FOUND: Advice(Code.DNS_NOT_FOUND, Scenario.CANNOT_CONNECT, _("The server name does not exist"), (
        _("Check the spelling of the server name (for example imap.example.com), with no spaces or "
          "\"http://\" in front."),
        _("Look up the exact server names in your mail provider's help pages."),
    )),
    Code.PORT_CLOSED: Advice(Code.PORT_CLOSED, Scenario.CANNOT_CONNECT,
                             _("The server refused the connection on this port"), (
        _("Check the port: incoming IMAP uses 993 (SSL/TLS) or 143 (STARTTLS); POP3 uses 995 or 110; outgoing "
          "SMTP uses 465 (SSL/TLS), 587 (STARTTLS) or 25."),
        _("Check that the server name belongs to your mail provider."),
        _CHECK_OTHER_CLIENT,
    )),
    Code.PORT_FILTERED: Advice(Code.PORT_FILTERED, Scenario.CANNOT_CONNECT,
                               _("The server did not answer on this port"), (
        _("The port may be blocked by a firewall, or the server may be down."),
        _("Check the port and the server name against your provider's settings."),
        _CHECK_OTHER_CLIENT,
    )),
    Code.WRONG_PROTOCOL: Advice(Code.WRONG_PROTOCOL, Scenario.CANNOT_CONNECT,
                                _("Another kind of server answers on this port"), (
        _("The port belongs to a different service (for example an outgoing mail port set as the incoming "
          "one). Use the port your provider gives for this protocol."),
        _("Check that IMAP, POP3 and SMTP settings are not swapped."),
    )),
    Code.TLS_HANDSHAKE_FAILED: Advice(Code.TLS_HANDSHAKE_FAILED, Scenario.CANNOT_CONNECT,
                                      _("A secure connection could not be set up"), (
        _("Check the security setting: SSL/TLS goes with ports 993, 995 and 465; STARTTLS with 143, 110 and 587."),
        _("If the settings are right, the server may only offer outdated encryption: contact your provider."),
    )),
    Code.TLS_CERTIFICATE_INVALID: Advice(Code.TLS_CERTIFICATE_INVALID, Scenario.CANNOT_CONNECT,
                                         _("The server's certificate is not valid"), (
        _("The details say why: expired, not issued for this server name, or not from a trusted authority."),
        _("Use the server name written in the certificate or in your provider's help, not an alias or an IP "
          "address."),
        _("If the certificate has expired, the server's administrator must renew it."),
    )),
    Code.STARTTLS_UNAVAILABLE: Advice(Code.STARTTLS_UNAVAILABLE, Scenario.CANNOT_CONNECT,
                                      _("The server does not offer STARTTLS on this port"), (
        _("Choose SSL/TLS with the matching port (993, 995 or 465) if your provider supports it."),
        _("Otherwise check the port: STARTTLS is usually offered on 143, 110 and 587."),
    )),
    Code.PLAINTEXT_LOGIN_REFUSED: Advice(Code.PLAINTEXT_LOGIN_REFUSED, Scenario.CANNOT_CONNECT,
                                         _("The server refuses to log in without encryption"), (
        _("Turn on SSL/TLS or STARTTLS in the security setting, with the matching port."),
    )),
    Code.AUTH_INVALID_CREDENTIALS: Advice(Code.AUTH_INVALID_CREDENTIALS, Scenario.CANNOT_AUTHENTICATE,
                                          _("The user name or password was not accepted"), (
        # IMAP [EXPIRED] and [CONTACTADMIN] land here too (their reason is in the details).
        _("If the server says the password has expired or asks you to contact the administrator, do that "
          "first, then run the check again."),
        _("Type the password by hand: a browser may have filled in an old one."),
        _("Check that the user name is the full address if your provider asks for it."),
        _("If it still fails, check whether the provider has locked or expired the password."),
    )),
    Code.AUTH_APP_PASSWORD_REQUIRED: Advice(Code.AUTH_APP_PASSWORD_REQUIRED, Scenario.CANNOT_AUTHENTICATE,
                                            _("Your provider requires an app password"), (
        _("Two-step verification is on for this account, so the normal password is not accepted by mail "
          "programs."),
        _("Create an app-specific password in your provider's account security settings."),
        _("Paste that app password here instead of your normal password."),
    )),
    Code.AUTH_WEB_LOGIN_REQUIRED: Advice(Code.AUTH_WEB_LOGIN_REQUIRED, Scenario.CANNOT_AUTHENTICATE,
                                         _("Your provider wants you to sign in on its website first"), (
        _("Sign in to your mail in a web browser and confirm any security prompt shown there."),
        _("Then run this check again; if two-step verification is on, use an app password."),
    )),
    Code.AUTH_BASIC_AUTH_DISABLED: Advice(Code.AUTH_BASIC_AUTH_DISABLED, Scenario.CANNOT_AUTHENTICATE,
                                          _("Password sign-in is turned off for this mailbox"), (
        _("The provider (for example Microsoft 365) has disabled sign-in with a password for mail programs."),
        _("Ask your mail administrator to allow authenticated IMAP/POP and SMTP for this mailbox, or to "
          "provide an app password."),
        _("Or sign in with Google or Microsoft instead, with the button on this page: no password is needed."),
    )),
    Code.DISCONNECTED_DURING_AUTH: Advice(Code.DISCONNECTED_DURING_AUTH, Scenario.CLOSED_DURING_SIGN_IN,
                                          _("The server closed the connection while logging in"), (
        _("This usually means the server details belong to another provider or the port or security setting "
          "is wrong."),
        _("Compare the server names with the ones your address's provider publishes and correct them."),
    )),
    Code.SMTP_AUTH_FAILED: Advice(Code.SMTP_AUTH_FAILED, Scenario.SENDING_FAILS,
                                  _("The outgoing server rejected the password"), (
        _("The outgoing (SMTP) password is wrong or has expired."),
        _("Enter the current password; if it changed, update it for both the incoming and the outgoing "
          "server at once."),
    )),
    Code.FOLDER_MISSING: Advice(Code.FOLDER_MISSING, Scenario.MAIL_MISSING,
                                _("A mail folder was not found on the server"), (
        _("Only the Inbox and the Sent folder on the server are synchronized."),
        _("Mail kept in folders of a desktop program exists only on that computer: move it to the server's "
          "Inbox or Sent folder from that program."),
        _("If the Sent folder is missing, send one message from your provider's webmail to create it."),
    )),
    Code.DUPLICATE_SENT_RISK: Advice(Code.DUPLICATE_SENT_RISK, Scenario.EVERY_MAIL_TWICE,
                                     _("Sent mail may appear twice"), (
        _("Your provider already saves a copy of every sent message."),
        _("Turn off \"Save sent mail on the server\" for this account."),
    )),
    Code.PROVIDER_MISMATCH: Advice(Code.PROVIDER_MISMATCH, Scenario.CLOSED_DURING_SIGN_IN,
                                   _("The servers do not belong to your address's provider"), (
        _("Your address's mail is handled by another provider than the configured servers."),
        _("Use the server names suggested here, or the ones in your provider's help pages."),
    )),
    Code.PORT_PROTOCOL_MISMATCH: Advice(Code.PORT_PROTOCOL_MISMATCH, Scenario.CANNOT_CONNECT,
                                        _("The port does not match the protocol or security"), (
        _("Incoming IMAP: 993 with SSL/TLS or 143 with STARTTLS. POP3: 995 with SSL/TLS or 110 with STARTTLS. "
          "Outgoing SMTP: 465 with SSL/TLS, 587 with STARTTLS, or 25."),
        _("Change the port or the security setting so they match."),
    )),
    Code.SERVER_BUSY: Advice(Code.SERVER_BUSY, Scenario.CANNOT_CONNECT,
                             _("The server is busy or temporarily unavailable"), (
        _("Wait a few minutes and run the check again."),
        _("If the server says there are too many connections: every mail program, phone and tablet that has "
          "this mailbox open keeps its own connections. Close the programs you do not need, or remove the "
          "mailbox from old devices, then check again."),
        # POP3 [SYS/PERM] lands here too: waiting does not help then.
        _("If the server says the mailbox is permanently unavailable, the provider refuses this mailbox: "
          "contact the provider."),
        _CHECK_OTHER_CLIENT,
    )),
    Code.PASSWORD_NEEDED: Advice(Code.PASSWORD_NEEDED, Scenario.CANNOT_AUTHENTICATE,
                                 _("Enter your password for the new server"), (
        _("The server settings of this account were changed by an administrator. Your stored password is sent "
          "only to the server you entered it for, so it was removed and sign-in was not tried."),
        _("Open Change password and enter your password for the new server; the account is checked again."),
    )),
    Code.TIMEOUT: Advice(Code.TIMEOUT, Scenario.CANNOT_CONNECT, _("The server stopped answering"), (
        _("Check that the security setting matches the port: a server expecting SSL/TLS waits silently for "
          "a client that does not start it."),
        _("Run the check again later; if it keeps happening, contact your provider."),
    )),
    Code.IMPLICIT_TLS_EXPECTED: Advice(Code.IMPLICIT_TLS_EXPECTED, Scenario.CANNOT_CONNECT,
                                       _("This port expects SSL/TLS from the first moment"), (
        _("The server on this port waits for an encrypted connection before it says anything, so with STARTTLS "
          "or no encryption it never answers."),
        _("Set the security to SSL/TLS for this port (the details show the suggested change), or keep STARTTLS "
          "and use the STARTTLS port: 143 for IMAP, 110 for POP3, 587 for SMTP."),
    )),
    # Not one of the nine scenarios: the server speaks to the person (a full mailbox, a password about to expire,
    # maintenance), which no troubleshooting scenario covers; its own words follow the advice.
    Code.SERVER_ALERT: Advice(Code.SERVER_ALERT, None, _("The mail server sent a message for you"), (
        _("Read the server's message shown here: it often says that the mailbox is nearly full, that the password "
          "will expire soon, or that maintenance is planned."),
        _("Do what it asks; if it describes a problem on the server's side, contact your mail provider or IT "
          "department."),
    )),
    **{advice.code: advice for advice in (
        Advice(Code.OAUTH_TOKEN_INVALID, Scenario.CANNOT_AUTHENTICATE,
               _("The mail server did not accept the sign-in"), (
            _("The server refused the access given by your provider's sign-in, even after renewing it."),
            _("Sign in again with the button on this page; if it keeps failing, check that IMAP/POP and SMTP "
              "are allowed for this mailbox."),
        )),
        Advice(Code.OAUTH_SCOPE_MISSING, Scenario.CANNOT_AUTHENTICATE, _("The sign-in does not allow access to mail"), (
            _("The permission to read and send mail was not granted when you signed in."),
            _("Sign in again and allow access to your mail on the provider's page."),
        )),
        Advice(Code.OAUTH_NOT_OFFERED, Scenario.CANNOT_AUTHENTICATE,
               _("This server does not accept sign-in with a provider account"), (
            _("The server does not offer XOAUTH2 or OAUTHBEARER, so it cannot be used with Google or Microsoft "
              "sign-in."),
            _("Check the server names: they must be your provider's (for example outlook.office365.com or "
              "imap.gmail.com). Otherwise connect with a password."),
        )),
        Advice(Code.REAUTH_REQUIRED, Scenario.CANNOT_AUTHENTICATE, _("Sign in again to keep this mailbox connected"), (
            _("Your provider no longer accepts the sign-in saved here: it was revoked, your password changed, "
              "or it was not used for months."),
            _("Sign in again with your provider (Google, Microsoft...) using the button on this page. Your settings "
              "are kept."),
        )),
    )},
    Code.PROTOCOL_DISABLED: Advice(Code.PROTOCOL_DISABLED, Scenario.CANNOT_AUTHENTICATE,
                                   _("IMAP or POP access is turned off for this mailbox"), (
        _("The password may well be right: the provider refuses mail programs until access is turned on. Do not "
          "retype the password."),
        _("Sign in to your webmail and turn on IMAP (or POP) access in its settings. Gmail: Settings > See all "
          "settings > Forwarding and POP/IMAP. Outlook.com: Settings > Mail > Forwarding and IMAP. Zoho Mail: "
          "Settings > Mail Accounts > IMAP (or POP). GMX and WEB.DE: Settings > POP3/IMAP. Yahoo! JAPAN: Mail "
          "settings > IMAP/POP/SMTP access."),
        _("Save the setting, wait a minute, then run the check again."),
    )),
    Code.PROTOCOL_DISABLED_BY_ADMIN: Advice(Code.PROTOCOL_DISABLED_BY_ADMIN, Scenario.CANNOT_AUTHENTICATE,
                                            _("Your organization has turned off IMAP or POP access"), (
        _("The password may well be right: the domain's administrator does not allow mail programs to connect "
          "with IMAP or POP. You cannot change this in your own settings."),
        _("Ask whoever manages your organization's mail (for Google Workspace: the Admin console > Gmail > "
          "End User Access; for Microsoft 365: the mailbox's email apps settings) to allow IMAP or POP for this "
          "mailbox, then run the check again."),
    )),
    Code.TLS_CERTIFICATE_EXPIRING: Advice(Code.TLS_CERTIFICATE_EXPIRING, Scenario.CANNOT_CONNECT,
                                          _("The server's certificate expires soon"), (
        _("Mail still works today. Once the certificate expires, every mail program will refuse to connect."),
        _("The details show the date and how many days are left. Tell the server's administrator (your "
          "provider or IT department) so that it is renewed in time."),
    )),
    Code.MAIL_RECORDS_PROBLEM: Advice(Code.MAIL_RECORDS_PROBLEM, Scenario.SENDING_FAILS,
                                      _("The domain's mail records have a problem"), (
        _("The domain's DNS records that tell other servers how to deliver and trust its mail have an error; "
          "mail may be rejected or land in spam."),
        _("Each record is shown with what was found and what to change. Hand this list to whoever manages the "
          "domain's DNS."),
    )),
    Code.SENT_COPY_MISSING: Advice(Code.SENT_COPY_MISSING, Scenario.MAIL_MISSING,
                                   _("Sent mail is not kept in the Sent folder"), (
        _("The test message was sent, but no copy appeared in the Sent folder on the server: your provider does "
          "not file sent mail, and \"Save sent mail on the server\" is off."),
        _("Turn on \"Save sent mail on the server\" for this account so that sent mail can be found later."),
    )),
    Code.SENT_COPY_DUPLICATED: Advice(Code.SENT_COPY_DUPLICATED, Scenario.EVERY_MAIL_TWICE,
                                      _("Every sent message is saved twice"), (
        _("Two copies of the test message were found in the Sent folder: your provider files every sent "
          "message itself, and \"Save sent mail on the server\" adds a second copy."),
        _("Turn off \"Save sent mail on the server\" for this account. Nothing else needs to change."),
    )),
    Code.SEND_FAILED: Advice(Code.SEND_FAILED, Scenario.SENDING_FAILS, _("The test message could not be sent"), (
        _("The outgoing server refused the message; the details show its answer."),
        _("Run the account check to see whether signing in to the outgoing server works."),
    )),
}


def advice_for(code: Code | str) -> Advice:
    """Advice for any code; raises ValueError for a string that is not a code."""
    return _ADVICE[Code(code)]

