"""The backtest from Python (bindings/python/spotopt/backtest.py over
libspotopt_backtest.so): results as dicts, and the binding's typed errors."""
import os

import pytest

import spotopt
from spotopt import backtest

if not os.environ.get("SPOTOPT_BACKTEST_LIBRARY"):
    pytest.skip("libspotopt_backtest was not built (SPOTOPT_BACKTEST_LIBRARY unset)",
                allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLICE = {"data_dir": os.path.join(ROOT, "..", "shared", "data"),
         "types": ["m5.large", "c5.large"], "family": None,
         "start": "2022-02-01T00:00:00Z", "end": "2022-02-05T00:00:00Z", "evaluation": False}


def test_results_are_dicts_with_the_ledger_figures():
    results = backtest.run(SLICE, strategies=["on-demand", "stay-put", "oracle"])
    [section] = results["sections"]
    assert section["name"] == "types"
    assert section["agents"] == 2
    by_name = {s["name"]: s for s in section["strategies"]}
    assert list(by_name) == ["on-demand", "stay-put", "oracle"]
    assert by_name["on-demand"]["savings_micros"] == 0
    assert by_name["oracle"]["cost_micros"] <= by_name["stay-put"]["cost_micros"]
    for s in by_name.values():
        assert isinstance(s["cost_micros"], int)
        assert sum(a["cost_micros"] for a in s["agents"]) == s["cost_micros"]
        assert sum(cost for _, cost in s["daily_cost_micros"]) == s["cost_micros"]
    assert results["config"]["types"] == ["m5.large", "c5.large"]


def test_bad_config_raises_the_binding_errors():
    with pytest.raises(spotopt.InvalidArgument, match="config.tpyes: unknown key"):
        backtest.run(tpyes=["m5.large"])
    with pytest.raises(spotopt.InvalidArgument, match="no strategy 'aws-cheapest'"):
        backtest.run(SLICE, strategies=["aws-cheapest"])
    with pytest.raises(spotopt.NotFound):
        backtest.run(SLICE, data_dir="/nonexistent")
