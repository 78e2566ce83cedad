/* libspotopt's stable C ABI (C99, usable from C and C++).
 *
 * Compatibility promise: within a major version, changes are additive only. No
 * function, type, enum value, struct member or documented behaviour is removed or
 * changed; new functions, new enum values and new members at the end of structs the
 * library allocates may appear (so handle unknown status values as SPOTOPT_INTERNAL,
 * and never allocate or copy such a struct yourself). New keys may appear in JSON
 * outputs; keys are never removed or retyped. The shared library's soname carries
 * the major version (libspotopt.so.<major>), so a program built against one major
 * version never loads another.
 *
 * Conventions, for every function below:
 * - Functions that can fail return spotopt_status. On failure the outputs are left
 *   untouched and spotopt_last_error() describes what went wrong.
 * - A NULL for a required pointer argument is SPOTOPT_INVALID_ARGUMENT. Arguments a
 *   function documents as "may be NULL" are optional.
 * - Strings are NUL-terminated UTF-8. Strings the library returns through an output
 *   argument belong to the caller and are released with spotopt_free().
 * - Rich objects travel as JSON text: records in the shapes of the agent protocol and
 *   of spotopt-server's management API (see "JSON shapes" below); lists are JSON
 *   arrays of those records, oldest first unless a function says otherwise.
 * - Ids are the lowercase UUID strings the library issued. An id that belongs to
 *   another tenant, a malformed id and (where a function changes an agent) a deleted
 *   agent's id are all answered exactly like an unknown id: SPOTOPT_NOT_FOUND,
 *   nothing changed.
 * - Every call that changes state runs in one store transaction: a failure leaves the
 *   state exactly as it was.
 * - No C++ exception crosses this boundary; an unexpected one is SPOTOPT_INTERNAL.
 * - Thread safety: every function may be called from any number of threads at once,
 *   on the same handles, except the functions that release a handle
 *   (spotopt_controller_close, spotopt_clock_destroy, spotopt_http_response_free):
 *   those must not race with other calls on that handle.
 * - Time is microseconds since the Unix epoch, UTC ("unix micros").
 *
 * JSON shapes (keys; every timestamp is RFC 3339 UTC with microseconds and "Z",
 * unknown values are null):
 *   tenant    {id, name, state: active|suspended|deleted, created_at, updated_at}
 *   agent     {id, logical_agent_id, lifecycle: active|deleted, enabled, liveness:
 *             online|stale|offline, placement {instance_id, instance_type, region, az,
 *             mode: spot|ondemand, pool_id}, placement_since, live_replicas,
 *             fallback_identity, config, registrations [{agent_id (the wire's agent_id),
 *             instance_id, role: primary|replica|other, liveness, instance_state,
 *             last_status, last_seen_at, created_at, hostname, instance_type, az,
 *             agent_version}], created_at, updated_at}
 *   config    {enabled, config_version, auto_switch_enabled, replica_mode:
 *             off|emergency|manual_standby, replica_enabled, manual_replica_enabled,
 *             auto_terminate_enabled, terminate_wait_seconds, min_savings_percent,
 *             ondemand_fallback_ratio, ondemand_return_ratio, risk_threshold,
 *             max_switches_per_day, max_switches_per_week, min_pool_duration_hours,
 *             compatible_instance_types [instance type]}
 *   command   {id, command_type: switch|create_replica, agent_id (the logical agent),
 *             instance_id, target_mode, target_pool_id, terminate_wait_seconds,
 *             priority, reason, created_at, expires_at, replica_id (create_replica),
 *             state: pending|leased|succeeded|failed|expired|cancelled, lease_holder,
 *             requested_by, override_limits, leased_at, lease_expires_at, closed_at,
 *             result_message}
 *   replica   {id, agent_id, state: requested|launching|syncing|ready|promoting|
 *             promoted|failed|terminating|terminated, instance_id, pool_id, az,
 *             instance_type, region, replica_type, pool {...}, launch_path:
 *             listing|command, command_id, incident_id, forced_promotion, error,
 *             created_at, updated_at, entered_at {<state>: when the replica entered
 *             it, null if it never did}}
 *   incident  {id, agent_id, instance_id, pool_id, signal: termination-notice|
 *             rebalance-recommendation, notice_time, deadline, first_seen, last_seen,
 *             repeat_count, closed_at, detected_at, decided_at, promoted_at,
 *             healthy_at, decision, replica_id, command_id}
 *   event     {id, agent_id, kind, instance_id, detail, at}
 *   switch    {id, agent_id, old_instance {placement}, new_instance {placement},
 *             command_id, reason, requested_by, trigger, prices {on_demand, old_spot,
 *             new_spot} (USD per hour), timing {switch_initiated_at,
 *             new_instance_launched_at, new_instance_ready_at, traffic_switched_at,
 *             old_instance_terminated_at, ami_created_at}, unsolicited, reported,
 *             created_at, updated_at}
 */
#ifndef SPOTOPT_SPOTOPT_H_
#define SPOTOPT_SPOTOPT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define SPOTOPT_API __attribute__((visibility("default")))
#else
#define SPOTOPT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------- */

