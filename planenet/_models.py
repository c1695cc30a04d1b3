"""Typed results: jobs, models, the registry, pages, predictions, evaluations, parameters and
health, read from the API's JSON.

Each keeps the server's JSON it was read from in ``raw`` (not compared, not shown), so members
added by a newer server are never lost.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

ItemT = TypeVar("ItemT")

JSONObject = dict[str, Any]
"""A JSON object as ``json.loads`` gives it."""

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATUSES = frozenset(JOB_STATUSES[2:])
"""Job statuses after which nothing changes."""


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Progress:
    """How far a job has come; ``fraction`` is epoch / epochs (1 once succeeded)."""

    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    fraction: float
    elapsed_seconds: float | None
    eta_seconds: float | None

    @classmethod
    def from_json(cls, data: JSONObject) -> "Progress":
        return cls(
            epoch=int(data["epoch"]),
            epochs=int(data["epochs"]),
            loss=_float(data.get("loss")),
            validation_loss=_float(data.get("validation_loss")),
            fraction=float(data["fraction"]),
            elapsed_seconds=_float(data.get("elapsed_seconds")),
            eta_seconds=_float(data.get("eta_seconds")),
        )


@dataclass(frozen=True)
class Job:
    """A training job: ``status`` is queued, running, succeeded, failed or cancelled."""

    id: str
    name: str | None
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: Progress
    model_id: str | None
    error: str | None
    cancel_requested: bool
    config: JSONObject
    raw: JSONObject = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        """Whether the job has its outcome (succeeded, failed or cancelled)."""
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_json(cls, data: JSONObject) -> "Job":
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            status=str(data["status"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            started_at=_time(data.get("started_at")),
            finished_at=_time(data.get("finished_at")),
            progress=Progress.from_json(data["progress"]),
            model_id=data.get("model_id"),
            error=data.get("error"),
            cancel_requested=bool(data.get("cancel_requested", False)),
            config=dict(data.get("config") or {}),
            raw=data,
        )


@dataclass(frozen=True)
class Metrics:
    """How well a model fits: accuracy in [0, 1] and loss; validation ones None without a split."""

    train_accuracy: float
    train_loss: float
    validation_accuracy: float | None
    validation_loss: float | None
    epochs_run: int
    train_seconds: float
    stopped_early: bool | None
    best_epoch: int | None

    @classmethod
    def from_json(cls, data: JSONObject) -> "Metrics":
        best_epoch = data.get("best_epoch")
        return cls(
            train_accuracy=float(data["train_accuracy"]),
            train_loss=float(data["train_loss"]),
            validation_accuracy=_float(data.get("validation_accuracy")),
            validation_loss=_float(data.get("validation_loss")),
            epochs_run=int(data["epochs_run"]),
            train_seconds=float(data["train_seconds"]),
            stopped_early=data.get("stopped_early"),
            best_epoch=None if best_epoch is None else int(best_epoch),
        )


@dataclass(frozen=True)
class Model:
    """A trained model: the training body as run (``config``) and its ``metrics``.

    ``version`` is its number under ``name`` (None when the name cannot be registered);
    ``aliases`` are the aliases of ``name`` that point at it.
    """

    id: str
    name: str | None
    created_at: datetime
    job_id: str | None
    config: JSONObject
    metrics: Metrics
    raw: JSONObject = field(repr=False, compare=False)
    version: int | None = None
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    @classmethod
    def from_json(cls, data: JSONObject) -> "Model":
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            job_id=data.get("job_id"),
            config=dict(data.get("config") or {}),
            metrics=Metrics.from_json(data["metrics"]),
            raw=data,
            version=None if data.get("version") is None else int(data["version"]),
            aliases=[str(alias) for alias in data.get("aliases") or ()],
            tags={str(key): str(value) for key, value in (data.get("tags") or {}).items()},
            description=data.get("description"),
        )


@dataclass(frozen=True)
class RegisteredModel:
    """A registered name: its metadata, its aliases (alias -> version) and its versions.

    ``versions`` (newest first) is filled by ``get_registered_model``; a listed one carries only
    ``latest_version`` (None once every version is deleted) and an empty ``versions``.
    """

    name: str
    created_at: datetime
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_version: Model | None
    versions: list[Model]
    raw: JSONObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSONObject) -> "RegisteredModel":
        latest = data.get("latest_version")
        return cls(
            name=str(data["name"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            description=data.get("description"),
            tags={str(key): str(value) for key, value in (data.get("tags") or {}).items()},
            aliases={str(alias): int(version) for alias, version in data["aliases"].items()},
            latest_version=None if latest is None else Model.from_json(latest),
            versions=[Model.from_json(version) for version in data.get("versions") or ()],
            raw=data,
        )


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of a list, newest first; ``total`` counts the items over all pages."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int
    raw: JSONObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSONObject, item: Callable[[JSONObject], ItemT]) -> "Page[ItemT]":
        return cls(
            items=[item(element) for element in data["items"]],
            total=int(data["total"]),
            limit=int(data["limit"]),
            offset=int(data["offset"]),
            raw=data,
        )


@dataclass(frozen=True)
class Prediction:
    """One label (0 or 1) and one class-1 probability per point, in the order of the points."""

    model_id: str
    labels: list[int]
    probabilities: list[float]
    raw: JSONObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSONObject) -> "Prediction":
        return cls(
            model_id=str(data["model_id"]),
            labels=[int(label) for label in data["labels"]],
            probabilities=[float(value) for value in data["probabilities"]],
            raw=data,
        )


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of points by true class and label: negatives and positives, true and false."""

    tn: int
    fp: int
    fn: int
    tp: int

    @classmethod
    def from_json(cls, data: JSONObject) -> "ConfusionMatrix":
        return cls(tn=int(data["tn"]), fp=int(data["fp"]), fn=int(data["fn"]), tp=int(data["tp"]))


