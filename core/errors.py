"""Errors the core raises: plain exceptions that carry no HTTP or transport concerns."""


class CoreError(ValueError):
    """Base class of every error the core raises for bad input or a failed training."""


class DataError(CoreError):
    """Points or labels are malformed: wrong shape, non-finite values, bad labels."""


class ParameterError(CoreError):
    """Network parameters are malformed: wrong shapes, non-finite values, bad encoding."""


class ConfigError(CoreError):
    """A training configuration names something unknown or holds an impossible value."""


class TrainingDiverged(CoreError):
    """The loss became NaN or infinite, so the parameters are no longer meaningful."""

    def __init__(self, epoch: int, loss: float) -> None:
        super().__init__(
            f"training diverged at epoch {epoch}: the loss became {loss}; "
            "try a smaller learning rate"
        )
        self.epoch = epoch
        self.loss = loss


class TrainingCancelled(Exception):
    """Training stopped because the caller asked it to; not an error of the input."""

    def __init__(self, epoch: int) -> None:
        super().__init__(f"training cancelled at epoch {epoch}")
        self.epoch = epoch
