"""Share a total daily budget across campaigns by equalising marginal return.

For concave curves conv_i(x) = a_i·x^b_i (b_i < 1) the optimum under a total and per-campaign
bounds gives every campaign not at a bound the same marginal conversions per unit of
budget λ: x_i(λ) = (a_i·b_i / λ)^(1 / (1 − b_i)), clipped to its bounds. The total is
monotone in λ, so bisection on λ finds the exact optimum (no step size, unlike a greedy
allocator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Curve:
    key: int
    scale: float  # conversions a day = scale * budget ** shape
    shape: float
    low: float
    high: float

    def value(self, budget: float) -> float:
        return 0.0 if budget <= 0 else self.scale * budget**self.shape

    def at_price(self, price: float) -> float:
        """The budget where one more unit buys `price` conversions, within bounds."""
        if self.scale <= 0:
            return self.low
        budget = (self.scale * self.shape / price) ** (1 / (1 - self.shape))
        return min(self.high, max(self.low, budget))


def allocate(curves: Sequence[Curve], total: float) -> dict[int, float]:
    """Budgets per curve key summing to `total` (clamped to the bounds' sum)."""
    if not curves:
        return {}
    lowest = sum(c.low for c in curves)
    highest = sum(c.high for c in curves)
    if total <= lowest:
        return {c.key: c.low for c in curves}
    if total >= highest:
        return {c.key: c.high for c in curves}
    lo, hi = 1e-12, 1e12  # λ: marginal conversions per unit of budget
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        spent = sum(c.at_price(mid) for c in curves)
        if spent > total:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1 + 1e-10:
            break
    budgets = {c.key: c.at_price(hi) for c in curves}
    # Bisection leaves a sliver unspent; give it to the curves not at their upper bound.
    rest = total - sum(budgets.values())
    free = [c for c in curves if budgets[c.key] < c.high]
    for c in free:
        budgets[c.key] += rest / len(free)
    return budgets
