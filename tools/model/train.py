#!/usr/bin/python3
"""Trains the price model (include/spotopt/decision/model.h) from the real eu-west-1
price history, and writes the model and its manifest.

    train.py [--data ../shared/data] [--out models/price-24h]

What it predicts: for a spot pool at time t, log(time-weighted mean price over
(t, t + 24 h] / price at t), from the features of src/decision/features.cc (mirrored
in features.py). It learns on the earlier part of the history and is evaluated on the
later part, never the other way round: no training target reads a price from the
evaluation window. Deterministic: the same data and seed give a byte-identical model.

Standard library, numpy and XGBoost only (Debian's python3-xgboost; see
scripts/train-model.sh for how it runs next to the library's build dependencies).
"""

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

from dataset import HORIZON_US, Pool, samples
from features import FEATURE_NAMES, HOUR_US, LOOKBACK_US
from prices import (format_time, parse_time_us, read_advisor, read_on_demand,
                    read_spot_history)

REGION = "eu-west-1"
SPOT_FILES = (
    "aws-spot-price-history/euw1_linux_2021-12-13_2022-03-13.tsv.gz",
    "aws-spot-price-history/euw1_linux_2022-03-09_2022-06-07.tsv.gz",
)
ON_DEMAND_FILE = "ondemand-linux.csv"
ADVISOR_FILE = "aws-spot-advisor/spot-advisor-data_2021-02.json"

NAME = "model"
VERSION = "2026.12.0"
TARGET = ("log(time-weighted mean spot price of the pool over the next 24 hours / "
          "its spot price now), the log of the forecast factor")

# Samples every 6 hours, on the UTC grid (a multiple of the 300 s bucket, so a
# lookback never cuts a bucket).
GRID_US = 6 * HOUR_US
TRAIN_FROM = parse_time_us("2021-12-13T00:00:00+00:00")
TRAIN_TO = parse_time_us("2022-04-01T00:00:00+00:00")
EVAL_FROM = TRAIN_TO
EVAL_TO = parse_time_us("2022-06-06T00:00:00+00:00")
# The history starts on 2021-12-13: training samples start a full lookback later, so
# none is computed from a week the data does not have.
FIRST_TRAIN_SAMPLE = TRAIN_FROM + LOOKBACK_US

SEED = 20261201
ROUNDS = 150
# Small, shallow and deterministic: one thread, no subsampling, the histogram method.
# base_score 0: the no-change forecast is where the trees start from.
PARAMS = {
    "objective": "reg:squarederror",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.1,
    "min_child_weight": 100,
    "lambda": 1.0,
    "base_score": 0.0,
    "nthread": 1,
    "seed": SEED,
}

MODEL_FILE = "model.json"
MANIFEST_FILE = "manifest.json"
MOVE = math.log(1.05)  # a "move": the mean of the next 24 h 5 % or more off the price


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_pools(data):
    history = read_spot_history([os.path.join(data, f) for f in SPOT_FILES])
    on_demand = read_on_demand(os.path.join(data, ON_DEMAND_FILE), REGION)
    advisor = read_advisor(os.path.join(data, ADVISOR_FILE), REGION, "Linux")
    return [Pool(t, az, series, on_demand.get(t), advisor.get(t))
            for (t, az), series in sorted(history.items())]


def matrix(rows):
    return np.array(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))


def evaluate(predictions, targets, rows):
    """How the model does against the no-change forecast (0) on held-out samples."""
    p = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    moves = np.abs(y) >= MOVE
    changed = matrix(rows)[:, FEATURE_NAMES.index("changes_7d")] > 0

    def rmse(e):
        return float(np.sqrt(np.mean(e * e))) if e.size else float("nan")

    return {
        "samples": int(y.size),
        "rmse": rmse(p - y),
        "rmse_no_change": rmse(y),
        "mae": float(np.mean(np.abs(p - y))),
        "mae_no_change": float(np.mean(np.abs(y))),
        "share_unchanged_24h": float(np.mean(y == 0)),
        "moves_5pct": int(moves.sum()),
        # Of the moves of 5 % or more, how often the forecast points the right way.
        "moves_5pct_sign_right": float(np.mean(np.sign(p[moves]) == np.sign(y[moves]))),
        "moves_5pct_rmse": rmse(p[moves] - y[moves]),
        "moves_5pct_rmse_no_change": rmse(y[moves]),
        # Pools whose price moved in the last week, where a forecast has something to say.
        "changed_7d_samples": int(changed.sum()),
        "changed_7d_rmse": rmse(p[changed] - y[changed]),
        "changed_7d_rmse_no_change": rmse(y[changed]),
    }


