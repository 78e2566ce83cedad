"""libspotopt for Python: a ctypes binding over the stable C ABI (capi/spotopt.h).

No compiler at install time and nothing outside the standard library. The shared
library is found through $SPOTOPT_LIBRARY (a path to libspotopt.so.N), else the
system's library search (ctypes.util.find_library).

    with spotopt.Controller("sqlite:spotopt.db") as c:
        tenant_id, token = c.create_tenant("acme")
        status, body = c.handle_request("POST", "/api/agents/register",
                                        authorization=f"Bearer {token}", body=b"{...}")

A Controller may be used from several threads at once; close() must not race with
other calls.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import time
from typing import Optional, Tuple

__all__ = ["Controller", "SpotoptError", "InvalidArgument", "NotFound", "FailedPrecondition",
           "AlreadyExists", "Unauthenticated", "PermissionDenied", "Unavailable", "Internal",
           "version"]


class SpotoptError(Exception):
    """A call into libspotopt failed; the subclass names the status."""


class InvalidArgument(SpotoptError):
    pass


class NotFound(SpotoptError):
    pass


class FailedPrecondition(SpotoptError):
    pass


class AlreadyExists(SpotoptError):
    pass


class Unauthenticated(SpotoptError):
    pass


class PermissionDenied(SpotoptError):
    pass


class Unavailable(SpotoptError):
    pass


class Internal(SpotoptError):
    pass


# spotopt_status values, in the header's order. Unknown values are Internal (the
# header's compatibility promise allows new ones).
_ERRORS = [None, InvalidArgument, NotFound, FailedPrecondition, AlreadyExists,
           Unauthenticated, PermissionDenied, Unavailable, Internal]


def _load() -> ctypes.CDLL:
    path = os.environ.get("SPOTOPT_LIBRARY") or ctypes.util.find_library("spotopt")
    if not path:
        raise ImportError("libspotopt not found: set SPOTOPT_LIBRARY to libspotopt.so's path")
    lib = ctypes.CDLL(path)
    signatures = {
        "spotopt_version": (ctypes.c_char_p, []),
        "spotopt_last_error": (ctypes.c_char_p, []),
        "spotopt_free": (None, [ctypes.c_void_p]),
        "spotopt_controller_open": (ctypes.c_int, [ctypes.c_char_p,
                                                   ctypes.POINTER(ctypes.c_void_p)]),
        "spotopt_controller_close": (None, [ctypes.c_void_p]),
        "spotopt_tenant_create": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p,
                                                 ctypes.POINTER(ctypes.c_void_p),
                                                 ctypes.POINTER(ctypes.c_void_p)]),
        "spotopt_tick": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64]),
        "spotopt_handle_request": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p,
                                                  ctypes.c_char_p, ctypes.c_char_p,
                                                  ctypes.c_char_p, ctypes.c_size_t,
                                                  ctypes.POINTER(ctypes.c_int),
                                                  ctypes.POINTER(ctypes.c_void_p)]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib = _load()


def version() -> str:
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.spotopt_version().decode()


def _check(status: int) -> None:
    if status == 0:
        return
    error = _ERRORS[status] if 0 < status < len(_ERRORS) else Internal
    raise error(_lib.spotopt_last_error().decode("utf-8", "replace"))


def _take_string(pointer: ctypes.c_void_p) -> str:
    """Copies a library-allocated string and frees it."""
    try:
        return ctypes.string_at(pointer).decode("utf-8")
    finally:
        _lib.spotopt_free(pointer)


class Controller:
    """A libspotopt controller over a store: "memory:" or "sqlite:PATH"."""

    def __init__(self, store_uri: str) -> None:
        self._handle: Optional[ctypes.c_void_p] = None  # so __del__ works if open fails
        handle = ctypes.c_void_p()
        _check(_lib.spotopt_controller_open(store_uri.encode(), ctypes.byref(handle)))
        self._handle = handle

    def close(self) -> None:
        """Closes the store. Idempotent."""
        if self._handle is not None:
            _lib.spotopt_controller_close(self._handle)
            self._handle = None

    def __enter__(self) -> "Controller":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _live(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise FailedPrecondition("controller is closed")
        return self._handle

    def create_tenant(self, name: str) -> Tuple[str, str]:
        """Creates a tenant; returns (tenant_id, token). The token is shown only now."""
        tenant_id, token = ctypes.c_void_p(), ctypes.c_void_p()
        _check(_lib.spotopt_tenant_create(self._live(), name.encode(), ctypes.byref(tenant_id),
                                          ctypes.byref(token)))
        return _take_string(tenant_id), _take_string(token)

    def tick(self, now: Optional[float] = None) -> None:
        """Runs the periodic work as of `now` (seconds since the epoch; default: now)."""
        seconds = time.time() if now is None else now
        _check(_lib.spotopt_tick(self._live(), int(seconds * 1_000_000)))

    def handle_request(self, method: str, target: str, *, authorization: Optional[str] = None,
                       body: bytes = b"") -> Tuple[int, str]:
        """Answers one agent protocol request; returns (HTTP status, JSON body)."""
        status = ctypes.c_int()
        response = ctypes.c_void_p()
        _check(_lib.spotopt_handle_request(
            self._live(), method.encode(), target.encode(),
            authorization.encode() if authorization is not None else None,
            body, len(body), ctypes.byref(status), ctypes.byref(response)))
        return status.value, _take_string(response)
