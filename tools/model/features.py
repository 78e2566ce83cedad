"""The features of src/decision/features.cc, operation for operation.

A model is only as good as the agreement between the features it learnt on and the
ones the library computes when it decides, so this mirrors decision::Summarize and
decision::Features step by step: the same clipping, the same order of floating-point
operations (Python floats are IEEE doubles, math.log and math.log1p are the C
library's, as std::log and std::log1p are), integer rounding where the C++ rounds,
then a cast to float32. The manifest's checks prove the agreement in the C++ tests.
"""

import bisect
import math

import numpy as np

FEATURE_NAMES = (
    "log_price_over_ondemand",
    "log_price_over_mean_7d",
    "log_price_over_min_7d",
    "log_max_7d_over_price",
    "log1p_hours_since_change",
    "changes_7d",
    "deviation_day",
    "advisor_band",
    "advisor_savings",
)

HOUR_US = 3_600 * 1_000_000
WINDOW_US = 24 * 7 * HOUR_US  # kHistoryWindow
LOOKBACK_US = 24 * 9 * HOUR_US  # kHistoryLookback


def _seconds(us):
    # absl::ToDoubleSeconds: the correctly rounded quotient, as int / int is in Python.
    return us / 1_000_000


def _llround(x):
    """std::llround: halves away from zero (Python's round() rounds them to even).
    x - floor(x) is exact for the magnitudes of prices in micros."""
    if x < 0:
        return -_llround(-x)
    f = math.floor(x)
    return f + 1 if x - f >= 0.5 else f


class History:
    """decision::PriceHistory."""

    __slots__ = ("mean", "min", "max", "deviation_day", "changes", "since_change_us")


def _deviation(steps, start_us, now_us):
    """The anonymous Deviation() of features.cc: time-weighted standard deviation over
    mean of the step function on [start, now]."""
    def spans():
        for i, (t, p) in enumerate(steps):
            end = steps[i + 1][0] if i + 1 < len(steps) else now_us
            w = _seconds(min(end, now_us) - max(t, start_us))
            if w > 0:
                yield w, float(p)

    weight = 0.0
    total = 0.0
    for w, p in spans():
        weight += w
        total += w * p
    if weight <= 0:
        return 0.0
    mean = total / weight
    var = 0.0
    for w, p in spans():
        d = p - mean
        var += w * d * d
    return math.sqrt(var / weight) / mean if mean > 0 else 0.0


def summarize(steps, now_us):
    """decision::Summarize: the week before now_us of a pool's steps [(from_us,
    price_micros)] ordered by time, or None when no step took effect by now_us."""
    start = now_us - WINDOW_US
    froms = [t for t, _ in steps]
    # The step in effect when the week began, and every one that took effect since.
    first = bisect.bisect_right(froms, start)
    if first > 0:
        first -= 1
    last = bisect.bisect_right(froms, now_us, lo=first)
    if first == last:
        return None
    week = steps[first:last]

    h = History()
    h.min = h.max = week[0][1]
    h.changes = 0
    weight = 0.0
    total = 0.0
    for i, (t, p) in enumerate(week):
        end = week[i + 1][0] if i + 1 < len(week) else now_us
        w = _seconds(end - max(t, start))
        weight += w
        total += w * float(p)
        h.min = min(h.min, p)
        h.max = max(h.max, p)
        if i > 0 and p != week[i - 1][1]:
            h.changes += 1
    h.mean = _llround(total / weight) if weight > 0 else week[-1][1]
    h.since_change_us = min(now_us - week[-1][0], WINDOW_US)
    h.deviation_day = _deviation(week, now_us - 24 * HOUR_US, now_us)
    return h


def features(price, on_demand, advisor, history):
    """decision::Features of a pool with spot price `price` (micros): on_demand in
    micros or None, advisor (band_index, savings_percent) or None, history a History
    or None. float32s; NaN marks a missing feature."""
    f = [np.float32(np.nan)] * len(FEATURE_NAMES)
    price = float(price)
    if on_demand is not None:
        f[0] = np.float32(math.log(price / float(on_demand)))
    if history is not None:
        h = history
        f[1] = np.float32(math.log(price / float(h.mean)))
        f[2] = np.float32(math.log(price / float(h.min)))
        f[3] = np.float32(math.log(float(h.max) / price))
        # absl::ToDoubleHours: the correctly rounded quotient of the exact duration.
        f[4] = np.float32(math.log1p(h.since_change_us / HOUR_US))
        f[5] = np.float32(h.changes)
        f[6] = np.float32(h.deviation_day)
    if advisor is not None:
        band, savings_percent = advisor
        f[7] = np.float32(band)
        f[8] = np.float32(savings_percent / 100.0)
    return f