@dataclass(frozen=True)
class Evaluation:
    """A model measured on labelled points, its labels taken at ``threshold``.

    ``roc_auc`` is None when the labels hold one class (``roc_auc_undefined_reason`` says so);
    ``support`` counts the points of class 0 and of class 1; ``figures`` (``roc`` and
    ``confusion_matrix``, Plotly figure JSON) only when asked for.
    """

    model_id: str
    threshold: float
    accuracy: float
    log_loss: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    roc_auc_undefined_reason: str | None
    confusion_matrix: ConfusionMatrix
    support: tuple[int, int]
    figures: dict[str, JSONObject] | None
    raw: JSONObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSONObject) -> "Evaluation":
        class_0, class_1 = data["support"]
        return cls(
            model_id=str(data["model_id"]),
            threshold=float(data["threshold"]),
            accuracy=float(data["accuracy"]),
            log_loss=float(data["log_loss"]),
            precision=float(data["precision"]),
            recall=float(data["recall"]),
            f1=float(data["f1"]),
            roc_auc=_float(data.get("roc_auc")),
            roc_auc_undefined_reason=data.get("roc_auc_undefined_reason"),
            confusion_matrix=ConfusionMatrix.from_json(data["confusion_matrix"]),
            support=(int(class_0), int(class_1)),
            figures=data.get("figures"),
            raw=data,
        )


@dataclass(frozen=True)
class Parameters:
    """A network's weights and biases: ``weights[i]`` is fan_in x fan_out, ``biases[i]`` fan_out.

    Pass it as a training body's ``initial_parameters`` to start from these weights.
    """

    weights: list[list[list[float]]]
    biases: list[list[float]]

    @classmethod
    def from_json(cls, data: JSONObject) -> "Parameters":
        return cls(weights=data["weights"], biases=data["biases"])

    def to_json(self) -> JSONObject:
        """The shape the API takes: ``{"weights": [...], "biases": [...]}``."""
        return {"weights": self.weights, "biases": self.biases}


@dataclass(frozen=True)
class Readiness:
    """The server can serve: its database answers and this many training workers are alive."""

    status: str
    workers_alive: int
    workers_expected: int

    @classmethod
    def from_json(cls, data: JSONObject) -> "Readiness":
        return cls(
            status=str(data["status"]),
            workers_alive=int(data["workers_alive"]),
            workers_expected=int(data["workers_expected"]),
        )
