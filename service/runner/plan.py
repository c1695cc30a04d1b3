"""From a stored job configuration to the core's inputs: training config, data and split.

The API calls :func:`prepare_training` when a job is submitted, so an impossible
configuration is a 422 at once rather than a failed job; the worker calls it again to run.
"""

import re
from dataclasses import dataclass
from typing import Any

from core.dataset import Dataset, train_validation_split
from core.errors import CoreError
from core.generators import generate
from core.parameters import Parameters, make_parameters
from core.training import EarlyStopping, TrainingConfig
from service.errors import InvalidInput
from service.stored_config import stored_features, stored_l1

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.]*(?:\[\d+\])*):\s")


@dataclass(frozen=True)
class PreparedTraining:
    """Everything ``core.training.train`` needs for one job."""

    config: TrainingConfig
    dataset: Dataset
    train_set: Dataset
    validation_set: Dataset | None
    initial_parameters: Parameters | None


def training_config(config: dict[str, Any]) -> TrainingConfig:
    """The core's :class:`TrainingConfig` for a stored job configuration."""
    early = config.get("early_stopping")
    return TrainingConfig(
        hidden_layers=tuple(config["hidden_layers"]),
        features=stored_features(config),
        activation=config["activation"],
        init=config["init"],
        epochs=config["epochs"],
        learning_rate=config["learning_rate"],
        optimizer=config["optimizer"],
        batch_size=config["batch_size"],
        l2=config["l2"],
        l1=stored_l1(config),
        momentum=config["momentum"],
        beta1=config["beta1"],
        beta2=config["beta2"],
        epsilon=config["epsilon"],
        seed=config["seed"],
        early_stopping=None if early is None else EarlyStopping(**early),
    )


def prepare_training(
    config: dict[str, Any],
    training_data: Dataset | None,
    initial_parameters: Parameters | None,
) -> PreparedTraining:
    """Build the core inputs of a job, or raise :class:`InvalidInput` naming the bad fields.

    ``config`` is the stored configuration (the training body with defaults filled in);
    ``training_data`` is the given points, when the body gave points instead of a generator.
    """
    try:
        core_config = training_config(config)
    except CoreError as error:
        raise _invalid(error, "body") from None
    data = config["data"]
    try:
        if training_data is not None:
            dataset = training_data
        else:
            dataset = generate(data["generator"], data["n_samples"], data["noise"], data["seed"])
    except CoreError as error:
        raise _invalid(error, "body.data") from None
    try:
        train_set, validation_set = train_validation_split(
            dataset, config["validation_fraction"], seed=config["seed"]
        )
    except CoreError as error:
        raise _invalid(error, "body") from None
    if initial_parameters is not None:
        try:
            initial_parameters = make_parameters(
                initial_parameters.weights,
                initial_parameters.biases,
                core_config.hidden_layers,
                core_config.features,
            )
        except CoreError as error:
            raise InvalidInput([("body.initial_parameters", str(error))]) from None
    return PreparedTraining(core_config, dataset, train_set, validation_set, initial_parameters)


def _invalid(error: CoreError, scope: str) -> InvalidInput:
    """The core names the field first ("noise: must be ..."); point at it inside ``scope``."""
    message = str(error)
    match = _FIELD_PREFIX.match(message)
    if match is None:
        return InvalidInput([(scope, message)])
    return InvalidInput([(f"{scope}.{match.group(1)}", message[match.end() :])])
