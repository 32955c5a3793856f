"""Thunderbird's ISPDB format (clientConfig 1.1): parse, validate, index. Pure: files and text, no network.

The bundled snapshot lives in mailsettings/data/ispdb/ (MPL-2.0 data, its LICENSE beside it). The same parser reads
a domain's own autoconfig file, which diagnostics fetches. defusedxml refuses DTDs, entities and external
references: the text may come from any server on the internet.

Validation follows the port rules of mailsettings.ports. A server that contradicts them (POP3 on 993, IMAP on 587,
implicit TLS on a STARTTLS port, a port no mail protocol uses) or carries a broken placeholder (`%EMAILADDRESS`)
keeps its `flags` and is never chosen as an entry's default; plain text on a STARTTLS port is allowed (some
Japanese ISPs submit on 587 without TLS) and is warned about where the account is saved.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree.ElementTree import Element  # noqa: S405 - only the type; parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.conf import settings

from mailsettings import ports

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "ispdb"
MAX_FILE_BYTES = 256 * 1024  # the largest bundled file is 17 KB

SOCKET_TYPES = {"ssl": ports.SSL, "starttls": ports.STARTTLS, "plain": ports.NONE}
PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")
OAUTH2 = "OAuth2"
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

# ConfigServer.flags: why a server is not suggested blindly.
FLAG_PORT_OF_OTHER_PROTOCOL = "port_of_other_protocol"
FLAG_NONSTANDARD_PORT = "nonstandard_port"
FLAG_SECURITY_MISMATCH = "security_mismatch"
FLAG_BAD_PLACEHOLDER = "bad_placeholder"
FLAG_BAD_HOSTNAME = "bad_hostname"
FLAG_BAD_PORT = "bad_port"
FLAG_BAD_SOCKET_TYPE = "bad_socket_type"


class ConfigError(ValueError):
    """A file that is not a clientConfig we can read (malformed XML, DTD, too large, no usable server)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ConfigServer:
    protocol: str  # imap | pop3 | smtp
    host: str  # may hold %EMAILDOMAIN% until resolved
    port: int
    security: str  # the model's values: ssl | starttls | none
    username: str = "%EMAILADDRESS%"  # a template until resolved
    authentication: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.flags

    @property
    def oauth2_only(self) -> bool:
        return bool(self.authentication) and all(a == OAUTH2 for a in self.authentication)

    def resolved(self, *, local: str, domain: str) -> ConfigServer:
        """Placeholders replaced for one address (domain: ASCII). A broken placeholder stays as written."""
        values = {"%EMAILADDRESS%": f"{local}@{domain}", "%EMAILLOCALPART%": local, "%EMAILDOMAIN%": domain}

        def fill(text: str) -> str:
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            return text

        return replace(self, host=fill(self.host).lower(), username=fill(self.username))

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "host": self.host, "port": self.port, "security": self.security,
                "username": self.username, "authentication": list(self.authentication),
                **({"flags": list(self.flags)} if self.flags else {})}

    @classmethod
    def from_dict(cls, data: dict) -> ConfigServer:
        return cls(protocol=data["protocol"], host=data["host"], port=int(data["port"]), security=data["security"],
                   username=data.get("username", "%EMAILADDRESS%"),
                   authentication=tuple(data.get("authentication", ())), flags=tuple(data.get("flags", ())))


@dataclass(frozen=True)
class ClientConfig:
    """One emailProvider: its domains and its servers in file order (the first valid one of a kind is the
    default, the others alternatives, as Thunderbird reads them)."""

    id: str
    domains: tuple[str, ...]
    display_name: str
    incoming: tuple[ConfigServer, ...]
    outgoing: tuple[ConfigServer, ...]
    documentation_url: str | None = None
    origin: str = ""  # the file name, or the URL it came from
    ignored: tuple[str, ...] = field(default=(), compare=False)  # server types we do not offer (ews, owa...)

    def incoming_for(self, protocol: str) -> list[ConfigServer]:
        return [s for s in self.incoming if s.protocol == protocol]

    def default_outgoing(self) -> ConfigServer | None:
        return next((s for s in self.outgoing if s.valid), None)

    @property
    def flagged(self) -> list[ConfigServer]:
        return [s for s in (*self.incoming, *self.outgoing) if not s.valid]


