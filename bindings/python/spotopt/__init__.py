"""libspotopt for Python: a ctypes binding over the stable C ABI (capi/spotopt.h).

No compiler at install time and nothing outside the standard library. Records come
back as dicts (and lists of dicts) in the shapes the C header documents; failures
raise a subclass of SpotoptError named after the C status.

    with spotopt.Controller("sqlite:spotopt.db") as c:
        tenant_id, token = c.create_tenant("acme")
        response = c.handle_http("POST", "/api/agents/register",
                                 headers=[("Authorization", f"Bearer {token}")],
                                 body=b'{"instance_id": "i-0123456789abcdef0", ...}')
        for agent in c.agents(tenant_id):
            print(agent["logical_agent_id"], agent["liveness"])

Time is seconds since the Unix epoch (float) or an aware datetime. Tests and
backtests drive time with a ManualClock:

    clock = spotopt.ManualClock(datetime(2025, 11, 23, tzinfo=timezone.utc))
    with spotopt.Controller("memory:", clock=clock) as c:
        clock.advance(120)
        c.tick()  # at the clock's time

A Controller may be used from several threads at once (the C library releases the
GIL while it works); close() must not race with other calls.

Where the library comes from: $SPOTOPT_LIBRARY, else the libspotopt that
`cmake --install` put next to this package, else the system's library path.
"""
from __future__ import annotations

import ctypes
import itertools
import json
import os
import threading
import time
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _native

__all__ = ["Controller", "ManualClock", "CallbackClock", "Clock", "CreatedTenant",
           "HttpResponse", "SpotoptError", "InvalidArgument", "NotFound", "FailedPrecondition",
           "AlreadyExists", "Unauthenticated", "PermissionDenied", "Unavailable", "Internal",
           "version", "__version__"]

Record = Dict[str, Any]
Moment = Union[float, int, datetime]
Text = Union[str, bytes]


class SpotoptError(Exception):
    """A call into libspotopt failed; the subclass names the status."""


class InvalidArgument(SpotoptError):
    """Bad input: a malformed argument, unknown key, invalid value or store URI."""


class NotFound(SpotoptError):
    """Unknown id, or an id of another tenant (the two look the same)."""


class FailedPrecondition(SpotoptError):
    """An illegal state transition or a refused guard; nothing changed."""


class AlreadyExists(SpotoptError):
    """The record exists already."""


class Unauthenticated(SpotoptError):
    """Missing, malformed, unknown or expired token, or a deleted tenant."""


class PermissionDenied(SpotoptError):
    """The tenant is suspended."""


class Unavailable(SpotoptError):
    """Transient (store busy, transaction conflict): retrying may succeed."""


class Internal(SpotoptError):
    """Anything else: a bug, a corrupt store, out of memory."""


# spotopt_status values, in the header's order. Unknown values are Internal (the
# header's compatibility promise allows new ones).
_ERRORS = [None, InvalidArgument, NotFound, FailedPrecondition, AlreadyExists,
           Unauthenticated, PermissionDenied, Unavailable, Internal]

_lib = _native.load()
# Bound once: attribute lookups on the CDLL cost more than the calls themselves.
_free = _lib.spotopt_free
_last_error = _lib.spotopt_last_error
_heartbeat = _lib.spotopt_agent_heartbeat
_poll = _lib.spotopt_command_poll
_byref = ctypes.byref
_string_at = ctypes.string_at
_c_int64 = ctypes.c_int64
_c_void_p = ctypes.c_void_p
# Open ends of a time range, as the C ABI spells them.
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def version() -> str:
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.spotopt_version().decode()


# The loaded library's version, as Python packages spell it.
__version__ = version()


def _raise(status: int) -> None:
    error = _ERRORS[status] if 0 < status < len(_ERRORS) else Internal
    raise error(_last_error().decode("utf-8", "replace"))


def _check(status: int) -> None:
    if status:
        _raise(status)


