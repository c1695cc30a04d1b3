"""The configured limits, checked before any work starts (413 naming the limit and its setting)."""

import math

from service.domain.errors import LimitExceeded
from service.schemas.jobs import NAME_MAX_LENGTH, TrainingRequest
from service.schemas.predictions import MODEL_ID_MAX_LENGTH
from service.settings import Settings, setting_env_name


def check_limit(what: str, requested: int, settings: Settings, setting: str) -> None:
    """Raise :class:`LimitExceeded` when ``requested`` is over the setting named ``setting``."""
    limit: int = getattr(settings, setting)
    if requested > limit:
        raise LimitExceeded(what, requested, limit, setting_env_name(setting))


def check_training_limits(request: TrainingRequest, settings: Settings) -> None:
    """Epochs, training points, hidden layers, units per layer and batch size within limits."""
    check_limit("epochs", request.epochs, settings, "max_epochs")
    check_limit(
        "the number of training points", request.n_training_points, settings, "max_training_points"
    )
    check_limit(
        "the number of hidden layers", len(request.hidden_layers), settings, "max_hidden_layers"
    )
    widest = max(request.hidden_layers, default=0)
    check_limit("the widest hidden layer", widest, settings, "max_units")
    check_batch_units(request, settings)


def check_batch_units(request: TrainingRequest, settings: Settings) -> None:
    """Rows of one batch (and of the validation set) x hidden units within ``max_batch_units``.

    A training step keeps a few (rows, units) arrays per hidden layer: their size, not the
    number of points alone, sets a job's memory and the time of one step.
    """
    units = sum(request.hidden_layers)
    points = request.n_training_points
    validation_rows = math.ceil(request.validation_fraction * points)
    training_rows = points - math.floor(request.validation_fraction * points)
    batch_rows = min(request.batch_size or training_rows, training_rows)
    fitting_rows = settings.max_batch_units // units if units else training_rows
    if fitting_rows == 0:
        advice = "use fewer hidden units"
    elif validation_rows > batch_rows:
        advice = f"a validation_fraction of at most {fitting_rows / points:.3g} fits"
    else:
        advice = f"a batch_size of at most {fitting_rows} fits"
    kind = "validation rows" if validation_rows > batch_rows else "rows per batch"
    rows = max(batch_rows, validation_rows)
    check_limit(
        f"the {kind} x hidden units ({rows} x {units}; {advice})",
        rows * units,
        settings,
        "max_batch_units",
    )


def training_body_brackets(settings: Settings) -> int:
    """The most ``[`` a valid training body can hold besides one per point.

    The lists themselves (points, labels, hidden layers, weights, biases), one per weight
    row and per layer of the largest initial parameters the limits allow, and a name made
    of brackets.
    """
    layers = settings.max_hidden_layers + 1
    weight_rows = 2 + settings.max_hidden_layers * settings.max_units
    return 5 + 2 * layers + weight_rows + NAME_MAX_LENGTH


PREDICT_BODY_BRACKETS = 1 + MODEL_ID_MAX_LENGTH
"""The most ``[`` a valid prediction body holds besides one per point: the list, a model id."""


def check_bracket_count(
    body: bytes, other_brackets: int, what: str, settings: Settings, setting: str
) -> None:
    """Refuse a raw JSON body that clearly holds more points than the setting allows.

    Each point is a ``[x, y]`` pair, so counting ``[`` (a few milliseconds for megabytes)
    bounds the points from above once ``other_brackets``, the most any other part of a valid
    body can hold, are set aside. This runs before parsing, which costs far more time and
    memory than the body's size; the exact count is checked again after parsing.
    """
    estimate = body.count(b"[") - other_brackets
    check_limit(f"{what} (estimated from the '[' in the body)", estimate, settings, setting)
