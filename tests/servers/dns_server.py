"""A tiny authoritative DNS server on 127.0.0.1 (UDP and TCP, same port) serving a zone dict, for tests.

    zone = {
        "acme.example": {"MX": ["10 aspmx.l.google.com.", "20 alt1.aspmx.l.google.com."]},
        "www.acme.example": {"CNAME": ["acme.example."]},
        "nomx.example": {"A": ["192.0.2.1"]},      # exists, no MX  -> NoAnswer
    }                                              # any other name -> NXDOMAIN
    with running_dns_server(zone, servfail={"broken.example"}, drop={"slow.example"}) as server:
        resolver = server.resolver(lifetime=0.5)   # dns.resolver.Resolver aimed at this server only
        ...
    server.queries  # [("acme.example", "MX", "udp"), ...] in arrival order

`silent=True` reads every query and answers none (a black-holed DNS server). Built on dnspython's message and
wire code, so answers are real DNS packets; nothing leaves the loopback interface.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

LOOPBACK = "127.0.0.1"


def _key(name: str | dns.name.Name) -> str:
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    return text.rstrip(".").lower()


class DnsServer:
    def __init__(
        self,
        zone: Mapping[str, Mapping[str, Iterable[str]]],
        *,
        servfail: Iterable[str] = (),
        drop: Iterable[str] = (),
        silent: bool = False,
        ttl: int = 300,
    ) -> None:
        self.zone = {
            _key(name): {rtype.upper(): list(values) for rtype, values in records.items()}
            for name, records in zone.items()
        }
        self.servfail = {_key(name) for name in servfail}
        self.drop = {_key(name) for name in drop}
        self.silent = silent
        self.ttl = ttl
        self.queries: list[tuple[str, str, str]] = []
        self.port = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None

    # --- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> DnsServer:
        # The resolver uses one port for UDP and TCP: find a port free for both.
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((LOOPBACK, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((LOOPBACK, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            break
        else:  # pragma: no cover
            raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")
        udp.settimeout(0.1)
        tcp.settimeout(0.1)
        self._udp, self._tcp, self.port = udp, tcp, port
        for target in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=target, name=f"dns-{target.__name__}-{port}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def resolver(self, *, lifetime: float = 1.0) -> dns.resolver.Resolver:
        """A resolver that asks only this server (no /etc/resolv.conf, no cache)."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [LOOPBACK]
        resolver.port = self.port
        resolver.lifetime = lifetime
        resolver.timeout = lifetime
        resolver.cache = None
        return resolver

    # --- answering ----------------------------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The response to one query in wire form, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - garbage in: ignore it like a real server would
            return None
        if not query.question:
            return None
        question = query.question[0]
        name = _key(question.name)
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype), transport))
        if self.silent or name in self.drop:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        records = self.zone.get(name)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        rtype = dns.rdatatype.to_text(question.rdtype)
        owner = question.name
        if rtype != "CNAME" and "CNAME" in records:
            # One level of aliasing, answered in the same response as a real server does.
            target = records["CNAME"][0]
            response.answer.append(self._rrset(owner, "CNAME", [target]))
            owner, records = dns.name.from_text(target), self.zone.get(_key(target), {})
        if rtype in records:
            response.answer.append(self._rrset(owner, rtype, records[rtype]))
        return response.to_wire()

    def _rrset(self, owner: dns.name.Name, rtype: str, values: list[str]) -> dns.rrset.RRset:
        return dns.rrset.from_text_list(owner, self.ttl, dns.rdataclass.IN, rtype, values)

    def _serve_udp(self) -> None:
        assert self._udp is not None
        while not self._stop.is_set():
            try:
                wire, peer = self._udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(wire, "udp")
            if reply is not None:
                self._udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        assert self._tcp is not None
        while not self._stop.is_set():
            try:
                conn, _peer = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_tcp_connection, args=(conn,), daemon=True).start()

    def _serve_tcp_connection(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2.0)
            try:
                while not self._stop.is_set():
                    header = _read_exactly(conn, 2)
                    if header is None:
                        return
                    wire = _read_exactly(conn, struct.unpack("!H", header)[0])
                    if wire is None:
                        return
                    reply = self.answer(wire, "tcp")
                    if reply is None:
                        # Hold the connection open and say nothing, like a black-holed server.
                        self._stop.wait(5.0)
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return


def _read_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


@contextlib.contextmanager
def running_dns_server(
    zone: Mapping[str, Mapping[str, Iterable[str]]],
    *,
    servfail: Iterable[str] = (),
    drop: Iterable[str] = (),
    silent: bool = False,
    ttl: int = 300,
) -> Iterator[DnsServer]:
    server = DnsServer(zone, servfail=servfail, drop=drop, silent=silent, ttl=ttl)
    with server:
        yield server