def _b(value: Text) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _ob(value: Optional[Text]) -> Optional[bytes]:
    return None if value is None else _b(value)


def _micros(t: Moment) -> int:
    seconds = t.timestamp() if isinstance(t, datetime) else t
    return round(seconds * 1_000_000)


def _take(pointer: _c_void_p) -> bytes:
    """Copies a library-allocated string and frees it."""
    try:
        return _string_at(pointer)
    finally:
        _free(pointer)


def _take_json(pointer: _c_void_p) -> Any:
    return json.loads(_take(pointer))


# Host engines the library may still call, by the key their user_data carries. The
# library releases one (spotopt_release_fn) once it is unregistered and no decision
# uses it any more; only then may its callback be collected.
_engines: Dict[int, Any] = {}
_engine_keys = itertools.count(1)
_engines_lock = threading.Lock()


def _release_engine(user_data: Optional[int]) -> None:
    with _engines_lock:
        _engines.pop(user_data or 0, None)


_RELEASE = _native.RELEASE_FN(_release_engine)


class _HostEngine:
    """Adapts a Python callable to spotopt_engine_fn: the input as a dict in, a
    decision dict out. The answer's bytes live in a per-thread slot until the same
    thread's next call, as the C ABI asks."""

    def __init__(self, decide: Callable[[Record], Mapping[str, Any]]) -> None:
        self._decide = decide
        self._answers = threading.local()
        self.callback = _native.ENGINE_FN(self._call)

    def _call(self, _user_data: Any, input_json: bytes, out: Any) -> int:
        try:
            answer = json.dumps(self._decide(json.loads(input_json))).encode()
        except Exception:  # the library falls back to another engine
            return 1
        self._answers.last = ctypes.c_char_p(answer)
        out[0] = self._answers.last
        return 0


def _request(**fields: Any) -> bytes:
    """A JSON request object of the fields that were given."""
    return json.dumps({k: v for k, v in fields.items() if v is not None}).encode()


