"""A job's training configuration: the one validated type of its settings, defaults and bounds.

The defaults are the core's (the tutorial's); the bounds are stated here once, where pydantic
checks them and OpenAPI publishes them. A job's configuration is validated when it is
submitted, stored as this type's JSON, and read back by the worker as this type again, which
hands the core its :class:`core.config.TrainingConfig` in one step.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag, field_validator

import core.config
from core.activations import ACTIVATIONS
from core.errors import ConfigError
from core.features import FEATURES, check_features
from core.generators import (
    DEFAULT_GENERATOR,
    DEFAULT_N_SAMPLES,
    DEFAULT_NOISE,
    DEFAULT_SEED,
    GENERATORS,
    MAX_NOISE,
    MIN_SAMPLES,
)
from core.initializers import INITIALIZERS
from core.optimizers import OPTIMIZERS

TUTORIAL = core.config.TrainingConfig()
"""The core's defaults, which reproduce the tutorial: every default below comes from here."""
EARLY_STOPPING = core.config.EarlyStopping()

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A JSON number that is neither NaN nor infinite (Python's JSON reader accepts both)."""

UNION_TAGS = frozenset(
    {"generator-data", "points-data", "given-points", "constrained-int", "constrained-float"}
)
"""Tags of the data union: pydantic puts them in error locations, problems leave them out."""


def one_of(known: dict[str, Any]) -> dict[str, JsonValue]:
    """The known names as an OpenAPI ``enum``: the core's tables are the one list of them."""
    names: list[JsonValue] = [*sorted(known)]
    return {"enum": names}


def check_known(name: str, value: str, known: dict[str, Any]) -> str:
    """``value`` if it names an entry of ``known``; else a ValueError listing the known names."""
    if value not in known:
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(known)}")
    return value


class ConfigPart(BaseModel):
    """Base of the configuration's parts: immutable, and an unknown member is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneratorData(ConfigPart):
    """Points drawn by one of the core's generators."""

    generator: str = Field(default=DEFAULT_GENERATOR, json_schema_extra=one_of(GENERATORS))
    n_samples: int = Field(default=DEFAULT_N_SAMPLES, ge=MIN_SAMPLES)
    noise: FiniteFloat = Field(default=DEFAULT_NOISE, ge=0.0, le=MAX_NOISE)
    seed: int | None = Field(default=DEFAULT_SEED, ge=0)

    @field_validator("generator")
    @classmethod
    def _known_generator(cls, value: str) -> str:
        return check_known("generator", value, GENERATORS)

    @property
    def class_sizes(self) -> tuple[int, int]:
        """Points per class the generator draws: class 1 holds the extra point of an odd n."""
        return self.n_samples // 2, self.n_samples - self.n_samples // 2


class GivenPoints(ConfigPart):
    """Points the client gave, as the configuration records them (the arrays are kept apart)."""

    kind: Literal["points"] = "points"
    n_points: int = Field(ge=1)


class GivenParameters(ConfigPart):
    """Initial parameters the client gave, recorded by their layer sizes (arrays kept apart)."""

    layer_sizes: list[int]


class EarlyStoppingConfig(ConfigPart):
    """Stop when the monitored loss (validation if split, else training) stops improving."""

    patience: int = Field(default=EARLY_STOPPING.patience, ge=1)
    min_delta: FiniteFloat = Field(default=EARLY_STOPPING.min_delta, ge=0.0)
    restore_best: bool = EARLY_STOPPING.restore_best


class TrainingSettings(ConfigPart):
    """The network and its training: everything of a job but its data and initial weights."""

    # Plain defaults (pydantic copies them per instance), so OpenAPI publishes them.
    hidden_layers: list[Annotated[int, Field(ge=1)]] = Field(default=list(TUTORIAL.hidden_layers))
    features: list[Annotated[str, Field(json_schema_extra=one_of(FEATURES))]] = Field(
        default=list(TUTORIAL.features),
        min_length=1,
        description="the network's inputs, computed from each point (x1, x2); each once",
    )
    activation: str = Field(default=TUTORIAL.activation, json_schema_extra=one_of(ACTIVATIONS))
    init: str = Field(default=TUTORIAL.init, json_schema_extra=one_of(INITIALIZERS))
    epochs: int = Field(default=TUTORIAL.epochs, ge=1)
    learning_rate: FiniteFloat = Field(default=TUTORIAL.learning_rate, gt=0.0)
    optimizer: str = Field(default=TUTORIAL.optimizer, json_schema_extra=one_of(OPTIMIZERS))
    batch_size: int | None = Field(
        default=TUTORIAL.batch_size, ge=1, description="null: full batch"
    )
    l2: FiniteFloat = Field(default=TUTORIAL.l2, ge=0.0)
    l1: FiniteFloat = Field(default=TUTORIAL.l1, ge=0.0)
    momentum: FiniteFloat = Field(default=TUTORIAL.momentum, ge=0.0, lt=1.0)
    beta1: FiniteFloat = Field(default=TUTORIAL.beta1, ge=0.0, lt=1.0)
    beta2: FiniteFloat = Field(default=TUTORIAL.beta2, ge=0.0, lt=1.0)
    epsilon: FiniteFloat = Field(default=TUTORIAL.epsilon, gt=0.0)
    seed: int | None = Field(default=TUTORIAL.seed, ge=0)
    validation_fraction: FiniteFloat = Field(
        default=0.0, ge=0.0, lt=1.0, description="share of points held out; 0: no split"
    )
    early_stopping: EarlyStoppingConfig | None = None

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        return check_known("activation", value, ACTIVATIONS)

    @field_validator("features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        try:
            check_features(value)
        except ConfigError as error:
            raise ValueError(str(error).removeprefix("features: ")) from None
        return value

    @field_validator("init")
    @classmethod
    def _known_init(cls, value: str) -> str:
        return check_known("init", value, INITIALIZERS)

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        return check_known("optimizer", value, OPTIMIZERS)

    def core_config(self) -> core.config.TrainingConfig:
        """The core's configuration of this training (it checks nothing the bounds let pass)."""
        early = self.early_stopping
        return core.config.TrainingConfig(
            hidden_layers=tuple(self.hidden_layers),
            features=tuple(self.features),
            activation=self.activation,
            init=self.init,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            batch_size=self.batch_size,
            l2=self.l2,
            l1=self.l1,
            momentum=self.momentum,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
            seed=self.seed,
            early_stopping=(
                None
                if early is None
                else core.config.EarlyStopping(early.patience, early.min_delta, early.restore_best)
            ),
        )


def _stored_data_kind(value: Any) -> str:
    keys = value.keys() if isinstance(value, dict) else type(value).model_fields.keys()
    return "given-points" if "kind" in keys else "generator-data"


StoredData = Annotated[
    Annotated[GeneratorData, Tag("generator-data")] | Annotated[GivenPoints, Tag("given-points")],
    Discriminator(_stored_data_kind),
]


class JobConfig(TrainingSettings):
    """A job's configuration as stored and run: the training body, defaults filled in.

    Points given as data are recorded as ``{"kind": "points", "n_points": n}`` and given
    initial parameters as their layer sizes; the arrays themselves are stored beside the job,
    so listing jobs and models stays small.
    """

    data: StoredData = Field(default_factory=GeneratorData)
    initial_parameters: GivenParameters | None = None