/* The version this header belongs to; compare with spotopt_version() to detect a
 * header/library mismatch at run time. */
#define SPOTOPT_VERSION_MAJOR 0
#define SPOTOPT_VERSION_MINOR 2
#define SPOTOPT_VERSION_PATCH 0

/* The loaded library's version as "MAJOR.MINOR.PATCH". A static string: never
 * freed, valid for the life of the process. Thread-safe. */
SPOTOPT_API const char* spotopt_version(void);

/* ---- Errors -------------------------------------------------------------- */

typedef enum spotopt_status {
  SPOTOPT_OK = 0,
  /* Bad input: a NULL or malformed argument, an unsupported store URI. */
  SPOTOPT_INVALID_ARGUMENT,
  /* Unknown id, or an id that belongs to another tenant. */
  SPOTOPT_NOT_FOUND,
  /* An illegal state transition or a refused guard. */
  SPOTOPT_FAILED_PRECONDITION,
  SPOTOPT_ALREADY_EXISTS,
  /* Missing, malformed, unknown or expired token. */
  SPOTOPT_UNAUTHENTICATED,
  /* The tenant is suspended. */
  SPOTOPT_PERMISSION_DENIED,
  /* Transient (store busy, transaction conflict): retrying may succeed. */
  SPOTOPT_UNAVAILABLE,
  /* Anything else: a bug, a corrupt store, out of memory. */
  SPOTOPT_INTERNAL
} spotopt_status;

/* The message of the last failed call made on the calling thread, or "" when the
 * last call returning spotopt_status succeeded. Owned by the library: valid until the
 * next spotopt_* call on the same thread; do not free it. Thread-safe (each thread has
 * its own message). */
SPOTOPT_API const char* spotopt_last_error(void);

/* Releases any string or buffer the library returned through an output argument.
 * NULL is a no-op. Thread-safe. */
SPOTOPT_API void spotopt_free(void* p);

/* ---- Clocks -------------------------------------------------------------- */

/* The library reads time only from its clock. spotopt_controller_open uses the
 * system clock; tests and backtests inject their own with
 * spotopt_controller_open_with_clock. Opaque. */
typedef struct spotopt_clock spotopt_clock;

/* A clock that reads the host's time: returns unix micros. It is called from
 * whichever thread is inside a library call, possibly several at once, so it must be
 * thread-safe; it must not call back into libspotopt. */
typedef int64_t (*spotopt_now_fn)(void* user_data);

/* Creates a manual clock that stands at `start_unix_micros` and moves only through
 * spotopt_clock_set and spotopt_clock_advance. On success *out is a new handle owned
 * by the caller (spotopt_clock_destroy). Errors: SPOTOPT_INVALID_ARGUMENT (NULL
 * out). */
SPOTOPT_API spotopt_status spotopt_clock_create_manual(int64_t start_unix_micros,
                                                       spotopt_clock** out);

/* Creates a clock that asks `now` (with `user_data`) for the time at every read.
 * `user_data` may be NULL; it is passed through untouched and must stay valid while
 * any controller opened with this clock is open. On success *out is a new handle
 * owned by the caller (spotopt_clock_destroy). Errors: SPOTOPT_INVALID_ARGUMENT
 * (NULL now or out). */
SPOTOPT_API spotopt_status spotopt_clock_create_callback(spotopt_now_fn now, void* user_data,
                                                         spotopt_clock** out);

/* Sets a manual clock to `now_unix_micros` (backwards too: a backtest may restart).
 * Controllers opened with it see the new time at once. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL clock), SPOTOPT_FAILED_PRECONDITION (not a manual
 * clock). */
SPOTOPT_API spotopt_status spotopt_clock_set(spotopt_clock* clock, int64_t now_unix_micros);

/* Moves a manual clock forward by `micros` (>= 0). Errors: SPOTOPT_INVALID_ARGUMENT
 * (NULL clock, negative micros), SPOTOPT_FAILED_PRECONDITION (not a manual clock). */
SPOTOPT_API spotopt_status spotopt_clock_advance(spotopt_clock* clock, int64_t micros);

/* Reads any clock into *now_unix_micros_out. Errors: SPOTOPT_INVALID_ARGUMENT (NULL
 * argument). */
SPOTOPT_API spotopt_status spotopt_clock_now(spotopt_clock* clock, int64_t* now_unix_micros_out);

/* Releases the caller's handle. Controllers opened with the clock keep using it until
 * they are closed. NULL is a no-op. Must not race with other calls on the same
 * handle. */
SPOTOPT_API void spotopt_clock_destroy(spotopt_clock* clock);

/* ---- Controller ---------------------------------------------------------- */

/* The control plane over one store. Opaque. */
typedef struct spotopt_controller spotopt_controller;

