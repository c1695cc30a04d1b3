"""A training worker runs its maths on one thread, whatever the environment asks for."""

import multiprocessing
import multiprocessing.queues
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from service.runner.worker import use_one_math_thread


def _pool_threads(report: "multiprocessing.queues.Queue[list[int]]", worker_setup: bool) -> None:
    """In a fresh process: optionally the worker's set-up, then each math pool's thread count."""
    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS is loaded and has started its threads
    if worker_setup:
        use_one_math_thread()
    report.put([pool["num_threads"] for pool in threadpool_info()])


def threads_in_a_fresh_process(worker_setup: bool) -> list[int]:
    """The thread count of each math pool of a spawned process (as workers are started)."""
    context = multiprocessing.get_context("spawn")
    report: multiprocessing.queues.Queue[list[int]] = context.Queue()
    process = context.Process(target=_pool_threads, args=(report, worker_setup))
    process.start()
    threads = report.get(timeout=60)
    process.join(30)
    assert process.exitcode == 0
    assert threads, "NumPy loaded no BLAS pool that threadpoolctl can see"
    return threads


def test_a_worker_process_uses_one_blas_thread_even_when_the_environment_asks_for_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "4")
    threads = threads_in_a_fresh_process(worker_setup=True)
    assert threads == [1] * len(threads)


def test_the_environment_alone_would_give_more_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: without the set-up, BLAS runs a thread per core (up to 4)."""
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    threads = threads_in_a_fresh_process(worker_setup=False)
    assert max(threads) == min(4, os.cpu_count() or 1), threads
