"""Schemas of the liveness and readiness answers."""

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """The service can serve: the database answers and the training workers are alive."""

    status: Literal["ready"]
    workers_alive: int
    workers_expected: int
