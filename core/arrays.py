"""Array type aliases shared by the core: float64 arrays and int64 label arrays."""

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
LabelArray = NDArray[np.int64]