/* Opens a controller on `store_uri`, reading the system clock:
 *   "memory:"      everything in process memory, gone on close;
 *   "sqlite:PATH"  the SQLite database at PATH, created and migrated if needed; may
 *                  be shared with other controllers and other processes.
 *   "postgresql://user@host:port/db" (or "postgres://...")
 *                  the PostgreSQL database at libpq's URI, its schema created and
 *                  migrated if needed; may be shared with other processes on other
 *                  machines;
 *   "postgresql:KEYWORDS"
 *                  the same with libpq's keyword form after the prefix
 *                  ("postgresql:host=/run/postgresql dbname=spotopt").
 * On success *out is a new handle owned by the caller (release it with
 * spotopt_controller_close). Errors: SPOTOPT_INVALID_ARGUMENT for a NULL argument or
 * any other URI; the store's error when it cannot be opened (e.g. SPOTOPT_INTERNAL
 * for an unwritable path, SPOTOPT_UNAVAILABLE for a database it cannot reach). */
SPOTOPT_API spotopt_status spotopt_controller_open(const char* store_uri, spotopt_controller** out);

/* As spotopt_controller_open, reading time from `clock` instead of the system clock.
 * The controller holds its own reference to the clock: the caller may destroy its
 * clock handle at any time. Errors: as spotopt_controller_open; NULL clock is
 * SPOTOPT_INVALID_ARGUMENT. */
SPOTOPT_API spotopt_status spotopt_controller_open_with_clock(const char* store_uri,
                                                              spotopt_clock* clock,
                                                              spotopt_controller** out);

/* Releases the controller and its store. NULL is a no-op. Must not run concurrently
 * with any other call on the same handle; the handle is invalid afterwards. */
SPOTOPT_API void spotopt_controller_close(spotopt_controller* controller);

/* Runs the periodic work as of `now_unix_micros`: command expiry, liveness, replica
 * timeouts, incident closing. The host calls it, typically every few seconds (with
 * an injected clock: with that clock's time); the library starts no threads.
 * Idempotent: running it twice, or from two threads at once, equals running it once.
 * Errors: SPOTOPT_INVALID_ARGUMENT (NULL controller), the store's errors. */
SPOTOPT_API spotopt_status spotopt_tick(spotopt_controller* controller, int64_t now_unix_micros);

/* ---- Tenants and tokens -------------------------------------------------- */

/* Token checks (spotopt_tenant_authenticate and the protocol handler) see a tenant
 * change made through the same controller at once, and one made through another
 * controller or process sharing the store within a few seconds. */

/* Creates a tenant named `name` and its first API token. On success *tenant_id_out
 * and *token_out are new strings owned by the caller (spotopt_free). The token is the
 * plaintext, shown only here: the store keeps a salted hash. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument, bad name), the store's errors. */
SPOTOPT_API spotopt_status spotopt_tenant_create(spotopt_controller* controller, const char* name,
                                                 char** tenant_id_out, char** token_out);

/* The tenant record as JSON (shape "tenant") in *tenant_json_out (spotopt_free).
 * Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_tenant_get(spotopt_controller* controller, const char* tenant_id,
                                              char** tenant_json_out);

/* Every tenant, deleted ones included, as a JSON array of "tenant" in
 * *tenants_json_out (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * the store's errors. */
SPOTOPT_API spotopt_status spotopt_tenant_list(spotopt_controller* controller,
                                               char** tenants_json_out);

/* Suspends an active tenant: its tokens then get SPOTOPT_PERMISSION_DENIED (HTTP
 * 403 on the agent protocol). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (not active). */
SPOTOPT_API spotopt_status spotopt_tenant_suspend(spotopt_controller* controller,
                                                  const char* tenant_id);

/* Reactivates a suspended tenant. Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (not suspended). */
SPOTOPT_API spotopt_status spotopt_tenant_reactivate(spotopt_controller* controller,
                                                     const char* tenant_id);

/* Deletes a tenant; final. Its tokens stop working (SPOTOPT_UNAUTHENTICATED); its
 * records stay readable for the operator. Errors: SPOTOPT_INVALID_ARGUMENT (NULL
 * argument), SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (already deleted). */
SPOTOPT_API spotopt_status spotopt_tenant_delete(spotopt_controller* controller,
                                                 const char* tenant_id);

/* Issues a new token for the tenant into *token_out (plaintext, shown only here;
 * spotopt_free). The tenant's current tokens keep working for a grace period (24 h).
 * Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND (unknown or
 * deleted tenant). */
SPOTOPT_API spotopt_status spotopt_tenant_rotate_token(spotopt_controller* controller,
                                                       const char* tenant_id, char** token_out);

/* Resolves a plaintext token (without any "Bearer " prefix) to its tenant's id in
 * *tenant_id_out (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_UNAUTHENTICATED (empty, malformed, unknown or expired token, deleted
 * tenant), SPOTOPT_PERMISSION_DENIED (suspended tenant). */
SPOTOPT_API spotopt_status spotopt_tenant_authenticate(spotopt_controller* controller,
                                                       const char* token, char** tenant_id_out);

/* ---- Agents -------------------------------------------------------------- */

