"""Test hosts on this machine: network namespaces on a bridge, with addresses of their own.

Each host is a network namespace with one veth link to a bridge in the test's own namespace,
which carries an address too, so the test process reaches every host. Addresses come from
198.18.0.0/15, the range set aside for network tests (RFC 2544), in a /24 drawn at random so
that runs at once do not meet; names carry a random tag for the same reason. Nothing is
routed anywhere else. Everything is removed on exit, and any process still running in a
host is killed first, even when the test failed.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

COMMAND_SECONDS = 20


@dataclass(frozen=True)
class Host:
    """One namespace: its name, its address, its hostname, and its end of the link."""

    name: str
    namespace: str
    address: str
    bridge_side: str

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run in this host's network namespace, under its own hostname."""
        return [
            "ip", "netns", "exec", self.namespace,
            "unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.name, *argv,
        ]  # fmt: skip


@dataclass
class HostNetwork:
    """The bridge and the hosts on it; ``cut`` and ``restore`` take a host off and back on."""

    bridge: str
    bridge_address: str
    prefix: str
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def clients(self) -> str:
        """The CIDR of every address on the bridge."""
        return f"{self.prefix}.0/24"

    def cut(self, host: Host) -> None:
        """Take the host's link down: it reaches nothing, and nothing reaches it."""
        _ip("link", "set", host.bridge_side, "down")

    def restore(self, host: Host) -> None:
        _ip("link", "set", host.bridge_side, "up")


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("building test hosts (ip netns) needs root; CI runs as root")


@contextmanager
def host_network(names: list[str]) -> Iterator[HostNetwork]:
    """A bridge and one namespace per name, all up; removed (processes killed) on exit."""
    require_root()
    tag = secrets.token_hex(2)
    prefix = f"198.18.{secrets.randbelow(254) + 1}"
    network = HostNetwork(f"pnb{tag}", f"{prefix}.1", prefix)
    try:
        _ip("link", "add", network.bridge, "type", "bridge")
        _ip("addr", "add", f"{network.bridge_address}/24", "dev", network.bridge)
        _ip("link", "set", network.bridge, "up")
        for number, name in enumerate(names, start=10):
            host = Host(name, f"pn{tag}-{name}", f"{prefix}.{number}", f"pn{tag}h{number}")
            network.hosts[name] = host
            _ip("netns", "add", host.namespace)
            _ip("link", "add", host.bridge_side, "type", "veth", "peer", "name", "eth0",
                "netns", host.namespace)  # fmt: skip
            _ip("link", "set", host.bridge_side, "master", network.bridge, "up")
            _in(host, "ip", "addr", "add", f"{host.address}/24", "dev", "eth0")
            _in(host, "ip", "link", "set", "eth0", "up")
            _in(host, "ip", "link", "set", "lo", "up")
        yield network
    finally:
        for host in network.hosts.values():
            _kill_processes_in(host)
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("link", "delete", host.bridge_side)
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "delete", host.namespace)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "delete", network.bridge)


def _kill_processes_in(host: Host) -> None:
    """Kill whatever still runs in the host's namespace (the test's own processes)."""
    for _attempt in range(50):
        listed = subprocess.run(
            ["ip", "netns", "pids", host.namespace],
            capture_output=True, text=True, check=False, timeout=COMMAND_SECONDS,
        )  # fmt: skip
        pids = [int(pid) for pid in listed.stdout.split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True, timeout=COMMAND_SECONDS)


def _in(host: Host, *argv: str) -> None:
    _ip("netns", "exec", host.namespace, *argv)
