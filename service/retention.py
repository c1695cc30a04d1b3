"""Retention: the server itself deletes finished jobs older than ``job_retention_days``."""

import asyncio
import logging
from datetime import timedelta

from starlette.concurrency import run_in_threadpool

from service.store.repository import Repository
from service.store.tables import utc_now

RETENTION_INTERVAL_SECONDS = 3600.0
"""How often old finished jobs are looked for (also once at start-up)."""

logger = logging.getLogger("planenet.retention")


async def delete_old_jobs(repository: Repository, days: float) -> int:
    """Delete the jobs that finished more than ``days`` days ago; returns how many."""
    cutoff = utc_now() - timedelta(days=days)
    deleted = await run_in_threadpool(repository.delete_finished_jobs_before, cutoff)
    if deleted:
        logger.info("deleted old finished jobs", extra={"deleted": deleted, "days": days})
    return deleted


async def keep_deleting_old_jobs(
    repository: Repository, days: float, interval: float = RETENTION_INTERVAL_SECONDS
) -> None:
    """Run :func:`delete_old_jobs` now and every ``interval`` seconds, until cancelled."""
    while True:
        try:
            await delete_old_jobs(repository, days)
        except Exception:
            logger.exception("could not delete old finished jobs; trying again later")
        await asyncio.sleep(interval)
