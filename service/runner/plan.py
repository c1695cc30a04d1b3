"""From a claimed job to the core's inputs: its training configuration, data and split.

The job's configuration was validated when it was submitted; this only builds what the
core takes. The core still refuses what it cannot run (a ``CoreError``), which fails the job
with the field named, as :class:`InvalidInput` places it.
"""

from dataclasses import dataclass

from core.config import TrainingConfig
from core.dataset import Dataset, train_validation_split
from core.errors import CoreError
from core.generators import generate
from core.parameters import Parameters
from service.domain.errors import InvalidInput
from service.domain.records import ClaimedJob
from service.domain.training import GeneratorData, JobConfig


@dataclass(frozen=True)
class PreparedTraining:
    """Everything ``core.training.train`` needs for one job."""

    config: TrainingConfig
    dataset: Dataset
    train_set: Dataset
    validation_set: Dataset | None
    initial_parameters: Parameters | None


def prepare_training(job: ClaimedJob) -> PreparedTraining:
    """Build the core inputs of a claimed job, or raise :class:`InvalidInput` naming the field."""
    config = job.config
    try:
        core_config = config.core_config()
    except CoreError as error:
        raise InvalidInput.at("body", error) from None
    dataset, train_set, validation_set = job_datasets(config, job.training_data)
    return PreparedTraining(core_config, dataset, train_set, validation_set, job.initial_parameters)


def job_datasets(
    config: JobConfig, training_data: Dataset | None
) -> tuple[Dataset, Dataset, Dataset | None]:
    """A job's points, and their training and validation sets; :class:`InvalidInput` naming
    the field when they cannot be built."""
    try:
        dataset = _dataset(config, training_data)
    except CoreError as error:
        raise InvalidInput.at("body.data", error) from None
    try:
        train_set, validation_set = train_validation_split(
            dataset, config.validation_fraction, seed=config.seed
        )
    except CoreError as error:
        raise InvalidInput.at("body", error) from None
    return dataset, train_set, validation_set


def _dataset(config: JobConfig, training_data: Dataset | None) -> Dataset:
    """The job's points: those it was given, or those its generator draws."""
    data = config.data
    if isinstance(data, GeneratorData):
        return generate(data.generator, data.n_samples, data.noise, data.seed)
    if training_data is None:
        raise InvalidInput([("body.data", "the job's points are missing from the store")])
    return training_data
