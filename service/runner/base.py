"""The Runner interface: what the API needs from whatever executes training jobs."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RunnerHealth:
    """How many worker processes should be running and how many are alive."""

    expected: int
    alive: int

    @property
    def healthy(self) -> bool:
        return self.alive >= self.expected


class Runner(Protocol):
    """Executes queued jobs. Jobs live in the store; the runner only makes workers claim them.

    ``submit`` is a hint that makes pickup prompt; the store is the source of truth (workers
    also poll it, and see cancel requests there), so a lost hint delays, never loses, work.
    """

    def start(self) -> None:
        """Start the workers."""

    def stop(self) -> None:
        """Stop the workers; jobs they were running are marked failed (interrupted)."""

    def submit(self, job_id: str) -> None:
        """A job was queued: wake a worker."""

    def health(self) -> RunnerHealth:
        """The workers' liveness, for readiness checks."""
