"""HTTP load from wrk in its own process, and the CPU time a process tree used meanwhile."""

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WRK_THREADS = 1
"""One wrk thread drives 32 connections at well over 100,000 requests per second."""


def wrk_path() -> str:
    """The ``wrk`` executable (Debian: ``apt-get install -y wrk``), or a clear error."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("this benchmark needs wrk: apt-get install -y wrk")
    return path


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state is field 0)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU seconds each live process in ``pids`` has used so far."""
    used = {}
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`cpu_seconds` readings (processes in both or new)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured, with the CPU seconds the server and wrk used during it."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu: float
    wrk_cpu: float
    seconds: float

    def line(self, label: str) -> str:
        return (
            f"  {label:<34} {self.requests_per_second:8.0f} req/s  p50 {self.p50_ms:6.2f} ms  "
            f"p99 {self.p99_ms:6.2f} ms  CPU: server {self.server_cpu / self.seconds:4.2f}, "
            f"wrk {self.wrk_cpu / self.seconds:4.2f} cores"
        )


def lua_script(method: str, body: bytes | None, directory: Path) -> Path:
    """A wrk script that sends ``method`` with ``body`` as JSON on every request."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = [==[{body.decode()}]==]")
    script = directory / f"{method.lower()}-{len(body or b'')}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def run_wrk(
    url: str, method: str, body: bytes | None, *, connections: int, seconds: float, server_pid: int
) -> LoadResult:
    """Load ``url`` for ``seconds`` with ``connections`` keep-alive connections."""
    with tempfile.TemporaryDirectory() as directory:
        script = lua_script(method, body, Path(directory))
        command = [
            wrk_path(), f"-t{min(WRK_THREADS, connections)}", f"-c{connections}",
            f"-d{seconds:g}s", "--latency", "-s", str(script), url,
        ]  # fmt: skip
        server_pids = process_tree(server_pid)
        server_before = cpu_seconds(server_pids)
        wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert wrk.stdout is not None
        output = wrk.stdout.read()
        # wait4 reports the CPU wrk used over its whole life, all threads together.
        _, status, usage = os.wait4(wrk.pid, 0)
        wrk.returncode = os.waitstatus_to_exitcode(status)
        server_after = cpu_seconds(process_tree(server_pid))
    if wrk.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{output}")
    return _parse(
        output, cpu_between(server_before, server_after), usage.ru_utime + usage.ru_stime, seconds
    )


def _parse(output: str, server_cpu: float, wrk_cpu: float, seconds: float) -> LoadResult:
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output) or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)", output, re.MULTILINE))
    if rate is None or not {"50", "99"} <= percentiles.keys():
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return LoadResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(percentiles["50"]),
        p99_ms=_milliseconds(percentiles["99"]),
        server_cpu=server_cpu,
        wrk_cpu=wrk_cpu,
        seconds=seconds,
    )


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def median_result(results: list[LoadResult]) -> LoadResult:
    """The run with the median requests per second (the upper one of an even count)."""
    ordered = sorted(results, key=lambda result: result.requests_per_second)
    return ordered[len(ordered) // 2]