def pick_checks(keys, rows, predictions):
    """A handful of evaluation rows that exercise every feature, one instance type
    each: the C++ tests recompute their features from the real data and predict on
    them. Deterministic (ties go to the pool id, then the time)."""
    x = matrix(rows)
    col = {name: x[:, i] for i, name in enumerate(FEATURE_NAMES)}
    week = np.float32(math.log1p(24 * 7))
    nan = np.isnan
    criteria = (
        # (what, which rows qualify, the larger the better)
        ("most changes in the week", np.ones(len(rows), bool), col["changes_7d"]),
        ("most volatile day", np.ones(len(rows), bool), col["deviation_day"]),
        ("changed just now", col["changes_7d"] > 0, -col["log1p_hours_since_change"]),
        ("no on-demand price", nan(col["log_price_over_ondemand"]), col["changes_7d"]),
        ("no Spot Advisor entry", nan(col["advisor_band"]), col["deviation_day"]),
        ("flat all week", col["changes_7d"] == 0, col["log_price_over_ondemand"]),
        # Its lookback starts after the week's: the shortest such history.
        ("history shorter than the week",
         (col["changes_7d"] == 0) & (col["log1p_hours_since_change"] < week),
         -col["log1p_hours_since_change"]),
        ("largest forecast", np.ones(len(rows), bool), np.abs(np.asarray(predictions))),
    )
    order = sorted(range(len(keys)), key=lambda i: (keys[i][0].pool_id, keys[i][1]))
    used_types = set()
    checks = []
    for what, qualifies, score in criteria:
        best = None
        for i in order:
            if not qualifies[i] or keys[i][0].instance_type in used_types or nan(score[i]):
                continue
            if best is None or score[i] > score[best]:
                best = i
        if best is None:
            raise AssertionError(f"no evaluation row for the check {what!r}")
        pool, t = keys[best]
        used_types.add(pool.instance_type)
        checks.append({
            "what": what,
            "region": REGION,
            "pool_id": pool.pool_id,
            "at": format_time(t),
            "features": [None if nan(v) else float(v) for v in x[best]],
            "prediction": float(np.float32(predictions[best])),
        })
    return checks


def rounded(figures):
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in figures.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--out", default="models/price-24h")
    args = parser.parse_args()

    pools = load_pools(args.data)
    # Training never reads an observation from the evaluation window: every target
    # ends, and every "the pool is still there" is seen, before TRAIN_TO. Evaluation
    # targets may read up to the end of the data.
    train_keys, train_rows, train_y = samples(pools, FIRST_TRAIN_SAMPLE,
                                              TRAIN_TO - HORIZON_US, GRID_US, TRAIN_TO)
    eval_keys, eval_rows, eval_y = samples(pools, EVAL_FROM, EVAL_TO, GRID_US,
                                           math.inf)

    train = xgb.DMatrix(matrix(train_rows), label=np.asarray(train_y, dtype=np.float32),
                        missing=np.nan, feature_names=list(FEATURE_NAMES))
    booster = xgb.train(PARAMS, train, num_boost_round=ROUNDS)
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, MODEL_FILE)
    booster.save_model(model_path)

    # Everything below reads the model back from its file, as the library will.
    saved = xgb.Booster(params={"nthread": 1}, model_file=model_path)
    held_out = xgb.DMatrix(matrix(eval_rows), missing=np.nan,
                           feature_names=list(FEATURE_NAMES))
    predictions = saved.predict(held_out)
    figures = evaluate(predictions, eval_y, eval_rows)

    manifest = {
        "name": NAME,
        "version": VERSION,
        "format": "xgboost-json",
        "model_file": MODEL_FILE,
        "sha256": sha256_file(model_path),
        "features": list(FEATURE_NAMES),
        "target": TARGET,
        "training": {
            "from": format_time(TRAIN_FROM),
            "to": format_time(TRAIN_TO),
            "first_sample": format_time(FIRST_TRAIN_SAMPLE),
            "grid_hours": GRID_US // HOUR_US,
            "samples": len(train_y),
            "pools": len({k[0].pool_id for k in train_keys}),
            "seed": SEED,
            "rounds": ROUNDS,
            "params": PARAMS,
            "xgboost": xgb.__version__,
            "data": [{"file": f, "sha256": sha256_file(os.path.join(args.data, f))}
                     for f in (*SPOT_FILES, ON_DEMAND_FILE, ADVISOR_FILE)],
        },
        "evaluation": {
            "from": format_time(EVAL_FROM),
            "to": format_time(EVAL_TO),
            "pools": len({k[0].pool_id for k in eval_keys}),
            **rounded(figures),
        },
        "checks": pick_checks(eval_keys, eval_rows, predictions),
    }
    with open(os.path.join(args.out, MANIFEST_FILE), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    e = figures
    print(f"{NAME} {VERSION}: {model_path} sha256 {manifest['sha256']}")
    print(f"  trained on {len(train_y)} samples ({manifest['training']['pools']} pools), "
          f"{format_time(FIRST_TRAIN_SAMPLE)} .. {format_time(TRAIN_TO)}")
    print(f"  evaluated on {e['samples']} samples ({manifest['evaluation']['pools']} pools), "
          f"{format_time(EVAL_FROM)} .. {format_time(EVAL_TO)}")
    print(f"  RMSE {e['rmse']:.6f} vs no-change {e['rmse_no_change']:.6f}; "
          f"MAE {e['mae']:.6f} vs {e['mae_no_change']:.6f}")
    print(f"  {e['share_unchanged_24h']:.1%} of samples keep their price for 24 h; "
          f"{e['moves_5pct']} moves of 5 % or more, sign right on "
          f"{e['moves_5pct_sign_right']:.1%}, RMSE {e['moves_5pct_rmse']:.6f} vs "
          f"{e['moves_5pct_rmse_no_change']:.6f}")
    print(f"  pools that moved in the last week: {e['changed_7d_samples']} samples, RMSE "
          f"{e['changed_7d_rmse']:.6f} vs {e['changed_7d_rmse_no_change']:.6f}")
    print(f"  {len(manifest['checks'])} checks written to {args.out}/{MANIFEST_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
