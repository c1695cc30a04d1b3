"""The configured limits, checked before any work starts (413 naming the limit and its setting)."""

from service.errors import LimitExceeded
from service.schemas.jobs import TrainingRequest
from service.settings import Settings, setting_env_name


def check_limit(what: str, requested: int, settings: Settings, setting: str) -> None:
    """Raise :class:`LimitExceeded` when ``requested`` is over the setting named ``setting``."""
    limit: int = getattr(settings, setting)
    if requested > limit:
        raise LimitExceeded(what, requested, limit, setting_env_name(setting))


def check_training_limits(request: TrainingRequest, settings: Settings) -> None:
    """Epochs, training points, hidden layers and units per layer within their limits."""
    check_limit("epochs", request.epochs, settings, "max_epochs")
    check_limit(
        "the number of training points", request.n_training_points, settings, "max_training_points"
    )
    check_limit(
        "the number of hidden layers", len(request.hidden_layers), settings, "max_hidden_layers"
    )
    widest = max(request.hidden_layers, default=0)
    check_limit("the widest hidden layer", widest, settings, "max_units")
