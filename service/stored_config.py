"""Fields that configurations stored by earlier releases lack, read with what they meant."""

from collections.abc import Mapping
from typing import Any

from core.features import DEFAULT_FEATURES


def stored_features(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The input features of a stored configuration; the plain coordinates when it has none."""
    return tuple(config.get("features", DEFAULT_FEATURES))


def stored_l1(config: Mapping[str, Any]) -> float:
    """The L1 penalty of a stored configuration; none (0) when it predates L1."""
    return float(config.get("l1", 0.0))