/* A logical agent (`agent_id`: the "id" of the agent shape, not a registration) as
 * JSON "agent" in *agent_json_out (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT
 * (NULL argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_agent_get(spotopt_controller* controller, const char* tenant_id,
                                             const char* agent_id, char** agent_json_out);

/* The tenant's logical agents as a JSON array of "agent" in *agents_json_out
 * (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND (unknown tenant). */
SPOTOPT_API spotopt_status spotopt_agent_list(spotopt_controller* controller, const char* tenant_id,
                                              char** agents_json_out);

/* Sets the agent's admin state: a disabled agent's config says "enabled": false and
 * its command poll answers nothing. `enabled` is 0 or non-zero. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_agent_set_enabled(spotopt_controller* controller,
                                                     const char* tenant_id, const char* agent_id,
                                                     int enabled);

/* Deletes a logical agent; final. Cancels its open commands and retires its live
 * replicas in the same transaction; its registrations then answer 404. Its records
 * stay readable (spotopt_agent_get says "lifecycle": "deleted"). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND (unknown or already
 * deleted). */
SPOTOPT_API spotopt_status spotopt_agent_delete(spotopt_controller* controller,
                                                const char* tenant_id, const char* agent_id);

/* The agent's event log (identity conflicts, re-homes, orphaned instances, late
 * acks, placement moves, ...) as a JSON array of "event" in *events_json_out
 * (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_agent_events(spotopt_controller* controller,
                                                const char* tenant_id, const char* agent_id,
                                                char** events_json_out);

/* The heartbeat of one registration, exactly as POST /api/agents/{agent_id}/heartbeat
 * records it, without the HTTP layer. `registration_id` is the wire's agent_id.
 * `status` is "online", "disabled" or "offline"; `instance_id`, `instance_type` and
 * `az` may be NULL (not sent). On success *config_version_out is the agent's config
 * version, so the host can tell the agent to refresh its config. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL required argument, unknown status, malformed value),
 * SPOTOPT_NOT_FOUND (unknown registration, deleted agent). */
SPOTOPT_API spotopt_status spotopt_agent_heartbeat(spotopt_controller* controller,
                                                   const char* tenant_id,
                                                   const char* registration_id, const char* status,
                                                   const char* instance_id,
                                                   const char* instance_type, const char* az,
                                                   int64_t* config_version_out);

/* ---- Config -------------------------------------------------------------- */

/* The agent's config as JSON "config" in *config_json_out (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_config_get(spotopt_controller* controller, const char* tenant_id,
                                              const char* agent_id, char** config_json_out);

/* Applies `patch_json`, a JSON object of "config" keys to change (plus the previous
 * dashboard's aliases autoSwitchEnabled, autoTerminateEnabled, manualReplicaEnabled,
 * terminateWaitMinutes, terminate_wait_minutes), and returns the config as it now is
 * in *config_json_out (spotopt_free). The write is exact: an unknown key or invalid
 * value refuses the whole patch. `expected_version` > 0 must equal the current
 * config_version (optimistic concurrency); 0 skips the check. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument, bad JSON, unknown key, invalid value,
 * negative expected_version), SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (version
 * mismatch). */
SPOTOPT_API spotopt_status spotopt_config_update(spotopt_controller* controller,
                                                 const char* tenant_id, const char* agent_id,
                                                 const char* patch_json, int64_t expected_version,
                                                 char** config_json_out);

/* ---- Commands ------------------------------------------------------------ */

/* Enqueues a switch for the agent's primary. `request_json` is a JSON object:
 *   target_mode               "spot" | "ondemand" (required)
 *   target_pool_id            "<instance_type>.<az>" (required for spot)
 *   priority                  10 | 25 | 50 | 75 | 100 (default 75, manual)
 *   reason, requested_by      text (defaults "operator request", "capi")
 *   override_limits           manual switches: skip the config's caps (recorded)
 *   ttl_seconds               > 0; default per priority class
 *   expected_savings_percent, target_risk
 *                             automatic switches (priority < 75) must carry both
 * Unknown keys are refused. An identical PENDING command is returned instead of a
 * new one. On success *command_json_out is the "command" (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument, bad JSON or value), SPOTOPT_NOT_FOUND,
 * SPOTOPT_FAILED_PRECONDITION (a switch is in flight or a higher-priority one is
 * pending, the agent is disabled or already in that pool, a limit refused it). */
SPOTOPT_API spotopt_status spotopt_command_enqueue_switch(spotopt_controller* controller,
                                                          const char* tenant_id,
                                                          const char* agent_id,
                                                          const char* request_json,
                                                          char** command_json_out);

/* Enqueues a create_replica command and reserves its replica (state requested) in the
 * same transaction. `request_json` may be NULL or a JSON object with pool_id (default:
 * the primary's pool), replica_type (default "manual") and requested_by (default
 * "capi"). On success *command_json_out is the "command" (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT, SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (a live
 * replica exists, the agent is disabled). */
SPOTOPT_API spotopt_status spotopt_command_enqueue_create_replica(spotopt_controller* controller,
                                                                  const char* tenant_id,
                                                                  const char* agent_id,
                                                                  const char* request_json,
                                                                  char** command_json_out);

