"""Worker names that say where a process runs, so recovery can tell whether it still runs.

A worker is named ``host:boot:pidns:start:pid``:

- ``host``, the host name;
- ``boot``, the first 8 hex digits of the kernel's boot id: machines that share a host name,
  or one machine before and after a reboot, do not share it;
- ``pidns``, the inode of the process's PID namespace: containers with host networking share
  the host name (and the kernel) but not the PID namespace, so their pids mean nothing to
  one another;
- ``start``, the process's start time in clock ticks since boot (field 22 of
  ``/proc/<pid>/stat``): a pid reused after a restart (a restarted container counts its
  pids from 1 again) belongs to a process with another start time;
- ``pid``, last, where the older ``host:pid`` names have it.

Where ``/proc`` cannot tell these, the name is ``host:pid``. Such names, and those already in
older databases, are never judged by their pid: only their heartbeat tells whether they run.
"""

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
PID_NAMESPACE_PATH = Path("/proc/self/ns/pid")
BOOT_DIGITS = 8
START_TIME_FIELD = 22
"""The field of ``/proc/<pid>/stat`` (counting from 1) that holds the process's start time."""


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker process, as its name gives it: where it runs and which process it is."""

    host: str
    boot: str
    pid_namespace: int
    start_ticks: int
    pid: int

    @property
    def name(self) -> str:
        """The name stored as the ``worker`` of the jobs it claims."""
        return f"{self.host}:{self.boot}:{self.pid_namespace}:{self.start_ticks}:{self.pid}"

    def is_local(self) -> bool:
        """True when it runs on this host, this boot and in this PID namespace."""
        return (self.host, self.boot, self.pid_namespace) == (
            socket.gethostname(),
            _boot_id(),
            _pid_namespace(),
        )


def parse_worker_name(worker: str) -> WorkerIdentity | None:
    """The identity of a ``host:boot:pidns:start:pid`` name; None for any other name."""
    parts = worker.split(":")
    if len(parts) != 5:
        return None
    host, boot, *numbers = parts
    if not host or not boot or not all(number.isdigit() for number in numbers):
        return None
    pid_namespace, start_ticks, pid = (int(number) for number in numbers)
    return WorkerIdentity(host, boot, pid_namespace, start_ticks, pid)


def worker_name(pid: int) -> str:
    """The name of process ``pid`` of this PID namespace (this process or a child of it).

    A child must not have been reaped yet (a zombie still has its start time).
    """
    host = socket.gethostname()
    boot, pid_namespace, start_ticks = _boot_id(), _pid_namespace(), process_start_ticks(pid)
    if boot is None or pid_namespace is None or start_ticks is None:
        return f"{host}:{pid}"
    return WorkerIdentity(host, boot, pid_namespace, start_ticks, pid).name


def worker_is_gone(worker: str) -> bool:
    """True when ``worker`` is a process of this PID namespace that no longer runs.

    A pid that exists with another start time has been reused: its worker is gone. Workers
    of another host, boot or namespace, and names without a process identity, are never
    gone by this rule (only their heartbeat can tell).
    """
    identity = parse_worker_name(worker)
    if identity is None or not identity.is_local():
        return False
    if not process_exists(identity.pid):
        return True
    start_ticks = process_start_ticks(identity.pid)
    return start_ticks is not None and start_ticks != identity.start_ticks


def process_exists(pid: int) -> bool:
    """True when a process with this id exists in this PID namespace (a zombie counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot; None when /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields_after_name = stat[stat.rfind(")") + 1 :].split()
    try:
        return int(fields_after_name[START_TIME_FIELD - 3])
    except (IndexError, ValueError):
        return None


@functools.cache
def _boot_id() -> str | None:
    try:
        boot_id = BOOT_ID_PATH.read_text().strip().replace("-", "")
    except OSError:
        return None
    return boot_id[:BOOT_DIGITS] or None


@functools.cache
def _pid_namespace() -> int | None:
    try:
        return PID_NAMESPACE_PATH.stat().st_ino
    except OSError:
        return None
