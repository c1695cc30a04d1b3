"""The store's schema migrations: the Alembic environment (env.py) and revisions (versions/).

Every change to service/store/tables.py comes with a revision here and a test that upgrades a
database from the revision before it (tests/service/test_migrations.py). To write one, change
the tables, bring a database to the current head (``planenet db upgrade``), then let Alembic
draft the revision against it and edit the draft::

    alembic -c service/store/migrations/alembic.ini revision --autogenerate -m "what changed"

(the environment's ``PLANENET_DATABASE_URL`` / ``PLANENET_DATA_DIR`` say which database).
"""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent
