"""Helpers for the event stream tests: parsing Server-Sent Events, and a worker played by hand."""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.domain.jobs import JobStatus
from service.domain.records import ClaimedJob, ModelMetrics, NewModel
from service.store.codec import encode_loss_history
from service.store.repository import Repository
from tests.helpers.store import job_config

EPOCHS = 300
WAIT_SECONDS = 20.0
FINAL_ID_SUFFIX = "-end"


@dataclass(frozen=True)
class Event:
    """One parsed Server-Sent Event."""

    name: str
    id: str
    data: dict[str, Any]

    @property
    def count(self) -> int:
        """The number of loss values the client holds after this event (the id's number)."""
        return int(self.id.removesuffix(FINAL_ID_SUFFIX))


def parse_events(lines: Iterator[str]) -> Iterator[Event]:
    """Events from SSE text lines (comments and the retry field skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                yield Event(fields["event"], fields["id"], json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value.removeprefix(" ")


def losses_of(received: list[Event]) -> list[float]:
    """The loss values carried by the progress events, checked to be contiguous."""
    losses: list[float] = []
    for event in received:
        if event.name == "progress":
            assert event.data["offset"] == len(losses)
            losses.extend(event.data["losses"])
            assert event.count == len(losses)
    return losses


def loss_values(count: int, seed: int = 0) -> np.ndarray:
    """A made-up loss history of ``count`` epochs, shape (count,), with full float precision."""
    return np.random.default_rng(seed).random(count) + 0.01


class PlayedWorker:
    """Plays a worker: claims a job and writes its progress and outcome to the store."""

    def __init__(self, repository: Repository, epochs: int = EPOCHS) -> None:
        self.repository = repository
        self.epochs = epochs
        self.job_id = repository.create_job(job_config({"epochs": epochs})).id
        self.history = loss_values(epochs)
        self.claimed: ClaimedJob | None = None

    def claim(self) -> None:
        self.claimed = self.repository.claim_next_job("played-worker")
        assert self.claimed is not None
        assert self.claimed.id == self.job_id

    def report(self, epoch: int, with_history: bool = True) -> None:
        """Write progress at ``epoch``, with the loss history so far unless ``with_history``
        is false (workers write the history less often than the rest)."""
        assert self.claimed is not None
        history = self.history[:epoch]
        self.repository.record_progress(
            self.job_id,
            self.claimed.lease,
            epoch=epoch,
            epochs=self.epochs,
            loss=float(history[-1]),
            validation_loss=None,
            loss_history=encode_loss_history(history) if with_history else None,
        )

    def succeed(self) -> str:
        assert self.claimed is not None
        model = NewModel(
            name=None,
            config=job_config({"epochs": self.epochs}),
            metrics=ModelMetrics(
                train_accuracy=1.0,
                train_loss=float(self.history[-1]),
                epochs_run=self.epochs,
                train_seconds=1.0,
            ),
            parameters=b"",
            loss_history=encode_loss_history(self.history),
            datasets=b"",
        )
        record = self.repository.complete_job(
            self.job_id, self.claimed.lease, model, self.epochs, float(self.history[-1])
        )
        return record.id

    def finish(self, status: JobStatus, error: str | None = None) -> None:
        assert self.claimed is not None
        assert self.repository.finish_job(self.job_id, self.claimed.lease, status, error)


def wait_for(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds; fail after a generous deadline."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.01)
