"""Samples of the price model: the features of a pool at a time, as the library would
compute them when deciding, and what its price then did over the next 24 hours.

At time t the library knows a pool's observations of the last kHistoryLookback
(9 days) up to t: its steps are StepsFrom(Bucketize(those)), its spot price is the
last step's, its history Summarize(steps, t). A pool without an observation in that
window has no price there, so it gives no sample. The target looks forward over the
pool's steps from the whole history: log(time-weighted mean price over (t, t + 24 h]
/ price at t).
"""

import bisect
import math

from features import HOUR_US, LOOKBACK_US, features, summarize
from prices import bucketize, steps_from

HORIZON_US = 24 * HOUR_US


class Pool:
    """One spot pool: its observations and everything its features read."""

    def __init__(self, instance_type, az, series, on_demand, advisor):
        self.instance_type = instance_type
        self.az = az
        self.series = series
        self.on_demand = on_demand  # micros, or None
        self.advisor = advisor  # (band, savings_percent), or None
        self.steps = steps_from(bucketize(series.times, series.prices))
        self.step_froms = [t for t, _ in self.steps]

    @property
    def pool_id(self):
        return f"{self.instance_type}.{self.az}"

    def sample(self, t, known_until):
        """(features, target) at t, or None: when the library would have no price, or
        the observations before `known_until` do not reach t + 24 h (the pool may have
        gone, and a target must not read data from after its window)."""
        times, prices = self.series.window(t - LOOKBACK_US, t)
        if not times:
            return None
        end = t + HORIZON_US
        last = bisect.bisect_left(self.series.times, known_until) - 1
        if last < 0 or self.series.times[last] < end:
            return None
        steps = steps_from(bucketize(times, prices))
        price = steps[-1][1]
        row = features(price, self.on_demand, self.advisor, summarize(steps, t))
        return row, self._log_forecast_factor(t, end, price)

    def _log_forecast_factor(self, t, end, price):
        # Integer micro-dollar microseconds: exact, then one correctly rounded division.
        k = bisect.bisect_right(self.step_froms, t) - 1
        if self.steps[k][1] != price:
            raise AssertionError(f"{self.pool_id}: the steps of the lookback and of the "
                                 f"whole history disagree on the price at {t}")
        area = 0
        at, current = t, price
        for step_from, step_price in self.steps[k + 1:]:
            if step_from > end:
                break
            area += (step_from - at) * current
            at, current = step_from, step_price
        area += (end - at) * current
        return math.log(area / (HORIZON_US * price))


def samples(pools, first_us, to_us, grid_us, known_until):
    """Every sample at the grid times in [first_us, to_us), pool by pool in order.
    Returns (keys [(pool, t)], rows, targets)."""
    keys, rows, targets = [], [], []
    for pool in pools:
        for t in range(first_us, to_us, grid_us):
            s = pool.sample(t, known_until)
            if s is None:
                continue
            keys.append((pool, t))
            rows.append(s[0])
            targets.append(s[1])
    return keys, rows, targets
