/* libspotopt's stable C ABI (C99, usable from C and C++).
 *
 * Compatibility promise: within a major version, changes are additive only. No
 * function, type, enum value or documented behaviour is removed or changed; new
 * functions and new enum values may appear (so handle unknown status values as
 * SPOTOPT_INTERNAL). The shared library's soname carries the major version
 * (libspotopt.so.<major>), so a program built against one major version never
 * loads another.
 *
 * Conventions, for every function below:
 * - Functions that can fail return spotopt_status. On failure the outputs are left
 *   untouched and spotopt_last_error() describes what went wrong.
 * - A NULL for a required pointer argument is SPOTOPT_INVALID_ARGUMENT.
 * - Strings are NUL-terminated UTF-8. Strings the library returns through an output
 *   argument belong to the caller and are released with spotopt_free().
 * - Rich objects travel as JSON text in the agent protocol's shapes.
 * - No C++ exception crosses this boundary; an unexpected one is SPOTOPT_INTERNAL.
 * - Thread safety: a spotopt_controller may be used from any number of threads at
 *   once, except that spotopt_controller_close() must not race with other calls on
 *   the same handle.
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
#define SPOTOPT_VERSION_MINOR 1
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

/* ---- Controller ---------------------------------------------------------- */

/* The control plane over one store, reading the system clock. Opaque. */
typedef struct spotopt_controller spotopt_controller;

/* Opens a controller on `store_uri`:
 *   "memory:"      everything in process memory, gone on close;
 *   "sqlite:PATH"  the SQLite database at PATH, created and migrated if needed; may
 *                  be shared with other controllers and other processes.
 * On success *out is a new handle owned by the caller (release it with
 * spotopt_controller_close). Errors: SPOTOPT_INVALID_ARGUMENT for a NULL argument or
 * any other URI; the store's error when it cannot be opened (e.g. SPOTOPT_INTERNAL
 * for an unwritable path). */
SPOTOPT_API spotopt_status spotopt_controller_open(const char* store_uri, spotopt_controller** out);

/* Releases the controller and its store. NULL is a no-op. Must not run concurrently
 * with any other call on the same handle; the handle is invalid afterwards. */
SPOTOPT_API void spotopt_controller_close(spotopt_controller* controller);

/* Creates a tenant named `name` and its first API token. On success *tenant_id_out
 * and *token_out are new strings owned by the caller (spotopt_free). The token is the
 * plaintext, shown only here: the store keeps a salted hash. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL argument, bad name), the store's errors. */
SPOTOPT_API spotopt_status spotopt_tenant_create(spotopt_controller* controller, const char* name,
                                                 char** tenant_id_out, char** token_out);

/* Runs the periodic work as of `now_unix_micros` (microseconds since the Unix
 * epoch): command expiry, liveness, replica timeouts, incident closing. The host
 * calls it, typically every few seconds; the library starts no threads. Idempotent:
 * running it twice, or from two threads at once, equals running it once. Errors:
 * SPOTOPT_INVALID_ARGUMENT (NULL controller), the store's errors. */
SPOTOPT_API spotopt_status spotopt_tick(spotopt_controller* controller, int64_t now_unix_micros);

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
 * {"error": <code>, "message": <why>} bodies, not as a failed call. Errors:
 * SPOTOPT_INVALID_ARGUMENT (a NULL required argument), SPOTOPT_INTERNAL (no response
 * could be produced). */
SPOTOPT_API spotopt_status spotopt_handle_request(spotopt_controller* controller,
                                                  const char* method, const char* target,
                                                  const char* authorization, const char* body,
                                                  size_t body_len, int* http_status_out,
                                                  char** response_body_out);

#ifdef __cplusplus
}
#endif

#endif /* SPOTOPT_SPOTOPT_H_ */
