"""Probe options for tests against loopback servers (not a test module: shared by test_probes_*.py)."""

from diagnostics.probes.net import ProbeOptions

LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]


def loopback_options(
    *, ca_file=None, connect_timeout: float = 2.0, step_timeout: float = 5.0, **kwargs
) -> ProbeOptions:
    return ProbeOptions.build(
        allowed_networks=LOOPBACK_NETWORKS,
        ca_file=str(ca_file) if ca_file else None,
        connect_timeout=connect_timeout,
        step_timeout=step_timeout,
        nameservers=("127.0.0.1:9",),  # never the machine's resolver; loopback names come from /etc/hosts
        **kwargs,
    )
