"""Settings discovery: local-hit latency, a full network miss under the deadline, and the probe connections of a
full guess, each against a raw limit measured in the same run.

    make bench                       (runs this after the re-check benchmark)
    .venv/bin/python -m tests.benchmarks.discovery_latency --samples 200

Everything runs on loopback: the DNS server of tests/servers, and for the miss a loopback address of its own where
nothing listens (every connection refused at once), or where a counting listener accepts each connection and
closes it. No time is asserted; exit code 1 only when a result is wrong (a miss that is not a guess, a detection
past its deadline), 2 when it cannot start (not root: the guess needs ports below 1024).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from accounts.models import User  # noqa: E402
from diagnostics.discovery.guess import ALL_PROBE_PORTS  # noqa: E402
from diagnostics.probes.dns import resolve_addresses  # noqa: E402
from mailsettings import ispdb  # noqa: E402
from mailsettings.api import ProviderDetectView  # noqa: E402
from mailsettings.discovery import detect, network_answer_forget  # noqa: E402
from tests.servers.dns_server import running_dns_server  # noqa: E402
from tests.servers.ports import ServerUnavailable, free_loopback_address  # noqa: E402

LOCAL_ADDRESS = "taro@ocn.ne.jp"
MISS_DOMAIN = "nothing-here.example"


def _median_ms(fn, samples: int) -> tuple[float, float, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times)


class CountingListeners:
    """Accept on each port of `address` and close at once, counting connections (what a full guess opens)."""

    def __init__(self, address: str, ports) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks = []
        for port in ports:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(64)
            sock.settimeout(0.05)
            self._socks.append(sock)
        self._threads = [threading.Thread(target=self._serve, args=(s,), daemon=True) for s in self._socks]
        for thread in self._threads:
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.count += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1)
        for sock in self._socks:
            sock.close()


def _zone(address: str) -> dict:
    names = [f"{p}{MISS_DOMAIN}" for p in ("", "imap.", "pop3.", "pop.", "mail.", "smtp.", "autoconfig.")]
    return {name: {"A": [address]} for name in names}


def local_hit(samples: int) -> None:
    factory = APIRequestFactory()
    actor = User(id=1, email="bench@example.test", is_superuser=True)
    view = ProviderDetectView.as_view()

    def api() -> None:
        request = factory.get("/api/v1/providers/detect/", {"address": LOCAL_ADDRESS, "mode": "local"})
        force_authenticate(request, user=actor)
        response = view(request)
        assert response.status_code == 200 and response.data["source"] == "ispdb", response.data

    started = time.perf_counter()
    ispdb._bundle_at.cache_clear()
    ispdb.bundle()
    cold = (time.perf_counter() - started) * 1000
    raw = _median_ms(lambda: ispdb.lookup("ocn.ne.jp"), samples)
    local = _median_ms(lambda: detect(LOCAL_ADDRESS, network=False), samples)
    full = _median_ms(lambda: detect(LOCAL_ADDRESS), samples)  # a local hit never waits on the network
    through_api = _median_ms(api, samples)
    print(f"local hit ({LOCAL_ADDRESS}), {samples} samples each, median (min-max) ms:")
    print(f"  raw limit: ISPDB index lookup       {raw[0]:8.4f}  ({raw[1]:.4f}-{raw[2]:.4f})")
    for label, figure in (("detect(network=False)", local), ("detect() (full mode, local hit)", full),
                          ("GET providers/detect/ (view)", through_api)):
        print(f"  {label:36s}{figure[0]:8.3f}  ({figure[1]:.3f}-{figure[2]:.3f})  = {figure[0] / raw[0]:7.0f} x raw;"
              f" target < 50 ms: {'yes' if figure[0] < 50 else 'NO'}")
    print(f"  reading the bundle once per process (163 files): {cold:.1f} ms")


def network_miss(samples: int) -> bool:
    ok = True
    address = free_loopback_address(ports=(443, *sorted(ALL_PROBE_PORTS)))
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with running_dns_server(_zone(address)) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        nameservers = tuple(settings.DNS_NAMESERVERS)

        def bare() -> None:  # one name resolved and one refused connection: the floor of every network step
            resolve_addresses(f"imap.{MISS_DOMAIN}", timeout=2, nameservers=nameservers)
            with contextlib.suppress(OSError), socket.create_connection((address, 993), timeout=2):
                pass

        raw = _median_ms(bare, samples)

        def miss() -> None:
            network_answer_forget(MISS_DOMAIN)
            detection = detect(f"x@{MISS_DOMAIN}", actor_id=None)
            if detection.source != "guess":
                raise AssertionError(f"a miss answered {detection.source}")

        settings.DISCOVERY_PROBE_RATE_DOMAIN = "1000000/hour"
        timed = _median_ms(miss, max(3, samples // 20))
        deadline_ms = settings.DISCOVERY_DEADLINE * 1000
        print(f"full network miss ({MISS_DOMAIN}: autoconfig, well-known, SRV, MX, then a full guess; every connection"
              f" refused), median (min-max) ms:")
        print(f"  raw limit: one DNS lookup + one refused connect {raw[0]:8.3f}  ({raw[1]:.3f}-{raw[2]:.3f})")
        print(f"  detect()                                   {timed[0]:8.1f}  ({timed[1]:.1f}-{timed[2]:.1f})"
              f"  = {timed[0] / raw[0]:.0f} x raw, {timed[0] / deadline_ms:.3f} of the {deadline_ms:.0f} ms deadline")
        ok = ok and timed[2] < deadline_ms + 1000

        listeners = CountingListeners(address, sorted(ALL_PROBE_PORTS))
        try:
            network_answer_forget(MISS_DOMAIN)
            started = time.perf_counter()
            detection = detect(f"x@{MISS_DOMAIN}", actor_id=None)
            elapsed = (time.perf_counter() - started) * 1000
            time.sleep(0.2)
        finally:
            listeners.close()
        print(f"full guess against listeners that accept and close: {listeners.count} probe connections opened "
              f"(plan: 20 host/port attempts: imap., pop3., pop., mail. and the bare domain on 993/143 or 995/110, "
              f"smtp., mail. and the bare domain on 465/587), {elapsed:.0f} ms, answer: {detection.source}")
        ok = ok and detection.source == "guess"
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root: the guess probes ports below 1024 on a loopback address of its own", file=sys.stderr)
        return 2
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}; deadline {settings.DISCOVERY_DEADLINE} s")
    local_hit(args.samples)
    try:
        ok = network_miss(args.samples)
    except ServerUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
