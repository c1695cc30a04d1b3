"""Domain vocabulary shared by the layers: the life cycle of a training job."""

from enum import StrEnum


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
