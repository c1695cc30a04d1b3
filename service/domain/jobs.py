"""Domain vocabulary shared by the layers: the life cycle of a training job."""

from dataclasses import dataclass
from enum import StrEnum

QUEUE_RETRY_AFTER_SECONDS = 5
"""What a client refused for a full queue is told to wait before it tries again (Retry-After)."""


class JobStatus(StrEnum):
    """The life of a job: queued -> running -> one of the three finished states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class QueueLimit:
    """At most ``jobs`` queued jobs across every process sharing the store, set by ``setting``."""

    jobs: int
    setting: str