class Clock:
    """A clock a Controller can read instead of the system clock."""

    _handle: Optional[_c_void_p] = None  # so __del__ works if creating it failed

    def __init__(self, handle: _c_void_p) -> None:
        self._handle = handle

    def now(self) -> float:
        """The clock's time, seconds since the epoch."""
        micros = _c_int64()
        _check(_lib.spotopt_clock_now(self._handle, _byref(micros)))
        return micros.value / 1_000_000

    def close(self) -> None:
        """Releases this handle; controllers opened with the clock keep using it."""
        if self._handle is not None:
            _lib.spotopt_clock_destroy(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()


class ManualClock(Clock):
    """A clock that stands still until set or advanced. Thread-safe."""

    def __init__(self, start: Moment) -> None:
        handle = _c_void_p()
        _check(_lib.spotopt_clock_create_manual(_micros(start), _byref(handle)))
        super().__init__(handle)

    def set(self, now: Moment) -> None:
        """Moves the clock to `now` (backwards too)."""
        _check(_lib.spotopt_clock_set(self._handle, _micros(now)))

    def advance(self, seconds: float) -> None:
        """Moves the clock forward; InvalidArgument for a negative step."""
        _check(_lib.spotopt_clock_advance(self._handle, round(seconds * 1_000_000)))


class CallbackClock(Clock):
    """A clock that calls `now()` (seconds since the epoch) at every read. The
    library calls it from whichever thread is inside a call, so it must be
    thread-safe, fast and must not raise."""

    def __init__(self, now: Callable[[], Moment]) -> None:
        # Kept alive as long as this object: the library holds only the pointer.
        self._callback = _native.NOW_FN(lambda _: _micros(now()))
        handle = _c_void_p()
        _check(_lib.spotopt_clock_create_callback(self._callback, None, _byref(handle)))
        super().__init__(handle)


class CreatedTenant(NamedTuple):
    tenant_id: str
    token: str  # plaintext, shown only now


class HttpResponse(NamedTuple):
    """An agent protocol answer: send every header (Content-Type, Allow on 405,
    Retry-After on 503) and the JSON body."""
    status: int
    headers: List[Tuple[str, str]]
    body: bytes


class Controller:
    """The control plane over a store: "memory:", "sqlite:PATH" (shareable with
    other controllers and processes), or a PostgreSQL database shared by processes on
    several machines: "postgresql://user@host:port/db" or "postgresql:KEYWORDS"
    (libpq's keyword form). Reads the system clock unless given one.

    Every method raises a SpotoptError subclass on failure; ids of another tenant
    raise NotFound exactly like unknown ones.
    """

    def __init__(self, store_uri: str, clock: Optional[Clock] = None) -> None:
        self._handle: Optional[_c_void_p] = None  # so __del__ works if open fails
        handle = _c_void_p()
        if clock is None:
            _check(_lib.spotopt_controller_open(store_uri.encode(), _byref(handle)))
        else:
            _check(_lib.spotopt_controller_open_with_clock(store_uri.encode(), clock._handle,
                                                           _byref(handle)))
        self._clock = clock
        self._handle = handle

    def close(self) -> None:
        """Closes the store. Idempotent."""
        if self._handle is not None:
            _lib.spotopt_controller_close(self._handle)
            self._handle = None

    def __enter__(self) -> "Controller":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _live(self) -> _c_void_p:
        if self._handle is None:
            raise FailedPrecondition("controller is closed")
        return self._handle

    def _json(self, fn: Any, *args: Any) -> Any:
        out = _c_void_p()
        _check(fn(self._live(), *args, _byref(out)))
        return _take_json(out)

    # ---- Periodic work ----

    def tick(self, now: Optional[Moment] = None) -> None:
        """Runs the periodic work (expiry, liveness, timeouts) as of `now`; default:
        the controller's clock. Idempotent."""
        if now is None:
            now = self._clock.now() if self._clock is not None else time.time()
        _check(_lib.spotopt_tick(self._live(), _micros(now)))

    # ---- Tenants and tokens ----

    def create_tenant(self, name: str) -> CreatedTenant:
        """Creates a tenant and its first token (shown only now)."""
        tenant_id, token = _c_void_p(), _c_void_p()
        _check(_lib.spotopt_tenant_create(self._live(), name.encode(), _byref(tenant_id),
                                          _byref(token)))
        return CreatedTenant(_take(tenant_id).decode(), _take(token).decode())

    def tenant(self, tenant_id: Text) -> Record:
        """The tenant record."""
        return self._json(_lib.spotopt_tenant_get, _b(tenant_id))

    def tenants(self) -> List[Record]:
        """Every tenant, deleted ones included."""
        return self._json(_lib.spotopt_tenant_list)

    def suspend_tenant(self, tenant_id: Text) -> None:
        """Suspends an active tenant: its tokens get PermissionDenied (HTTP 403)."""
        _check(_lib.spotopt_tenant_suspend(self._live(), _b(tenant_id)))

    def reactivate_tenant(self, tenant_id: Text) -> None:
        """Reactivates a suspended tenant."""
        _check(_lib.spotopt_tenant_reactivate(self._live(), _b(tenant_id)))

    def delete_tenant(self, tenant_id: Text) -> None:
        """Deletes a tenant; final. Its tokens stop working, its records stay."""
        _check(_lib.spotopt_tenant_delete(self._live(), _b(tenant_id)))

    def rotate_token(self, tenant_id: Text) -> str:
        """Issues a new token; the current ones keep working for a grace period."""
        out = _c_void_p()
        _check(_lib.spotopt_tenant_rotate_token(self._live(), _b(tenant_id), _byref(out)))
        return _take(out).decode()

    def authenticate(self, token: Text) -> str:
        """The id of the token's tenant. Unauthenticated or PermissionDenied."""
        out = _c_void_p()
        _check(_lib.spotopt_tenant_authenticate(self._live(), _b(token), _byref(out)))
        return _take(out).decode()

    # ---- Agents ----

    def agent(self, tenant_id: Text, agent_id: Text) -> Record:
        """A logical agent with its placement, config and registrations."""
        return self._json(_lib.spotopt_agent_get, _b(tenant_id), _b(agent_id))

    def agents(self, tenant_id: Text) -> List[Record]:
        """The tenant's logical agents."""
        return self._json(_lib.spotopt_agent_list, _b(tenant_id))

    def set_enabled(self, tenant_id: Text, agent_id: Text, enabled: bool) -> None:
        """Sets the agent's admin state; a disabled agent gets no commands."""
        _check(_lib.spotopt_agent_set_enabled(self._live(), _b(tenant_id), _b(agent_id),
                                              1 if enabled else 0))

    def delete_agent(self, tenant_id: Text, agent_id: Text) -> None:
        """Deletes a logical agent; final. Open commands are cancelled, live
        replicas retired."""
        _check(_lib.spotopt_agent_delete(self._live(), _b(tenant_id), _b(agent_id)))

    def events(self, tenant_id: Text, agent_id: Text) -> List[Record]:
        """The agent's event log."""
        return self._json(_lib.spotopt_agent_events, _b(tenant_id), _b(agent_id))

    def heartbeat(self, tenant_id: Text, registration_id: Text, status: Text = b"online",
                  instance_id: Optional[Text] = None, instance_type: Optional[Text] = None,
                  az: Optional[Text] = None) -> int:
        """Records a registration's heartbeat (the wire's agent_id) as the agent's
        POST .../heartbeat would; returns the agent's config version."""
        # A host's hottest call: conversions inlined, the C function bound once.
        version_out = _c_int64()
        status_code = _heartbeat(
            self._live(), tenant_id if type(tenant_id) is bytes else tenant_id.encode(),
            registration_id if type(registration_id) is bytes else registration_id.encode(),
            status if type(status) is bytes else status.encode(),
            None if instance_id is None else _b(instance_id),
            None if instance_type is None else _b(instance_type),
            None if az is None else _b(az), _byref(version_out))
        if status_code:
            _raise(status_code)
        return version_out.value

    # ---- Config ----

    def config(self, tenant_id: Text, agent_id: Text) -> Record:
        """The agent's config."""
        return self._json(_lib.spotopt_config_get, _b(tenant_id), _b(agent_id))

    def update_config(self, tenant_id: Text, agent_id: Text, patch: Union[Mapping[str, Any], Text],
                      expected_version: Optional[int] = None) -> Record:
        """Applies a config patch (a dict or JSON text; exact: unknown keys refused)
        and returns the config as it now is. With `expected_version`, the write
        happens only if it is the current version (else FailedPrecondition)."""
        text = _b(patch) if isinstance(patch, (str, bytes)) else json.dumps(dict(patch)).encode()
        return self._json(_lib.spotopt_config_update, _b(tenant_id), _b(agent_id), text,
                          0 if expected_version is None else expected_version)

    # ---- Commands ----

    def enqueue_switch(self, tenant_id: Text, agent_id: Text, *, target_mode: str,
                       target_pool_id: Optional[str] = None, priority: Optional[int] = None,
                       reason: Optional[str] = None, requested_by: Optional[str] = None,
                       override_limits: Optional[bool] = None,
                       ttl_seconds: Optional[int] = None,
                       expected_savings_percent: Optional[float] = None,
                       target_risk: Optional[float] = None) -> Record:
        """Enqueues a switch of the agent's primary ("spot" with a pool
        "<instance_type>.<az>", or "ondemand"); default priority 75 (manual)."""
        request = _request(target_mode=target_mode, target_pool_id=target_pool_id,
                           priority=priority, reason=reason, requested_by=requested_by,
                           override_limits=override_limits, ttl_seconds=ttl_seconds,
                           expected_savings_percent=expected_savings_percent,
                           target_risk=target_risk)
        return self._json(_lib.spotopt_command_enqueue_switch, _b(tenant_id), _b(agent_id),
                          request)

    def enqueue_create_replica(self, tenant_id: Text, agent_id: Text, *,
                               pool_id: Optional[str] = None, replica_type: Optional[str] = None,
                               requested_by: Optional[str] = None) -> Record:
        """Enqueues a create_replica command, reserving its replica."""
        request = _request(pool_id=pool_id, replica_type=replica_type, requested_by=requested_by)
        return self._json(_lib.spotopt_command_enqueue_create_replica, _b(tenant_id),
                          _b(agent_id), request)

    def poll_command(self, tenant_id: Text, registration_id: Text) -> Optional[Record]:
        """The command poll of a registration: leases and returns the next command
        in the agent's shape, or None. A command is delivered at most once."""
        out = _c_void_p()
        status_code = _poll(
            self._live(), tenant_id if type(tenant_id) is bytes else tenant_id.encode(),
            registration_id if type(registration_id) is bytes else registration_id.encode(),
            _byref(out))
        if status_code:
            _raise(status_code)
        return None if out.value is None else _take_json(out)

    def ack_command(self, tenant_id: Text, registration_id: Text, command_id: Text,
                    success: bool = True, message: Optional[str] = None) -> Record:
        """Acknowledges a delivered command by the registration holding its lease."""
        return self._json(_lib.spotopt_command_ack, _b(tenant_id), _b(registration_id),
                          _b(command_id), 1 if success else 0, _ob(message))

    def cancel_command(self, tenant_id: Text, agent_id: Text, command_id: Text,
                       reason: Optional[str] = None) -> Record:
        """Cancels a pending or leased command."""
        return self._json(_lib.spotopt_command_cancel, _b(tenant_id), _b(agent_id),
                          _b(command_id), _ob(reason))

    def command(self, tenant_id: Text, command_id: Text) -> Record:
        """One command."""
        return self._json(_lib.spotopt_command_get, _b(tenant_id), _b(command_id))

    def commands(self, tenant_id: Text, agent_id: Text) -> List[Record]:
        """The agent's commands."""
        return self._json(_lib.spotopt_command_list, _b(tenant_id), _b(agent_id))

    # ---- Replicas ----

    def request_replica(self, tenant_id: Text, agent_id: Text, *, pool_id: Optional[str] = None,
                        replica_type: Optional[str] = None,
                        requested_by: Optional[str] = None) -> Record:
        """Requests a standby replica, launched by the primary's next replica poll."""
        request = _request(pool_id=pool_id, replica_type=replica_type, requested_by=requested_by)
        return self._json(_lib.spotopt_replica_request, _b(tenant_id), _b(agent_id), request)

    def promote_replica(self, tenant_id: Text, agent_id: Text, replica_id: Text,
                        force: bool = False) -> Record:
        """Promotes a ready replica (a syncing one with `force`, inside a termination
        deadline): the placement moves to its instance."""
        return self._json(_lib.spotopt_replica_promote, _b(tenant_id), _b(agent_id),
                          _b(replica_id), 1 if force else 0)

    def terminate_replica(self, tenant_id: Text, agent_id: Text, replica_id: Text) -> Record:
        """Retires a replica."""
        return self._json(_lib.spotopt_replica_terminate, _b(tenant_id), _b(agent_id),
                          _b(replica_id))

    def replicas(self, tenant_id: Text, agent_id: Text) -> List[Record]:
        """The agent's replicas, finished ones included."""
        return self._json(_lib.spotopt_replica_list, _b(tenant_id), _b(agent_id))

    # ---- Incidents and switches ----

    def incidents(self, tenant_id: Text, agent_id: Text) -> List[Record]:
        """The agent's interruption incidents."""
        return self._json(_lib.spotopt_incident_list, _b(tenant_id), _b(agent_id))

    def switches(self, tenant_id: Text, agent_id: Text) -> List[Record]:
        """The agent's switch ledger."""
        return self._json(_lib.spotopt_switch_list, _b(tenant_id), _b(agent_id))

    # ---- Prices and savings ----

    def import_prices(self, tenant_id: Text, prices: List[Record]) -> int:
        """Imports trusted prices (source catalog), all or nothing: each is
        {region, az (omit for on-demand), instance_type, price, at}. Returns the count."""
        count = _c_int64()
        _check(_lib.spotopt_prices_import(self._live(), _b(tenant_id),
                                          json.dumps(prices).encode(), _byref(count)))
        return count.value

    def price_series(self, tenant_id: Text, region: Text, instance_type: Text,
                     az: Optional[Text] = None, *, start: Optional[Moment] = None,
                     end: Optional[Moment] = None, view: str = "clean") -> List[Record]:
        """One series over [start, end) (None: open). az None is the on-demand
        series. view: "raw" (observations), "clean" or "interpolated" (points)."""
        return self._json(_lib.spotopt_price_series, _b(tenant_id), _b(region), _ob(az),
                          _b(instance_type),
                          _INT64_MIN if start is None else _micros(start),
                          _INT64_MAX if end is None else _micros(end), view.encode())

    def latest_prices(self, tenant_id: Text) -> List[Record]:
        """The newest clean price of every series of the tenant, with its age."""
        return self._json(_lib.spotopt_prices_latest, _b(tenant_id))

    def market(self, tenant_id: Text, region: Text, instance_type: Text) -> Record:
        """Candidate pools with latest price, volatility, signals and risk, and the Advisor band."""
        return self._json(_lib.spotopt_market, _b(tenant_id), _b(region), _b(instance_type))

    def load_advisor_feed(self, feed_json: Text) -> int:
        """Replaces the Spot Advisor feed at run time; returns its entry count."""
        data = _b(feed_json)
        entries = _c_int64()
        _check(_lib.spotopt_advisor_load(self._live(), data, len(data), _byref(entries)))
        return entries.value

    def savings(self, tenant_id: Text, agent_id: Optional[Text] = None,
                period: str = "day") -> List[Record]:
        """Savings figures per UTC "day", "month" or "lifetime", of one agent or
        (agent_id None) of the whole tenant. Money: USD and exact *_micros; None
        when a price is unknown."""
        return self._json(_lib.spotopt_savings, _b(tenant_id), _ob(agent_id), period.encode())

    # ---- Decisions ----

    def decide(self, tenant_id: Text, agent_id: Text) -> Record:
        """The decision the tenant's engine makes for the agent now: {decision, input,
        engine_asked, fallback}. Changes nothing."""
        return self._json(_lib.spotopt_decide, _b(tenant_id), _b(agent_id))

    def run_decisions(self, now: Optional[Moment] = None) -> Record:
        """The fleet run as of `now` (default: the controller's clock): one decision per
        auto-switch agent, acted on through the command queue. Returns its counts."""
        if now is None:
            now = self._clock.now() if self._clock is not None else time.time()
        return self._json(_lib.spotopt_decisions_run, _micros(now))

    def decisions(self, tenant_id: Text, agent_id: Optional[Text] = None, *,
                  before: int = 0, limit: int = 100) -> List[Record]:
        """The decision log, newest first: the agent's, or (agent_id None) the tenant's;
        entries with seq < before (0: from the newest), at most limit (1..1000)."""
        return self._json(_lib.spotopt_decisions_list, _b(tenant_id), _ob(agent_id), before,
                          limit)

    def engines(self) -> List[Record]:
        """The engines this controller can run: {name, version, sha256, kind, description}."""
        return self._json(_lib.spotopt_engines_list)

    def register_model(self, manifest_json: Text, model: bytes) -> Record:
        """Registers a model engine from its manifest and the model file's bytes."""
        out = _c_void_p()
        _check(_lib.spotopt_engine_register_model(self._live(), _b(manifest_json), model,
                                                  len(model), _byref(out)))
        return _take_json(out)

    def register_model_files(self, manifest_path: str) -> Record:
        """register_model with the manifest at `manifest_path` and the model file it
        names beside it."""
        with open(manifest_path, "rb") as f:
            manifest = f.read()
        model_file = json.loads(manifest)["model_file"]
        with open(os.path.join(os.path.dirname(manifest_path), model_file), "rb") as f:
            return self.register_model(manifest, f.read())

    def register_engine(self, name: str, version: str, sha256: str,
                        decide: Callable[[Record], Mapping[str, Any]],
                        description: str = "") -> None:
        """Registers `decide` as an engine: it gets the decision input as a dict and
        answers a decision dict ({"action": ..., "target_pool_id": ..., "reason": ...,
        "risk": ..., ...}). It may be called from several threads at once. If it
        raises or answers nonsense, the tenant's previous engine (then the rules)
        decides instead; the guards hold its actions like any engine's."""
        engine = _HostEngine(decide)
        with _engines_lock:
            key = next(_engine_keys)
            _engines[key] = engine
        try:
            _check(_lib.spotopt_engine_register(self._live(), name.encode(), version.encode(),
                                                sha256.encode(), description.encode(),
                                                engine.callback, key, _RELEASE))
        except SpotoptError:
            _release_engine(key)  # a refused registration releases nothing itself
            raise

    def unregister_engine(self, name: str, version: str) -> None:
        """Removes a registered engine; tenants using it fall back until it returns."""
        _check(_lib.spotopt_engine_unregister(self._live(), name.encode(), version.encode()))

    def tenant_engines(self, tenant_id: Text) -> Record:
        """The tenant's {active, previous} engines."""
        return self._json(_lib.spotopt_tenant_engines, _b(tenant_id))

    def activate_engine(self, tenant_id: Text, name: str, version: str) -> Record:
        """Makes a registered engine the tenant's; the current one becomes previous."""
        return self._json(_lib.spotopt_engine_activate, _b(tenant_id), name.encode(),
                          version.encode())

    def rollback_engine(self, tenant_id: Text) -> Record:
        """Swaps the tenant's active and previous engines."""
        return self._json(_lib.spotopt_engine_rollback, _b(tenant_id))

    # ---- Agent protocol ----

    def handle_request(self, method: str, target: str, *, authorization: Optional[str] = None,
                       body: bytes = b"") -> Tuple[int, str]:
        """Answers one agent protocol request; returns (HTTP status, JSON body).
        Drops the response headers: hosts should prefer handle_http."""
        status = ctypes.c_int()
        response = _c_void_p()
        _check(_lib.spotopt_handle_request(
            self._live(), method.encode(), target.encode(), _ob(authorization), body, len(body),
            _byref(status), _byref(response)))
        return status.value, _take(response).decode()

    def handle_http(self, method: str, target: str, *,
                    headers: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = (),
                    body: bytes = b"") -> HttpResponse:
        """Answers one agent protocol request (method, path with query, all request
        headers, raw body) with its status, response headers and JSON body."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        array = (_native.Header * len(pairs))(*((_b(n), _b(v)) for n, v in pairs))
        out = ctypes.POINTER(_native.HttpResponse)()
        _check(_lib.spotopt_handle_http(self._live(), method.encode(), target.encode(), array,
                                        len(pairs), body, len(body), _byref(out)))
        try:
            r = out.contents
            response_headers = [(r.headers[i].name.decode(), r.headers[i].value.decode())
                                for i in range(r.header_count)]
            return HttpResponse(r.status, response_headers, _string_at(r.body, r.body_len))
        finally:
            _lib.spotopt_http_response_free(out)