/* The command poll of one registration (the wire's agent_id), exactly as GET
 * /api/agents/{agent_id}/pending-commands: leases the best deliverable command and
 * returns it in the agent's shape (the pending-commands element) in
 * *command_json_out (spotopt_free), or sets *command_json_out to NULL when there is
 * nothing to deliver. A command is delivered at most once, ever. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND (unknown registration,
 * deleted agent). */
SPOTOPT_API spotopt_status spotopt_command_poll(spotopt_controller* controller,
                                                const char* tenant_id, const char* registration_id,
                                                char** command_json_out);

/* The acknowledgement of a delivered command by the registration that holds its
 * lease, exactly as POST .../commands/{command_id}/executed. `success` is 0 or
 * non-zero; `message` may be NULL. A repeated ack changes nothing. On success
 * *command_json_out is the "command" (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL required argument), SPOTOPT_NOT_FOUND,
 * SPOTOPT_FAILED_PRECONDITION (never delivered, leased to another registration, or a
 * conflicting ack). */
SPOTOPT_API spotopt_status spotopt_command_ack(spotopt_controller* controller,
                                               const char* tenant_id, const char* registration_id,
                                               const char* command_id, int success,
                                               const char* message, char** command_json_out);

/* Cancels a pending or leased command of the agent; `reason` may be NULL. On success
 * *command_json_out is the "command" (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL required argument), SPOTOPT_NOT_FOUND,
 * SPOTOPT_FAILED_PRECONDITION (already closed). */
SPOTOPT_API spotopt_status spotopt_command_cancel(spotopt_controller* controller,
                                                  const char* tenant_id, const char* agent_id,
                                                  const char* command_id, const char* reason,
                                                  char** command_json_out);

/* One command as JSON "command" in *command_json_out (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_command_get(spotopt_controller* controller,
                                               const char* tenant_id, const char* command_id,
                                               char** command_json_out);

/* The agent's commands as a JSON array of "command" in *commands_json_out
 * (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_command_list(spotopt_controller* controller,
                                                const char* tenant_id, const char* agent_id,
                                                char** commands_json_out);

/* ---- Replicas ------------------------------------------------------------ */

/* Requests a standby replica (state requested), launched by the primary's next
 * replica poll. `request_json` may be NULL or a JSON object with pool_id (default:
 * the primary's pool), replica_type (default "manual") and requested_by (default
 * "capi"). On success *replica_json_out is the "replica" (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT, SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (a live
 * replica exists). */
SPOTOPT_API spotopt_status spotopt_replica_request(spotopt_controller* controller,
                                                   const char* tenant_id, const char* agent_id,
                                                   const char* request_json,
                                                   char** replica_json_out);

/* Promotes a ready replica: the placement moves to its instance and commands issued
 * for the old primary are cancelled, atomically. `force` (0 or non-zero) also allows
 * a syncing replica with an instance id inside a termination deadline. On success
 * *replica_json_out is the "replica" (spotopt_free). Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND,
 * SPOTOPT_FAILED_PRECONDITION (not promotable). */
SPOTOPT_API spotopt_status spotopt_replica_promote(spotopt_controller* controller,
                                                   const char* tenant_id, const char* agent_id,
                                                   const char* replica_id, int force,
                                                   char** replica_json_out);

/* Retires a replica (state terminating). On success *replica_json_out is the
 * "replica" (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (already finished). */
SPOTOPT_API spotopt_status spotopt_replica_terminate(spotopt_controller* controller,
                                                     const char* tenant_id, const char* agent_id,
                                                     const char* replica_id,
                                                     char** replica_json_out);

/* The agent's replicas, finished ones included, as a JSON array of "replica" in
 * *replicas_json_out (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL
 * argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_replica_list(spotopt_controller* controller,
                                                const char* tenant_id, const char* agent_id,
                                                char** replicas_json_out);

/* ---- Incidents and switches ---------------------------------------------- */

/* The agent's interruption incidents as a JSON array of "incident" in
 * *incidents_json_out (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL
 * argument), SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_incident_list(spotopt_controller* controller,
                                                 const char* tenant_id, const char* agent_id,
                                                 char** incidents_json_out);

/* The agent's switch ledger as a JSON array of "switch" in *switches_json_out
 * (spotopt_free). Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument),
 * SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_switch_list(spotopt_controller* controller,
                                               const char* tenant_id, const char* agent_id,
                                               char** switches_json_out);

/* ---- Agent protocol ------------------------------------------------------ */

