"""What a training run is asked to do: the network, the optimizer and when to stop."""

import math
from dataclasses import dataclass

from core.activations import get_activation
from core.errors import ConfigError
from core.features import DEFAULT_FEATURES, check_features
from core.initializers import check_initializer
from core.optimizers import Hyperparameters, check_optimizer


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    The validation loss is monitored when there is a validation set, else the training
    loss. With ``restore_best`` the returned network is the one from the best epoch.
    """

    patience: int = 100
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ConfigError(f"early_stopping.patience: must be at least 1, got {self.patience}")
        if not (math.isfinite(self.min_delta) and self.min_delta >= 0.0):
            raise ConfigError(
                f"early_stopping.min_delta: must be a finite number >= 0, got {self.min_delta}"
            )


@dataclass(frozen=True)
class TrainingConfig:
    """A training run; the defaults reproduce the tutorial (2-4-1, ReLU, full-batch GD).

    ``features`` names the network's inputs, computed from each point (x1, x2) (see
    :mod:`core.features`). ``batch_size`` None trains on the full batch each epoch; a number
    trains on mini-batches of that size, reshuffled every epoch (a size above the number of
    points means the full batch). ``l2`` adds ``l2 / (2 n) * sum(W ** 2)`` and ``l1`` adds
    ``l1 / n * sum(|W|)`` over the weights (not the biases) to the loss, n being the batch
    size. ``seed`` drives the initial weights and the shuffling, so a configuration always
    gives bit-identical parameters.
    """

    hidden_layers: tuple[int, ...] = (4,)
    features: tuple[str, ...] = DEFAULT_FEATURES
    activation: str = "relu"
    init: str = "normal"
    epochs: int = 20_000
    learning_rate: float = 0.5
    optimizer: str = "gd"
    batch_size: int | None = None
    l2: float = 0.0
    l1: float = 0.0
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    seed: int | None = 42
    early_stopping: EarlyStopping | None = None

    def __post_init__(self) -> None:
        get_activation(self.activation)
        check_features(self.features)
        check_initializer(self.init)
        check_optimizer(self.optimizer)
        if any(units < 1 for units in self.hidden_layers):
            raise ConfigError(
                f"hidden_layers: every layer needs at least 1 unit, got {list(self.hidden_layers)}"
            )
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int):
            raise ConfigError(f"epochs: must be a whole number, got {self.epochs!r}")
        if self.epochs < 1:
            raise ConfigError(f"epochs: must be at least 1, got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"batch_size: must be at least 1 or null, got {self.batch_size}")
        _require_positive("learning_rate", self.learning_rate)
        _require_positive("epsilon", self.epsilon)
        for name in ("l2", "l1"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f"{name}: must be a finite number >= 0, got {value}")
        for name in ("momentum", "beta1", "beta2"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name}: must be at least 0 and below 1, got {value}")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer from the input features to the output, e.g. (2, 4, 1)."""
        return (len(self.features), *self.hidden_layers, 1)

    @property
    def hyperparameters(self) -> Hyperparameters:
        """The optimizer's settings."""
        return Hyperparameters(
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
        )


def _require_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise ConfigError(f"{name}: must be a finite number > 0, got {value}")
