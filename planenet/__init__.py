"""PlaneNet's Python client: ``planenet.Client`` and ``planenet.AsyncClient`` over its HTTP API.

import planenet

with planenet.Client() as client:  # $PLANENET_URL, else http://127.0.0.1:8000
    model = client.train(epochs=2000)
    print(client.predict(model.id, [[1, 1], [-1, -1]]).labels)
"""

from planenet._async_client import AsyncClient
from planenet._client import Client
from planenet._config import API_KEY_VARIABLE, DEFAULT_URL, URL_VARIABLE, __version__
from planenet._errors import (
    ConnectionFailed,
    FieldError,
    InvalidInput,
    JobFailed,
    LimitExceeded,
    NotFound,
    PlaneNetError,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    WaitTimeout,
    WrongState,
)
from planenet._events import JobEvent
from planenet._figures import Figure, to_plotly
from planenet._models import (
    ConfusionMatrix,
    Evaluation,
    Job,
    Metrics,
    Model,
    Page,
    Parameters,
    Prediction,
    Progress,
    Readiness,
    RegisteredModel,
)
from planenet._requests import FIGURE_KINDS, UNSET
from planenet._retry import Retry

__all__ = [
    "API_KEY_VARIABLE",
    "DEFAULT_URL",
    "FIGURE_KINDS",
    "UNSET",
    "URL_VARIABLE",
    "AsyncClient",
    "Client",
    "ConfusionMatrix",
    "ConnectionFailed",
    "Evaluation",
    "FieldError",
    "Figure",
    "InvalidInput",
    "Job",
    "JobEvent",
    "JobFailed",
    "LimitExceeded",
    "Metrics",
    "Model",
    "NotFound",
    "Page",
    "Parameters",
    "PlaneNetError",
    "Prediction",
    "Progress",
    "Readiness",
    "RegisteredModel",
    "Retry",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    "WaitTimeout",
    "WrongState",
    "__version__",
    "to_plotly",
]