/* Answers one HTTP request of the agent wire protocol v4, so any HTTP server can
 * serve the deployed agents by passing its requests through here.
 *   method         "GET", "POST", ... (required)
 *   target         the request line's path with its query, e.g. "/api/agents/register"
 *   authorization  the Authorization header's value ("Bearer <token>"), or NULL when
 *                  the request has none
 *   body, body_len the request body; body may be NULL only when body_len is 0
 * Returns SPOTOPT_OK whenever a response was produced, including HTTP errors: then
 * *http_status_out is the HTTP status and *response_body_out a new NUL-terminated
 * JSON string owned by the caller (spotopt_free); send it with the content type
 * "application/json; charset=utf-8". Protocol errors are answered as
 * {"error": <code>, "message": <why>} bodies, not as a failed call. This form drops
 * the response headers (Allow on 405, Retry-After on 503): new hosts should use
 * spotopt_handle_http. Errors: SPOTOPT_INVALID_ARGUMENT (a NULL required argument),
 * SPOTOPT_INTERNAL (no response could be produced). */
SPOTOPT_API spotopt_status spotopt_handle_request(spotopt_controller* controller,
                                                  const char* method, const char* target,
                                                  const char* authorization, const char* body,
                                                  size_t body_len, int* http_status_out,
                                                  char** response_body_out);

/* One HTTP header: both strings NUL-terminated; names compare case-insensitively. */
typedef struct spotopt_header {
  const char* name;
  const char* value;
} spotopt_header;

/* A response of spotopt_handle_http, allocated by the library and released with
 * spotopt_http_response_free. Read it, never allocate or copy it: members may be
 * added at the end within a major version. */
typedef struct spotopt_http_response {
  int status; /* the HTTP status */
  /* Send every one of these: Content-Type always, Allow on 405, Retry-After on 503. */
  const spotopt_header* headers;
  size_t header_count;
  /* The JSON body, NUL-terminated; body_len excludes the NUL. */
  const char* body;
  size_t body_len;
} spotopt_http_response;

/* Answers one HTTP request of the agent wire protocol v4 with its status, headers
 * and body.
 *   method, target     as spotopt_handle_request
 *   headers            the request's headers (may be NULL when header_count is 0);
 *                      today the protocol reads Authorization, but pass them all
 *   body, body_len     the request body; body may be NULL only when body_len is 0
 * Returns SPOTOPT_OK whenever a response was produced, including HTTP errors: then
 * *response_out is a new response owned by the caller (spotopt_http_response_free).
 * Errors: SPOTOPT_INVALID_ARGUMENT (a NULL required argument, a header with a NULL
 * name or value), SPOTOPT_INTERNAL (no response could be produced). */
SPOTOPT_API spotopt_status spotopt_handle_http(spotopt_controller* controller, const char* method,
                                               const char* target, const spotopt_header* headers,
                                               size_t header_count, const char* body,
                                               size_t body_len,
                                               spotopt_http_response** response_out);

/* Releases a response of spotopt_handle_http and everything it points to. NULL is a
 * no-op. Must not race with other uses of the same response. */
SPOTOPT_API void spotopt_http_response_free(spotopt_http_response* response);

/* ---- Prices and savings -------------------------------------------------- */

/* Prices travel as JSON. Money is a number of USD (per hour for prices) with the
 * exact integer micro-dollars beside it in "<name>_micros"; unknown is null. Times
 * are RFC 3339 UTC text. Shapes:
 *   observation  {seq, region, az ("" = on-demand), instance_type, kind: spot|ondemand,
 *                source: catalog|primary|replica, agent_id, observed_at, received_at,
 *                server_received, price, price_micros}
 *   point        {bucket_start, source: catalog|primary|replica|interpolated,
 *                confidence (0..1], discrepancy, price, price_micros}
 *   latest       {region, az, instance_type, pool_id, source, observed_at,
 *                age_seconds, price, price_micros}
 *   market       {region, instance_type, pools: [{pool_id, az, latest|null,
 *                volatility_hour, volatility_day, terminations, rebalances (signals
 *                the tenant's agents reported from the pool within the signal
 *                window, 24 h by default), risk (0..1, the interruption risk the
 *                decision engines see)}], on_demand: latest|null,
 *                advisor: {band, interruption_frequency, savings_percent}|null}
 *   figures      {start, end, run_seconds, downtime_seconds, cost, cost_micros,
 *                baseline, baseline_micros, savings, savings_micros}
 * The series a query names is (region, az, instance_type); az NULL or "" is the
 * on-demand series of (region, instance_type). Time bounds are microseconds since
 * the Unix epoch; INT64_MIN and INT64_MAX leave that end open. */

/* Imports prices the operator trusts (an AWS price history, an on-demand price
 * list) with source catalog: `prices_json` is an array of {region, az (omit for
 * on-demand), instance_type, price (number or decimal string), at (timestamp)}. All
 * or nothing, one transaction; *count_out is how many were stored. Catalog prices
 * outrank agents' reports. Thread-safe. Errors: SPOTOPT_INVALID_ARGUMENT (NULL, not
 * that shape, a bad price or time), SPOTOPT_NOT_FOUND (tenant). */
SPOTOPT_API spotopt_status spotopt_prices_import(spotopt_controller* controller,
                                                 const char* tenant_id, const char* prices_json,
                                                 int64_t* count_out);

/* One series over [from, to): `view` "raw" gives an array of observation, "clean"
 * an array of point (measured buckets only), "interpolated" the same with short gaps
 * filled and marked. *json_out is new (spotopt_free). Thread-safe. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL, unknown view, to < from, bad names),
 * SPOTOPT_NOT_FOUND (tenant id not an id). */