# --- validation -------------------------------------------------------------------------------------------------

def _placeholder_ok(text: str) -> bool:
    rest = text
    for placeholder in PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    return "%" not in rest


def _hostname_ok(host: str) -> bool:
    name = host.replace("%EMAILDOMAIN%", "example.com").rstrip(".").lower()
    labels = name.split(".")
    return len(labels) > 1 and len(name) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def validate_server(server: ConfigServer) -> tuple[str, ...]:
    """Why this server must not be suggested blindly (empty when it agrees with the port rules)."""
    flags: list[str] = []
    if not _placeholder_ok(server.username) or not _placeholder_ok(server.host):
        flags.append(FLAG_BAD_PLACEHOLDER)
    if not _hostname_ok(server.host):
        flags.append(FLAG_BAD_HOSTNAME)
    securities = ports.standard_securities(server.protocol, server.port)
    if securities is None:
        others = [p for p in ports.protocols_of_port(server.port) if p != server.protocol]
        flags.append(FLAG_PORT_OF_OTHER_PROTOCOL if others else FLAG_NONSTANDARD_PORT)
    elif (server.security == ports.SSL) != (ports.SSL in securities):
        # Implicit TLS where the port starts in plain text, or the reverse: the connection cannot work.
        # Plain text on a STARTTLS port is a weaker choice, not a contradiction.
        flags.append(FLAG_SECURITY_MISMATCH)
    return tuple(flags)


# --- parsing ----------------------------------------------------------------------------------------------------

def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _lower_host(host: str) -> str:
    # Host names are case-insensitive; placeholders are not.
    lowered = host.lower()
    for placeholder in PLACEHOLDERS:
        lowered = lowered.replace(placeholder.lower(), placeholder)
    return lowered


def _server(element: Element, protocol: str) -> ConfigServer:
    raw_port, raw_socket = _text(element.find("port")), _text(element.find("socketType")).lower()
    flags: list[str] = []
    try:
        port = int(raw_port)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        port, flags = 0, [FLAG_BAD_PORT]
    security = SOCKET_TYPES.get(raw_socket)
    if security is None:
        security, flags = ports.NONE, [*flags, FLAG_BAD_SOCKET_TYPE]
    server = ConfigServer(
        protocol=protocol, host=_lower_host(_text(element.find("hostname"))), port=port, security=security,
        username=_text(element.find("username")) or "%EMAILADDRESS%",
        authentication=tuple(_text(a) for a in element.findall("authentication") if _text(a)),
    )
    if flags:
        return replace(server, flags=tuple(flags))
    return replace(server, flags=validate_server(server))


def parse_config(data: bytes | str, *, origin: str = "") -> ClientConfig:
    """One clientConfig document. Raises ConfigError(reason): too_large, malformed, forbidden_xml (DTD, entities),
    not_client_config, no_servers."""
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError("too_large")
    try:
        root = SafeET.fromstring(data)
    except SafeET.ParseError:
        raise ConfigError("malformed") from None
    except (ValueError, DefusedXmlException):  # DTDs, entities, external references
        raise ConfigError("forbidden_xml") from None
    provider = root.find("emailProvider") if root.tag == "clientConfig" else None
    if provider is None:
        raise ConfigError("not_client_config")
    incoming: list[ConfigServer] = []
    ignored: list[str] = []
    for element in provider.findall("incomingServer"):
        kind = (element.get("type") or "").lower()
        if kind in (ports.IMAP, ports.POP3):
            incoming.append(_server(element, kind))
        else:
            ignored.append(kind)
    outgoing = [_server(e, ports.SMTP) for e in provider.findall("outgoingServer")
                if (e.get("type") or "").lower() == ports.SMTP]
    if not incoming:
        raise ConfigError("no_servers")
    documentation = next((d.get("url") for d in provider.findall("documentation") if d.get("url")), None)
    domains = tuple(dict.fromkeys(_text(d).lower().rstrip(".") for d in provider.findall("domain") if _text(d)))
    return ClientConfig(
        id=provider.get("id") or origin, domains=domains,
        display_name=_text(provider.find("displayName")) or _text(provider.find("displayShortName")),
        incoming=tuple(incoming), outgoing=tuple(outgoing), documentation_url=documentation, origin=origin,
        ignored=tuple(ignored),
    )


