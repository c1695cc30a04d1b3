"""v1 databases with several models of one name, for the registry's migration and process tests."""

from datetime import UTC, datetime

from sqlalchemy import create_engine, text

HEX_NAME = "abcdefabcdefabcdefabcdefabcdef12"
"""A v1 name shaped like a model id: it cannot be registered."""


def add_copies(url: str) -> dict[str, str]:
    """Copy v1's 'generated' model under new ids: two later ones of the same name, one
    earlier one, and ones named with free text and with a model id's shape. Returns id ->
    name of the copies."""
    copies = {
        "c0000000000000000000000000000001": ("generated", datetime(2001, 1, 1, tzinfo=UTC)),
        "c0000000000000000000000000000002": ("generated", datetime(2099, 1, 1, tzinfo=UTC)),
        "c0000000000000000000000000000003": ("generated", datetime(2099, 1, 2, tzinfo=UTC)),
        "c0000000000000000000000000000004": (
            "my model (v1 style)",
            datetime(2099, 1, 3, tzinfo=UTC),
        ),
        "c0000000000000000000000000000005": (HEX_NAME, datetime(2099, 1, 4, tzinfo=UTC)),
    }
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            source = connection.execute(
                text("SELECT id FROM models WHERE name = 'generated'")
            ).scalar_one()
            for model_id, (name, created_at) in copies.items():
                when = created_at.replace(tzinfo=None) if url.startswith("sqlite") else created_at
                connection.execute(
                    text(
                        "INSERT INTO models (id, name, created_at, job_id, config, metrics, "
                        "parameters, loss_history, datasets) SELECT :id, :name, :created_at, "
                        "NULL, config, metrics, parameters, loss_history, datasets "
                        "FROM models WHERE id = :source"
                    ),
                    {"id": model_id, "name": name, "created_at": when, "source": source},
                )
    finally:
        engine.dispose()
    return {model_id: name for model_id, (name, _) in copies.items()} | {source: "generated"}