SPOTOPT_API spotopt_status spotopt_price_series(spotopt_controller* controller,
                                                const char* tenant_id, const char* region,
                                                const char* az, const char* instance_type,
                                                int64_t from_unix_micros, int64_t to_unix_micros,
                                                const char* view, char** json_out);

/* The newest clean price of every series of the tenant: an array of latest. */
SPOTOPT_API spotopt_status spotopt_prices_latest(spotopt_controller* controller,
                                                 const char* tenant_id, char** json_out);

/* The market of (region, instance type): its pools' latest prices, volatility over
 * the last hour and day, interruption signals and risk, on-demand price and Spot
 * Advisor band, as a market. */
SPOTOPT_API spotopt_status spotopt_market(spotopt_controller* controller, const char* tenant_id,
                                          const char* region, const char* instance_type,
                                          char** market_json_out);

/* Replaces the Spot Advisor feed (the JSON AWS publishes at
 * spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json; `feed_len` bytes), shared
 * by every tenant of this controller, at run time: readers see the old feed or the
 * new one. *entries_out (may be NULL) receives its (region, OS, type) count. A feed
 * that does not parse is SPOTOPT_INVALID_ARGUMENT and keeps the old one. */
SPOTOPT_API spotopt_status spotopt_advisor_load(spotopt_controller* controller,
                                                const char* feed_json, size_t feed_len,
                                                int64_t* entries_out);

/* Savings figures of one agent (agent_id) or of the whole tenant (agent_id NULL or
 * ""), per `period` "day" | "month" (UTC) | "lifetime": an array of figures in time
 * order. Days sum exactly to their month and months to the lifetime; a figure is
 * null when a price it needs is unknown. Errors: SPOTOPT_INVALID_ARGUMENT (NULL,
 * unknown period), SPOTOPT_NOT_FOUND (tenant or agent). */
SPOTOPT_API spotopt_status spotopt_savings(spotopt_controller* controller, const char* tenant_id,
                                           const char* agent_id, const char* period,
                                           char** figures_json_out);

/* ---- Decisions ----------------------------------------------------------- */

/* The decision layer: for each agent, an engine decides from one versioned input
 * (placement, config, candidate pools with prices and risk, switches, incidents)
 * whether to stay, switch to a spot pool or on-demand, or start or promote a replica.
 * Built-in engines: "rules" 1.0.0 (every tenant's until another is activated) and
 * "scoring" 1.0.0; a host adds models and engines of its own. Whatever engine
 * decides, the config's guards (cooldown, day and week caps, minimum saving, risk
 * ceiling, stale or interpolated prices) hold its actions back. Shapes:
 *   decision   {action: stay|switch_spot|switch_ondemand|create_replica|
 *              promote_replica, target_pool_id, reason, message, risk (0..1),
 *              expected_savings_micros (per hour, against staying), confidence (0..1),
 *              urgent, engine, engine_version, guard (what held the action back, or
 *              null), held_action, held_target_pool_id}
 *   input      the engine's input (version 1): {version, trigger:
 *              schedule|rebalance|termination, now, agent {id, placement,
 *              placement_since, switch_pending, switch_in_flight, replica}, config,
 *              history {switches, switches_day, switches_week, incidents}, market
 *              {on_demand_micros, max_price_age_seconds, gap_seconds,
 *              signal_window_seconds, pools [{pool_id, region, az, instance_type,
 *              price {micros, observed_at, age_seconds, source, confidence, stale,
 *              in_gap}|null, on_demand_micros, volatility_hour, volatility_day,
 *              advisor {band, label, savings_percent}|null, terminations, rebalances,
 *              risk, history?}]}}
 *   preview    {decision, input, engine_asked, fallback (why another engine answered,
 *              or null)}
 *   decision_record {seq, id, agent_id, decided_at, trigger, decision, inputs (a
 *              summary), engine_asked, fallback, acted, command_id, replica_id,
 *              outcome}
 *   decision_run {tenants, agents, skipped, logged, acted, held, refused, fallbacks}
 *   engine     {name, version, sha256, kind: builtin|model|host, description}
 *   tenant_engines {active {name, version, sha256}, previous {...}|null} */

/* The decision the tenant's engine makes for the agent now, as "preview" in
 * *preview_json_out (spotopt_free). Changes nothing. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument), SPOTOPT_NOT_FOUND,
 * SPOTOPT_FAILED_PRECONDITION (the agent's instance type is unknown). */
SPOTOPT_API spotopt_status spotopt_decide(spotopt_controller* controller, const char* tenant_id,
                                          const char* agent_id, char** preview_json_out);

/* The fleet run as of `now_unix_micros`: one decision for every active, enabled agent
 * with auto switch on, acted on through the command queue (priority 25, 50 when
 * urgent) or the replica records, changes and actions logged. The host calls it on
 * its schedule (spotopt-server: every 60 s); runs from several threads or processes
 * at once queue at most one switch per agent. *report_json_out (may be NULL) receives
 * a "decision_run". Errors: SPOTOPT_INVALID_ARGUMENT (NULL controller), the store's
 * errors. */
