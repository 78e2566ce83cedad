"""Loads libspotopt and declares the C ABI's signatures once (capi/spotopt.h).

The library is, in this order: $SPOTOPT_LIBRARY (a path to libspotopt.so.N); the
library `cmake --install` put next to this package (its path is in the generated
_config.py); the system's library search (ctypes.util.find_library).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_int64 = ctypes.c_int64
c_size_t = ctypes.c_size_t
c_void_p = ctypes.c_void_p
# Outputs the library allocates: void* so ctypes does not copy-and-lose the pointer
# that spotopt_free needs.
out_p = ctypes.POINTER(c_void_p)

NOW_FN = ctypes.CFUNCTYPE(c_int64, c_void_p)
# spotopt_engine_fn and spotopt_release_fn.
ENGINE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, ctypes.POINTER(c_char_p))
RELEASE_FN = ctypes.CFUNCTYPE(None, c_void_p)


class Header(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


class HttpResponse(ctypes.Structure):
    _fields_ = [("status", c_int), ("headers", ctypes.POINTER(Header)),
                ("header_count", c_size_t), ("body", c_void_p), ("body_len", c_size_t)]


_SIGNATURES = {
    "spotopt_version": (c_char_p, []),
    "spotopt_last_error": (c_char_p, []),
    "spotopt_free": (None, [c_void_p]),
    "spotopt_clock_create_manual": (c_int, [c_int64, out_p]),
    "spotopt_clock_create_callback": (c_int, [NOW_FN, c_void_p, out_p]),
    "spotopt_clock_set": (c_int, [c_void_p, c_int64]),
    "spotopt_clock_advance": (c_int, [c_void_p, c_int64]),
    "spotopt_clock_now": (c_int, [c_void_p, ctypes.POINTER(c_int64)]),
    "spotopt_clock_destroy": (None, [c_void_p]),
    "spotopt_controller_open": (c_int, [c_char_p, out_p]),
    "spotopt_controller_open_with_clock": (c_int, [c_char_p, c_void_p, out_p]),
    "spotopt_controller_close": (None, [c_void_p]),
    "spotopt_tick": (c_int, [c_void_p, c_int64]),
    "spotopt_tenant_create": (c_int, [c_void_p, c_char_p, out_p, out_p]),
    "spotopt_tenant_get": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_tenant_list": (c_int, [c_void_p, out_p]),
    "spotopt_tenant_suspend": (c_int, [c_void_p, c_char_p]),
    "spotopt_tenant_reactivate": (c_int, [c_void_p, c_char_p]),
    "spotopt_tenant_delete": (c_int, [c_void_p, c_char_p]),
    "spotopt_tenant_rotate_token": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_tenant_authenticate": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_agent_get": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_agent_list": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_agent_set_enabled": (c_int, [c_void_p, c_char_p, c_char_p, c_int]),
    "spotopt_agent_delete": (c_int, [c_void_p, c_char_p, c_char_p]),
    "spotopt_agent_events": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_agent_heartbeat": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_char_p,
                                        c_char_p, c_char_p, ctypes.POINTER(c_int64)]),
    "spotopt_config_get": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_config_update": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_int64, out_p]),
    "spotopt_command_enqueue_switch": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_p]),
    "spotopt_command_enqueue_create_replica": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p,
                                                       out_p]),
    "spotopt_command_poll": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_command_ack": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_int, c_char_p,
                                    out_p]),
    "spotopt_command_cancel": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_char_p,
                                       out_p]),
    "spotopt_command_get": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_command_list": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_replica_request": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_p]),
    "spotopt_replica_promote": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_int, out_p]),
    "spotopt_replica_terminate": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_p]),
    "spotopt_replica_list": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_incident_list": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_switch_list": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_prices_import": (c_int, [c_void_p, c_char_p, c_char_p, ctypes.POINTER(c_int64)]),
    "spotopt_price_series": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_char_p, c_int64,
                                     c_int64, c_char_p, out_p]),
    "spotopt_prices_latest": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_market": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_p]),
    "spotopt_advisor_load": (c_int, [c_void_p, c_char_p, c_size_t, ctypes.POINTER(c_int64)]),
    "spotopt_savings": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_p]),
    "spotopt_decide": (c_int, [c_void_p, c_char_p, c_char_p, out_p]),
    "spotopt_decisions_run": (c_int, [c_void_p, c_int64, out_p]),
    "spotopt_decisions_list": (c_int, [c_void_p, c_char_p, c_char_p, c_int64, c_int64, out_p]),
    "spotopt_engines_list": (c_int, [c_void_p, out_p]),
    "spotopt_engine_register_model": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t, out_p]),
    "spotopt_engine_register": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_char_p,
                                        ENGINE_FN, c_void_p, RELEASE_FN]),
    "spotopt_engine_unregister": (c_int, [c_void_p, c_char_p, c_char_p]),
    "spotopt_tenant_engines": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_engine_activate": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_p]),
    "spotopt_engine_rollback": (c_int, [c_void_p, c_char_p, out_p]),
    "spotopt_handle_request": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_char_p,
                                       c_size_t, ctypes.POINTER(c_int), out_p]),
    "spotopt_handle_http": (c_int, [c_void_p, c_char_p, c_char_p, ctypes.POINTER(Header),
                                    c_size_t, c_char_p, c_size_t,
                                    ctypes.POINTER(ctypes.POINTER(HttpResponse))]),
    "spotopt_http_response_free": (None, [ctypes.POINTER(HttpResponse)]),
}


def _library_path() -> str:
    path = os.environ.get("SPOTOPT_LIBRARY")
    if path:
        return path
    try:
        from . import _config  # written by cmake --install
    except ImportError:
        found = ctypes.util.find_library("spotopt")
        if not found:
            raise ImportError("libspotopt not found: set SPOTOPT_LIBRARY to the path of "
                              "libspotopt.so.0, or install the package with cmake --install")
        return found
    return os.path.normpath(os.path.join(os.path.dirname(__file__), _config.LIBRARY))


def load() -> ctypes.CDLL:
    lib = ctypes.CDLL(_library_path())
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib
