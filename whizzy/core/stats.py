"""Small statistics shared by the eval report and the bench.

>>> percentile([10, 20, 30, 40], 50), percentile([10, 20, 30, 40], 95), percentile([], 50)
(25.0, 38.5, None)
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation; None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))