SPOTOPT_API spotopt_status spotopt_decisions_run(spotopt_controller* controller,
                                                 int64_t now_unix_micros, char** report_json_out);

/* The decision log, newest first: the agent's (agent_id) or the whole tenant's
 * (agent_id NULL or ""), entries with seq < before_seq (0: from the newest), at most
 * `limit` (1..1000), as an array of "decision_record" in *json_out (spotopt_free).
 * Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument, limit out of range),
 * SPOTOPT_NOT_FOUND. */
SPOTOPT_API spotopt_status spotopt_decisions_list(spotopt_controller* controller,
                                                  const char* tenant_id, const char* agent_id,
                                                  int64_t before_seq, int64_t limit,
                                                  char** json_out);

/* The engines this controller can run: an array of "engine" in *json_out. */
SPOTOPT_API spotopt_status spotopt_engines_list(spotopt_controller* controller, char** json_out);

/* Registers a model engine from its manifest (JSON text) and the model file's bytes
 * (`model_len` of them). On success *engine_json_out (may be NULL) is its "engine".
 * Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument, not a manifest), SPOTOPT_INTERNAL
 * (data loss: the model does not match its manifest's sha256, or XGBoost cannot read
 * it), SPOTOPT_FAILED_PRECONDITION (it reads features this build does not compute),
 * SPOTOPT_ALREADY_EXISTS (its name and version are taken with another sha256). Nothing
 * is registered on failure. */
SPOTOPT_API spotopt_status spotopt_engine_register_model(spotopt_controller* controller,
                                                         const char* manifest_json,
                                                         const char* model, size_t model_len,
                                                         char** engine_json_out);

/* A host's engine. It is called with the "input" as JSON text and answers a decision
 * as JSON text: {action (required), target_pool_id, reason, message, risk,
 * expected_savings_micros, confidence, urgent}; unknown keys are refused. It returns
 * 0 and sets *decision_json_out to a NUL-terminated string it owns, which must stay
 * valid until the engine is called again on the same thread or unregistered; any
 * other return value is a failure. A failure or an answer that is not a valid
 * decision makes the tenant's previous engine, then the rules, decide instead. It may
 * be called from several threads at once, and must not call back into libspotopt. */
typedef int (*spotopt_engine_fn)(void* user_data, const char* input_json,
                                 const char** decision_json_out);
/* Called once when a host engine is no longer used, to release `user_data`. */
typedef void (*spotopt_release_fn)(void* user_data);

/* Registers a host engine under `name` and `version`, pinned by `sha256` (64
 * lowercase hex digits: a digest of the host's engine code or configuration, so that a
 * different engine is never taken for the activated one). `description` and `release`
 * may be NULL; `release(user_data)` runs once the engine is unregistered and no call
 * is using it. Registering the same (name, version, sha256) again replaces it.
 * Errors: SPOTOPT_INVALID_ARGUMENT (NULL argument, bad name, version or sha256),
 * SPOTOPT_ALREADY_EXISTS (the name and version are taken with another sha256). On
 * failure `release` is not called. */
SPOTOPT_API spotopt_status spotopt_engine_register(spotopt_controller* controller, const char* name,
                                                   const char* version, const char* sha256,
                                                   const char* description, spotopt_engine_fn fn,
                                                   void* user_data, spotopt_release_fn release);

/* Removes a registered engine; tenants using it fall back until it is registered
 * again. Errors: SPOTOPT_INVALID_ARGUMENT, SPOTOPT_NOT_FOUND,
 * SPOTOPT_FAILED_PRECONDITION (a built-in engine). */
SPOTOPT_API spotopt_status spotopt_engine_unregister(spotopt_controller* controller,
                                                     const char* name, const char* version);

/* The tenant's engines as "tenant_engines" in *json_out (spotopt_free). */
SPOTOPT_API spotopt_status spotopt_tenant_engines(spotopt_controller* controller,
                                                  const char* tenant_id, char** json_out);

/* Makes a registered engine the tenant's, its current one the previous, atomically;
 * returns "tenant_engines" in *json_out (may be NULL). Errors: SPOTOPT_NOT_FOUND
 * (tenant, or an engine that is not registered). */
SPOTOPT_API spotopt_status spotopt_engine_activate(spotopt_controller* controller,
                                                   const char* tenant_id, const char* name,
                                                   const char* version, char** json_out);

/* Swaps the tenant's active and previous engines; returns "tenant_engines" in
 * *json_out (may be NULL). Errors: SPOTOPT_NOT_FOUND, SPOTOPT_FAILED_PRECONDITION (no
 * previous engine). */
SPOTOPT_API spotopt_status spotopt_engine_rollback(spotopt_controller* controller,
                                                   const char* tenant_id, char** json_out);

#ifdef __cplusplus
}
#endif

#endif /* SPOTOPT_SPOTOPT_H_ */
