"""PlaneNet core: data, network, training and figures, on NumPy alone.

The public API is re-exported here; the modules behind it hold one idea each.
"""

from core.config import EarlyStopping, TrainingConfig
from core.dataset import Dataset, make_dataset, train_validation_split, validate_points
from core.errors import (
    ConfigError,
    CoreError,
    DataError,
    ParameterError,
    TrainingCancelled,
    TrainingDiverged,
)
from core.figures import boundary_figure, data_figure, loss_figure
from core.generators import GENERATORS, generate
from core.network import Network
from core.parameters import Parameters, make_parameters
from core.serialization import (
    arrays_from_bytes,
    arrays_to_bytes,
    parameters_from_bytes,
    parameters_from_dict,
    parameters_to_bytes,
    parameters_to_dict,
)
from core.training import Metrics, Progress, TrainingResult, evaluate, train

__all__ = [
    "GENERATORS",
    "ConfigError",
    "CoreError",
    "DataError",
    "Dataset",
    "EarlyStopping",
    "Metrics",
    "Network",
    "ParameterError",
    "Parameters",
    "Progress",
    "TrainingCancelled",
    "TrainingConfig",
    "TrainingDiverged",
    "TrainingResult",
    "arrays_from_bytes",
    "arrays_to_bytes",
    "boundary_figure",
    "data_figure",
    "evaluate",
    "generate",
    "loss_figure",
    "make_dataset",
    "make_parameters",
    "parameters_from_bytes",
    "parameters_from_dict",
    "parameters_to_bytes",
    "parameters_to_dict",
    "train",
    "train_validation_split",
    "validate_points",
]
