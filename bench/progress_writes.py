"""Benchmark: does a running job's progress write cost the same at epoch 100 and at 100,000?

Run with ``python -m bench.progress_writes`` (``--quick`` for fewer writes, ``--sqlite-only``
without PostgreSQL). For jobs that have run 100, 10,000 and 100,000 epochs, it times the
write a worker makes about once a second: progress plus the loss history since its previous
write (a chunk of 1,000 epochs, appended), encoding included. Beside it, the same write as
PlaneNet made it before chunks: the whole history so far, encoded and written each time.
It prints milliseconds per write and the ratios, on a SQLite file and on a throwaway
PostgreSQL server.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from service.domain.training import JobConfig
from service.store.codec import encode_loss_history
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.postgres import throwaway_postgres

JOB_LENGTHS = (100, 10_000, 100_000)
CHUNK_EPOCHS = 1_000


def time_writes(repository: Repository, epochs_so_far: int, writes: int, whole: bool) -> float:
    """Median seconds of one progress write of a job that has run ``epochs_so_far`` epochs."""
    job = repository.create_job(JobConfig(epochs=10_000_000))
    claimed = repository.claim_next_job("bench:1")
    assert claimed is not None
    assert claimed.id == job.id
    losses = np.random.default_rng(0).random(epochs_so_far + writes * CHUNK_EPOCHS)
    written = 0
    while written < epochs_so_far:  # the job's history so far, as chunks
        upto = min(epochs_so_far, written + CHUNK_EPOCHS)
        repository.record_progress(
            job.id, claimed.lease, epoch=upto, epochs=10_000_000, loss=float(losses[upto - 1]),
            validation_loss=None, loss_history=encode_loss_history(losses[written:upto]),
            history_start=written,
        )  # fmt: skip
        written = upto
    seconds = []
    for _ in range(writes):
        epoch = written + CHUNK_EPOCHS
        start = 0 if whole else written
        started = time.perf_counter()
        history = encode_loss_history(losses[start:epoch])
        repository.record_progress(
            job.id, claimed.lease, epoch=epoch, epochs=10_000_000, loss=float(losses[epoch - 1]),
            validation_loss=None, loss_history=history, history_start=start,
        )  # fmt: skip
        seconds.append(time.perf_counter() - started)
        if not whole:
            written = epoch
    return statistics.median(seconds)


def report(label: str, url: str, writes: int) -> None:
    database = Database(url)
    database.upgrade_schema()
    repository = Repository(database)
    try:
        print(f"{label}: milliseconds per progress write (median of {writes})")
        print(f"  {'epochs so far':>13} | {'chunk appended':>14} | {'whole history':>13} | ratio")
        time_writes(repository, JOB_LENGTHS[0], writes, whole=False)  # warm up
        appended_costs = []
        for epochs in JOB_LENGTHS:
            appended = time_writes(repository, epochs, writes, whole=False)
            rewritten = time_writes(repository, epochs, writes, whole=True)
            appended_costs.append(appended)
            print(
                f"  {epochs:>13,} | {appended * 1000:14.3f} | {rewritten * 1000:13.3f} |"
                f" {rewritten / appended:5.1f}x"
            )
        flat = appended_costs[-1] / appended_costs[0]
        print(
            f"  appended chunk at {JOB_LENGTHS[-1]:,} epochs costs {flat:.2f}x "
            f"its cost at {JOB_LENGTHS[0]:,}"
        )
    finally:
        database.dispose()


@contextmanager
def postgres_url() -> Iterator[str]:
    with throwaway_postgres() as server:
        yield server.url(server.create_database())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="15 writes per case instead of 60")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    arguments = parser.parse_args()
    writes = 15 if arguments.quick else 60
    with tempfile.TemporaryDirectory() as directory:
        report("SQLite", f"sqlite:///{Path(directory) / 'planenet.db'}", writes)
    if not arguments.sqlite_only:
        with postgres_url() as url:
            report("PostgreSQL", url, writes)


if __name__ == "__main__":
    main()