# --- the bundle -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bundle:
    configs: tuple[ClientConfig, ...]
    by_domain: dict[str, ClientConfig]
    unreadable: dict[str, str]  # file name -> ConfigError reason
    folder: Path

    def lookup(self, domain: str) -> ClientConfig | None:
        return self.by_domain.get(domain)


def read_folder(folder: Path) -> Bundle:
    """Every *.xml file of a folder, indexed by each of its <domain> entries (the first file naming a domain
    keeps it; files are read in name order, so the index does not depend on the file system)."""
    configs: list[ClientConfig] = []
    unreadable: dict[str, str] = {}
    for path in sorted(folder.glob("*.xml")):
        try:
            configs.append(parse_config(path.read_bytes(), origin=path.name))
        except ConfigError as error:
            unreadable[path.name] = error.reason
    by_domain: dict[str, ClientConfig] = {}
    for config in configs:
        for domain in config.domains:
            by_domain.setdefault(domain, config)
    return Bundle(configs=tuple(configs), by_domain=by_domain, unreadable=unreadable, folder=folder)


def bundle_dir() -> Path:
    configured = getattr(settings, "MAILSETTINGS_ISPDB_DIR", "")
    return Path(configured) if configured else BUNDLED_DIR


@functools.lru_cache(maxsize=4)
def _bundle_at(folder: str, stamp: float) -> Bundle:
    return read_folder(Path(folder))


def bundle() -> Bundle:
    """The bundle in use, read once per process (again when the folder changes: a refresh swaps it)."""
    folder = bundle_dir()
    try:
        stamp = folder.stat().st_mtime
    except OSError:
        stamp = 0.0
    return _bundle_at(str(folder), stamp)


def lookup(domain: str) -> ClientConfig | None:
    return bundle().lookup(domain)


def domains_of(configs: Iterable[ClientConfig]) -> set[str]:
    return {d for c in configs for d in c.domains}


# --- refreshing the bundle --------------------------------------------------------------------------------------

MAX_FILES = 5000


def bundle_replace(*, files: dict[str, bytes], license_text: bytes, into: Path) -> Bundle:
    """Validate a new set of ISPDB files and swap it in for the folder `into`, LICENSE included. Nothing changes when
    no file is a readable clientConfig, the LICENSE is missing, or the set is absurdly large (ConfigError)."""
    if not license_text.strip():
        raise ConfigError("license_missing")
    if not files or len(files) > MAX_FILES:
        raise ConfigError("no_files" if not files else "too_many_files")
    readable = {}
    for name, data in files.items():
        safe = Path(name).name
        if not safe.endswith(".xml") or safe != name:
            continue
        try:
            parse_config(data, origin=safe)
        except ConfigError:
            continue  # reported by read_folder below, like a bundled file that cannot be read
        readable[safe] = data
    if not readable:
        raise ConfigError("no_readable_files")
    into = into.resolve()
    staging = into.with_name(into.name + ".new")
    old = into.with_name(into.name + ".old")
    for leftover in (staging, old):
        _remove_tree(leftover)
    staging.mkdir(parents=True)
    for name, data in files.items():
        if Path(name).name == name and name.endswith(".xml"):
            (staging / name).write_bytes(data)
    (staging / "LICENSE").write_bytes(license_text)
    readme = into / "README.md"
    if readme.exists():
        (staging / "README.md").write_bytes(readme.read_bytes())
    if into.exists():
        into.rename(old)
    staging.rename(into)
    _remove_tree(old)
    return read_folder(into)


def _remove_tree(path: Path) -> None:
    import shutil

    if path.exists():
        shutil.rmtree(path)
