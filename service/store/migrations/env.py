"""The Alembic environment: runs the revisions on the connection PlaneNet hands it.

PlaneNet passes an open connection, inside the transaction that holds the start-up lock
(see :meth:`service.store.database.Database.upgrade_schema`). Run from the alembic command
line instead (to draft a revision), it connects to the database the settings name.
"""

from alembic import context
from sqlalchemy.engine import Connection

from service.store.tables import Base


def run_migrations(connection: Connection) -> None:
    """Run the revisions Alembic was asked for; SQLite alters tables in batch (copy) mode."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_from_the_command_line() -> None:
    from service.settings import Settings  # noqa: PLC0415 (only the command line needs them)
    from service.store.database import Database  # noqa: PLC0415

    database = Database(Settings().resolved_database_url)
    try:
        with database.engine.begin() as connection:
            run_migrations(connection)
    finally:
        database.dispose()


if context.is_offline_mode():
    raise SystemExit("PlaneNet's migrations run on a live database only (no --sql mode)")
given_connection = context.config.attributes.get("connection")
if given_connection is None:
    run_from_the_command_line()
else:
    run_migrations(given_connection)
