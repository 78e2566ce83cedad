"""The backtest of examples/backtest from Python: the run spotopt-backtest makes, with
the results as dicts.

    from spotopt import backtest
    results = backtest.run({"types": ["m5.large", "c5.large"], "family": None})
    for strategy in results["sections"][0]["strategies"]:
        print(strategy["name"], strategy["cost_micros"], strategy["switches"])

The config keys are those of examples/backtest/README.md ("The config"); keyword
arguments are added to it. Money is in integer micro-dollars, as the savings ledger
keeps it. A refused config raises spotopt.InvalidArgument, a missing data file
spotopt.NotFound. The data directory (data_dir, default ../shared/data) is relative to
the working directory.

The harness is libspotopt_backtest.so, built beside libspotopt in examples/backtest (it
reads files, which libspotopt never does): $SPOTOPT_BACKTEST_LIBRARY, else the system's
library path.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
from typing import Any, Dict, Mapping, Optional

from . import Internal, _ERRORS

__all__ = ["run"]

_lib: Optional[ctypes.CDLL] = None


def _load() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        path = (os.environ.get("SPOTOPT_BACKTEST_LIBRARY")
                or ctypes.util.find_library("spotopt_backtest"))
        if not path:
            raise ImportError("libspotopt_backtest not found: set SPOTOPT_BACKTEST_LIBRARY to "
                              "build/<preset>/examples/backtest/libspotopt_backtest.so")
        lib = ctypes.CDLL(path)
        lib.spotopt_backtest_run.restype = ctypes.c_int
        lib.spotopt_backtest_run.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.spotopt_backtest_free.restype = None
        lib.spotopt_backtest_free.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib


def run(config: Optional[Mapping[str, Any]] = None, **keys: Any) -> Dict[str, Any]:
    """Runs a backtest and returns its results document as a dict.

    The call holds no Python lock while the harness works (ctypes releases the GIL).
    """
    lib = _load()
    merged = dict(config or {})
    merged.update(keys)
    out = ctypes.c_void_p()
    status = lib.spotopt_backtest_run(json.dumps(merged).encode(), ctypes.byref(out))
    try:
        document = json.loads(ctypes.string_at(out.value).decode()) if out.value else {}
    finally:
        lib.spotopt_backtest_free(out)
    if status:
        error = _ERRORS[status] if 0 < status < len(_ERRORS) else Internal
        raise error(document.get("error", {}).get("message", "backtest failed"))
    return document
