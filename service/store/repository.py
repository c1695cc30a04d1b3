"""The repository the API and workers use: job and model operations over one database.

Routes and workers call its methods and get plain records back (service.domain.records);
every write is one transaction. The operations live in service.store.jobs,
service.store.recovery, service.store.registry, service.store.models,
service.store.snapshots, service.store.stats and service.store.figure_inputs; this class joins
them and adds the readiness check.
"""

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.domain.errors import NotReady
from service.store.database import Database
from service.store.figure_inputs import FigureInputStore
from service.store.jobs import JobStore
from service.store.models import ModelStore
from service.store.recovery import RecoveryStore
from service.store.registry import RegistryStore
from service.store.snapshots import SnapshotStore
from service.store.stats import StatsStore

logger = logging.getLogger("planenet.store")


class Repository(
    JobStore,
    RecoveryStore,
    RegistryStore,
    ModelStore,
    SnapshotStore,
    StatsStore,
    FigureInputStore,
):
    """Jobs and models over one :class:`Database`; safe to share between threads."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def ping(self) -> None:
        """Run a trivial query; raises :class:`NotReady` if the database cannot be reached."""
        try:
            with self.database.reading() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            logger.exception("the database did not answer")
            raise NotReady("the database cannot be reached") from None

    def check_writable(self) -> None:
        """Raise :class:`NotReady` while writes fail (disk full, read-only database)."""
        try:
            fault = self.database.writable_fault()
        except SQLAlchemyError:
            logger.exception("the database did not take a probe write")
            raise NotReady("the database cannot be written") from None
        if fault is not None:
            raise NotReady(f"writes fail: {fault}")
