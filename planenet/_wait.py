"""How ``wait`` follows a job: it polls often at first, then once a second, until a deadline."""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from planenet._errors import WaitTimeout
from planenet._models import Job

FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 1.0
POLL_GROWTH = 1.5


def poll_delays() -> Iterator[float]:
    """Seconds between polls: 0.1, 0.15, 0.225, ... up to one second."""
    delay = FIRST_POLL_SECONDS
    while True:
        yield delay
        delay = min(MAX_POLL_SECONDS, delay * POLL_GROWTH)


@dataclass
class Deadline:
    """The end of a wait of ``timeout`` seconds (None: no end), counted from its creation."""

    timeout: float | None
    started: float = field(default_factory=time.monotonic)

    def check(self, job: Job) -> None:
        """Raise ``WaitTimeout`` if the time is up and ``job`` is still unfinished."""
        if self.timeout is not None and time.monotonic() - self.started >= self.timeout:
            raise WaitTimeout(job, self.timeout)

    def within(self, delay: float) -> float:
        """``delay``, shortened so that a sleep ends by the deadline."""
        if self.timeout is None:
            return delay
        remaining = self.timeout - (time.monotonic() - self.started)
        return max(0.0, min(delay, remaining))
