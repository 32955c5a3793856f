"""The bundled table of well-known mail providers: their servers and their quirks.

Sources: each provider's published settings, cross-checked with Thunderbird's ISPDB (github.com/thunderbird/
autoconfig). Flags are set only where the behaviour is documented or widely reported; when in doubt a flag is
left off, because a wrong warning sends people after a problem they don't have.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailsettings.vocabulary import INCOMING_PROTOCOLS, Protocol, Security

# Short names for the table below; the words themselves are mailsettings.vocabulary's.
SSL, STARTTLS, NONE = Security.SSL, Security.STARTTLS, Security.NONE
IMAP, POP3 = Protocol.IMAP, Protocol.POP3
PROTOCOLS = INCOMING_PROTOCOLS

# Provider.app_password values (rules, not secrets)
# with_2fa: an app password, which exists only once two-step sign-in is on;
# always: other mail apps must use an app password, whatever the sign-in settings.
APP_PASSWORD_WITH_2FA = "with_2fa"  # noqa: S105
APP_PASSWORD_ALWAYS = "always"  # noqa: S105


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    security: str  # a Security value

    def to_dict(self) -> dict:
        return {"host": self.host, "port": self.port, "security": self.security}


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    imap: ServerSettings | None = None  # None: no IMAP (an ISPDB or autoconfig entry may list POP3 only)
    smtp: ServerSettings | None = None
    pop3: ServerSettings | None = None
    domains: tuple[str, ...] = ()  # address domains served by this provider (ASCII, lower case)
    mx_suffixes: tuple[str, ...] = ()  # an MX host equal to or under one of these means this provider
    host_suffixes: tuple[str, ...] = ()  # server names that belong to the provider (configured-host checks)
    app_password: str | None = None  # APP_PASSWORD_WITH_2FA, APP_PASSWORD_ALWAYS or None
    oauth_required: bool = False  # passwords (even app passwords) are refused for IMAP/POP3
    saves_sent_mail: bool = False  # its SMTP server files a copy in Sent by itself
    bridge_required: bool = False  # reachable only through a local bridge app
    enable_access: frozenset[str] = frozenset()  # protocols to switch on in the webmail settings first

    def incoming(self, protocol: str) -> ServerSettings | None:
        return self.imap if protocol == IMAP else self.pop3


def _s(host: str, port: int, security: str) -> ServerSettings:
    return ServerSettings(host=host, port=port, security=security)


_GOOGLE_HOSTS = ("gmail.com", "googlemail.com", "google.com")
_MICROSOFT_HOSTS = ("office365.com", "outlook.com", "office.com", "hotmail.com", "live.com")

GMAIL = Provider(
    id="gmail",
    name="Gmail",
    imap=_s("imap.gmail.com", 993, SSL),
    pop3=_s("pop.gmail.com", 995, SSL),
    smtp=_s("smtp.gmail.com", 587, STARTTLS),
    domains=("gmail.com", "googlemail.com"),
    host_suffixes=_GOOGLE_HOSTS,
    # Google refuses the account password for IMAP/SMTP; app passwords need 2-Step Verification.
    app_password=APP_PASSWORD_WITH_2FA,
    saves_sent_mail=True,  # smtp.gmail.com files sent mail in [Gmail]/Sent Mail
    enable_access=frozenset({POP3}),  # IMAP is always on; POP must be enabled in Gmail's settings
)

GOOGLE_WORKSPACE = Provider(
    id="google_workspace",
    name="Google Workspace",
    imap=GMAIL.imap,
    pop3=GMAIL.pop3,
    smtp=GMAIL.smtp,
    # aspmx.l.google.com, alt1.aspmx.l.google.com, smtp.google.com, aspmx2.googlemail.com ...
    mx_suffixes=("google.com", "googlemail.com"),
    host_suffixes=_GOOGLE_HOSTS,
    app_password=APP_PASSWORD_WITH_2FA,
    saves_sent_mail=True,
    enable_access=frozenset({POP3}),
)

OUTLOOK_COM = Provider(
    id="outlook_com",
    name="Outlook.com",
    imap=_s("outlook.office365.com", 993, SSL),
    pop3=_s("outlook.office365.com", 995, SSL),
    smtp=_s("smtp-mail.outlook.com", 587, STARTTLS),
    domains=(
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "windowslive.com",
        "passport.com",
        "outlook.jp",
        "hotmail.co.jp",
        "live.jp",
        "hotmail.co.uk",
        "live.co.uk",
        "outlook.de",
        "hotmail.de",
        "outlook.fr",
        "hotmail.fr",
        "live.fr",
        "outlook.es",
        "hotmail.es",
        "outlook.it",
        "hotmail.it",
        "live.it",
    ),
    mx_suffixes=("olc.protection.outlook.com",),  # outlook-com.olc.protection.outlook.com
    host_suffixes=_MICROSOFT_HOSTS,
    # Since 16 September 2024 Outlook.com accepts only modern authentication (OAuth) from other apps.
    oauth_required=True,
    saves_sent_mail=True,
    enable_access=frozenset({POP3}),  # POP is off until enabled in Outlook.com's settings
)

MICROSOFT_365 = Provider(
    id="microsoft_365",
    name="Microsoft 365",
    imap=_s("outlook.office365.com", 993, SSL),
    pop3=_s("outlook.office365.com", 995, SSL),
    smtp=_s("smtp.office365.com", 587, STARTTLS),
    domains=("onmicrosoft.com",),
    # <tenant>.mail.protection.outlook.com; newer tenants with DNSSEC: <tenant>.<x>.mx.microsoft
    mx_suffixes=("mail.protection.outlook.com", "mx.microsoft"),
    host_suffixes=_MICROSOFT_HOSTS,
    # Exchange Online turned basic authentication off for IMAP and POP3 (October 2022).
    oauth_required=True,
    saves_sent_mail=True,  # SMTP submission through Exchange Online files the message in Sent Items
)

YAHOO = Provider(
    id="yahoo",
    name="Yahoo Mail",
    imap=_s("imap.mail.yahoo.com", 993, SSL),
    pop3=_s("pop.mail.yahoo.com", 995, SSL),
    smtp=_s("smtp.mail.yahoo.com", 465, SSL),
    domains=(
        "yahoo.com",
        "ymail.com",
        "rocketmail.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.it",
        "yahoo.es",
        "yahoo.ca",
        "yahoo.com.au",
        "yahoo.co.in",
        "yahoo.com.br",
        "yahoo.com.mx",
        "yahoo.com.sg",
        "yahoo.com.hk",
        "yahoo.com.tw",
    ),
    host_suffixes=("yahoo.com",),
    app_password=APP_PASSWORD_ALWAYS,
)

YAHOO_JAPAN = Provider(
    id="yahoo_japan",
    name="Yahoo! JAPAN Mail",
    imap=_s("imap.mail.yahoo.co.jp", 993, SSL),
    pop3=_s("pop.mail.yahoo.co.jp", 995, SSL),
    smtp=_s("smtp.mail.yahoo.co.jp", 465, SSL),
    domains=("yahoo.co.jp", "ymail.ne.jp"),
    host_suffixes=("yahoo.co.jp",),
    enable_access=frozenset({IMAP, POP3}),  # IMAP/POP/SMTP access is switched on in the mail settings
)

AOL = Provider(
    id="aol",
    name="AOL Mail",
    imap=_s("imap.aol.com", 993, SSL),
    pop3=_s("pop.aol.com", 995, SSL),
    smtp=_s("smtp.aol.com", 465, SSL),
    domains=("aol.com", "aim.com", "aol.co.uk", "aol.de", "aol.fr"),
    host_suffixes=("aol.com",),
    app_password=APP_PASSWORD_ALWAYS,
)

ICLOUD = Provider(
    id="icloud",
    name="iCloud Mail",
    imap=_s("imap.mail.me.com", 993, SSL),
    smtp=_s("smtp.mail.me.com", 587, STARTTLS),
    # no POP3 at iCloud
    domains=("icloud.com", "me.com", "mac.com"),
    mx_suffixes=("mail.icloud.com",),  # custom domains: mx01.mail.icloud.com, mx02.mail.icloud.com
    host_suffixes=("me.com", "icloud.com"),
    app_password=APP_PASSWORD_ALWAYS,  # Apple: app-specific password for every third-party app
    # Reports disagree on whether smtp.mail.me.com files a Sent copy: left off.
)

GMX_NET = Provider(
    id="gmx_net",
    name="GMX (gmx.net / gmx.de)",
    imap=_s("imap.gmx.net", 993, SSL),
    pop3=_s("pop.gmx.net", 995, SSL),
    smtp=_s("mail.gmx.net", 587, STARTTLS),
    domains=("gmx.net", "gmx.de", "gmx.at", "gmx.ch", "gmx.eu", "gmx.biz", "gmx.org", "gmx.info"),
    host_suffixes=("gmx.net", "gmx.de"),
    enable_access=frozenset({IMAP, POP3}),  # "POP3/IMAP Abruf" must be allowed once in the settings
)

GMX_COM = Provider(
    id="gmx_com",
    name="GMX (gmx.com)",
    imap=_s("imap.gmx.com", 993, SSL),
    pop3=_s("pop.gmx.com", 995, SSL),
    smtp=_s("mail.gmx.com", 587, STARTTLS),
    domains=("gmx.com", "gmx.us", "gmx.co.uk", "gmx.fr", "gmx.es", "gmx.it", "gmx.ca", "gmx.com.br"),
    host_suffixes=("gmx.com",),
)

YANDEX = Provider(
    id="yandex",
    name="Yandex Mail",
    imap=_s("imap.yandex.com", 993, SSL),
    pop3=_s("pop.yandex.com", 995, SSL),
    smtp=_s("smtp.yandex.com", 465, SSL),
    domains=("yandex.ru", "yandex.com", "ya.ru", "yandex.by", "yandex.kz", "yandex.ua", "narod.ru"),
    mx_suffixes=("mx.yandex.net", "mx.yandex.ru"),  # Yandex 360 custom domains
    host_suffixes=("yandex.com", "yandex.ru", "yandex.net"),
    app_password=APP_PASSWORD_ALWAYS,
    enable_access=frozenset({IMAP, POP3}),  # "Email clients" must be allowed in the mail settings
)

MAIL_RU = Provider(
    id="mail_ru",
    name="Mail.ru",
    imap=_s("imap.mail.ru", 993, SSL),
    pop3=_s("pop.mail.ru", 995, SSL),
    smtp=_s("smtp.mail.ru", 465, SSL),
    domains=("mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru"),
    mx_suffixes=("emx.mail.ru",),  # Mail.ru for business custom domains
    host_suffixes=("mail.ru",),
    app_password=APP_PASSWORD_ALWAYS,  # "password for external applications"
)

FASTMAIL = Provider(
    id="fastmail",
    name="Fastmail",
    imap=_s("imap.fastmail.com", 993, SSL),
    pop3=_s("pop.fastmail.com", 995, SSL),
    smtp=_s("smtp.fastmail.com", 465, SSL),
    domains=("fastmail.com", "fastmail.fm"),
    mx_suffixes=("messagingengine.com",),  # in1-smtp.messagingengine.com
    host_suffixes=("fastmail.com", "messagingengine.com"),
    app_password=APP_PASSWORD_ALWAYS,
)

PROTON_BRIDGE = Provider(
    id="proton_bridge",
    name="Proton Mail (Bridge)",
    # Bridge's defaults; it runs on the user's own computer and may pick other ports.
    imap=_s("127.0.0.1", 1143, STARTTLS),
    smtp=_s("127.0.0.1", 1025, STARTTLS),
    domains=("proton.me", "protonmail.com", "protonmail.ch", "pm.me"),
    mx_suffixes=("protonmail.ch",),  # mail.protonmail.ch, mailsec.protonmail.ch
    host_suffixes=("127.0.0.1", "localhost"),
    saves_sent_mail=True,  # Bridge always files sent mail in Sent (it de-duplicates client copies)
    bridge_required=True,
)

DOCOMO = Provider(
    id="docomo",
    name="docomo mail",
    imap=_s("imap.spmode.ne.jp", 993, SSL),
    smtp=_s("smtp.spmode.ne.jp", 465, SSL),
    # no POP3 for docomo mail
    domains=("docomo.ne.jp",),
    host_suffixes=("spmode.ne.jp",),
    enable_access=frozenset({IMAP}),  # use from other mail apps must be switched on for the d ACCOUNT
)

ZOHO_MAIL = Provider(
    id="zoho",
    name="Zoho Mail",
    imap=_s("imap.zoho.com", 993, SSL),
    pop3=_s("pop.zoho.com", 995, SSL),
    smtp=_s("smtp.zoho.com", 465, SSL),
    domains=("zoho.com", "zohomail.com"),
    host_suffixes=("zoho.com",),
    app_password=APP_PASSWORD_WITH_2FA,
    saves_sent_mail=True,  # reported: Zoho files mail sent through its SMTP in Sent
    enable_access=frozenset({IMAP, POP3}),
)


def _zoho_organization(region_suffix: str, label: str, provider_id: str) -> Provider:
    # Organization (custom-domain) accounts use the *pro servers of their data centre.
    return Provider(
        id=provider_id,
        name=f"Zoho Mail ({label})",
        imap=_s(f"imappro.{region_suffix}", 993, SSL),
        pop3=_s(f"poppro.{region_suffix}", 995, SSL),
        smtp=_s(f"smtppro.{region_suffix}", 465, SSL),
        mx_suffixes=(region_suffix,),  # mx.zoho.eu, mx2.zoho.eu, mx3.zoho.eu
        host_suffixes=(region_suffix,),
        app_password=APP_PASSWORD_WITH_2FA,
        saves_sent_mail=True,
        enable_access=frozenset({IMAP, POP3}),
    )


PROVIDERS: tuple[Provider, ...] = (
    GMAIL,
    GOOGLE_WORKSPACE,
    OUTLOOK_COM,
    MICROSOFT_365,
    YAHOO,
    YAHOO_JAPAN,
    AOL,
    ICLOUD,
    GMX_NET,
    GMX_COM,
    YANDEX,
    MAIL_RU,
    FASTMAIL,
    PROTON_BRIDGE,
    DOCOMO,
    ZOHO_MAIL,
    _zoho_organization("zoho.com", "organization", "zoho_workplace"),
    _zoho_organization("zoho.eu", "EU", "zoho_workplace_eu"),
    _zoho_organization("zoho.in", "India", "zoho_workplace_in"),
    _zoho_organization("zoho.com.au", "Australia", "zoho_workplace_au"),
    _zoho_organization("zoho.jp", "Japan", "zoho_workplace_jp"),
)
