/* The C ABI's public-API suite, in plain C99 against spotopt/spotopt.h alone: every
 * function, its error paths, NULL arguments and the close functions' NULL no-op.
 * ctest builds it against the build tree; tests/install/run.sh compiles the same
 * file against the installed header and library. Exits non-zero if a check fails. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir, strcasecmp */

#include <spotopt/spotopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capi_check.h"

/* 2025-11-23T10:00:00Z, where the manual clock of the scenario starts. */
static const int64_t kT0 = INT64_C(1763892000) * 1000000;
static const int64_t kSecond = 1000000;
static const char kInstanceA[] = "i-0aaaaaaaaaaaaaaa1";
static const char kInstanceA2[] = "i-0aaaaaaaaaaaaaaa2";
static const char kInstanceB[] = "i-0bbbbbbbbbbbbbbb1";
static const char kInstanceB2[] = "i-0bbbbbbbbbbbbbbb2";
static const char kNoSuchId[] = "00000000-0000-4000-8000-000000000000";

/* ---- Version, errors, NULL handles ---------------------------------------- */

static void TestVersion(void) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", SPOTOPT_VERSION_MAJOR, SPOTOPT_VERSION_MINOR,
           SPOTOPT_VERSION_PATCH);
  CHECK(strcmp(spotopt_version(), expected) == 0);
}

static void TestReleaseNullIsNoOp(void) {
  spotopt_controller_close(NULL);
  spotopt_controller_close(NULL);
  spotopt_clock_destroy(NULL);
  spotopt_http_response_free(NULL);
  spotopt_free(NULL);
}

/* A host may close its controller from an atexit handler (or a C++ static
 * destructor): by then the thread's thread-local objects are gone, and the library's
 * last-error message must not be one of them. ASan caught the use after free. */
static spotopt_controller* closed_at_exit = NULL;

static void CloseAtExit(void) {
  char* out = NULL;
  spotopt_controller_close(closed_at_exit);
  if (spotopt_tenant_list(NULL, &out) != SPOTOPT_INVALID_ARGUMENT ||
      strstr(spotopt_last_error(), "controller") == NULL) {
    fprintf(stderr, "capi_test: no error message at exit\n");
    _exit(EXIT_FAILURE);
  }
}

static void TestCloseAtExit(void) {
  CHECK(spotopt_controller_open("memory:", &closed_at_exit) == SPOTOPT_OK);
  CHECK(atexit(CloseAtExit) == 0);
}

static void TestBadUris(void) {
  const char* bad[] = {
      "", "memory", "sqlite:", "postgres://", "postgresql:", "postgres:x", "MEMORY:"};
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    spotopt_controller* c = (spotopt_controller*)SENTINEL;
    CHECK_FAILS(spotopt_controller_open(bad[i], &c), SPOTOPT_INVALID_ARGUMENT, "store URI");
    CHECK(c == (spotopt_controller*)SENTINEL);
  }
  {
    spotopt_controller* c = NULL;
    CHECK(spotopt_controller_open("sqlite:/nonexistent-dir/x/y.db", &c) != SPOTOPT_OK);
    CHECK(c == NULL && strlen(spotopt_last_error()) > 0);
  }
}

/* ---- Clocks ------------------------------------------------------------------ */

static int64_t host_now = INT64_C(1893456000) * 1000000; /* 2030-01-01T00:00:00Z */
static int host_calls = 0;

static int64_t HostClock(void* user_data) {
  ++*(int*)user_data;
  return host_now;
}

static void TestClocks(void) {
  spotopt_clock* manual = NULL;
  spotopt_clock* callback = NULL;
  spotopt_clock* untouched = (spotopt_clock*)SENTINEL;
  spotopt_controller* c = NULL;
  int64_t now = 0;
  char* id = NULL;
  char* token = NULL;
  char* json = NULL;

  CHECK_FAILS(spotopt_clock_create_manual(0, NULL), SPOTOPT_INVALID_ARGUMENT, "out");
  CHECK_FAILS(spotopt_clock_create_callback(NULL, NULL, &untouched), SPOTOPT_INVALID_ARGUMENT,
              "now");
  CHECK_FAILS(spotopt_clock_create_callback(HostClock, &host_calls, NULL), SPOTOPT_INVALID_ARGUMENT,
              "out");
  CHECK(untouched == (spotopt_clock*)SENTINEL);

  CHECK(spotopt_clock_create_manual(kT0, &manual) == SPOTOPT_OK);
  CHECK(spotopt_clock_now(manual, &now) == SPOTOPT_OK && now == kT0);
  CHECK(spotopt_clock_advance(manual, 5 * kSecond) == SPOTOPT_OK);
  CHECK(spotopt_clock_now(manual, &now) == SPOTOPT_OK && now == kT0 + 5 * kSecond);
  CHECK(spotopt_clock_advance(manual, 0) == SPOTOPT_OK);
  CHECK_FAILS(spotopt_clock_advance(manual, -1), SPOTOPT_INVALID_ARGUMENT, "advances");
  CHECK(spotopt_clock_set(manual, kT0 - kSecond) == SPOTOPT_OK); /* backwards is allowed */
  CHECK(spotopt_clock_now(manual, &now) == SPOTOPT_OK && now == kT0 - kSecond);
  CHECK_FAILS(spotopt_clock_set(NULL, 0), SPOTOPT_INVALID_ARGUMENT, "clock");
  CHECK_FAILS(spotopt_clock_advance(NULL, 0), SPOTOPT_INVALID_ARGUMENT, "clock");
  CHECK_FAILS(spotopt_clock_now(NULL, &now), SPOTOPT_INVALID_ARGUMENT, "clock");
  CHECK_FAILS(spotopt_clock_now(manual, NULL), SPOTOPT_INVALID_ARGUMENT, "now_unix_micros_out");

  CHECK(spotopt_clock_create_callback(HostClock, &host_calls, &callback) == SPOTOPT_OK);
  CHECK(spotopt_clock_now(callback, &now) == SPOTOPT_OK && now == host_now);
  CHECK(host_calls == 1);
  CHECK_FAILS(spotopt_clock_set(callback, 0), SPOTOPT_FAILED_PRECONDITION, "manual");
  CHECK_FAILS(spotopt_clock_advance(callback, 1), SPOTOPT_FAILED_PRECONDITION, "manual");

  CHECK_FAILS(spotopt_controller_open_with_clock(NULL, callback, &c), SPOTOPT_INVALID_ARGUMENT,
              "store_uri");
  CHECK_FAILS(spotopt_controller_open_with_clock("memory:", NULL, &c), SPOTOPT_INVALID_ARGUMENT,
              "clock");
  CHECK_FAILS(spotopt_controller_open_with_clock("memory:", callback, NULL),
              SPOTOPT_INVALID_ARGUMENT, "out");
  CHECK_FAILS(spotopt_controller_open_with_clock("nope:", callback, &c), SPOTOPT_INVALID_ARGUMENT,
              "store URI");
  CHECK(c == NULL);

  /* The controller keeps the clock alive after the host drops its handle, and reads
   * it: the tenant is created at the host's time. */
  CHECK(spotopt_controller_open_with_clock("memory:", callback, &c) == SPOTOPT_OK);
  spotopt_clock_destroy(callback);
  if (c != NULL) {
    CHECK(spotopt_tenant_create(c, "timed", &id, &token) == SPOTOPT_OK);
    CHECK(spotopt_tenant_get(c, id, &json) == SPOTOPT_OK);
    CHECK(JsonHas(json, "created_at", "\"2030-01-01T00:00:00.000000Z\""));
    CHECK(host_calls > 1);
    spotopt_free(json);
    spotopt_free(id);
    spotopt_free(token);
    spotopt_controller_close(c);
  }
  spotopt_clock_destroy(manual);
}

/* ---- NULL arguments ------------------------------------------------------------ */

/* Every required pointer of every function: SPOTOPT_INVALID_ARGUMENT naming it, and
 * the outputs untouched. */
static void TestNullArguments(void) {
  spotopt_controller* c = NULL;
  char* out = SENTINEL;
  char* out2 = SENTINEL;
  int http_status = -1;
  int64_t version = -1;
  spotopt_http_response* response = (spotopt_http_response*)SENTINEL;
  spotopt_header bad_header = {"Authorization", NULL};
  const char* t = kNoSuchId;
  const char* a = kNoSuchId;

  CHECK_FAILS(spotopt_controller_open(NULL, &c), SPOTOPT_INVALID_ARGUMENT, "store_uri");
  CHECK_FAILS(spotopt_controller_open("memory:", NULL), SPOTOPT_INVALID_ARGUMENT, "out");
  CHECK(c == NULL);
  CHECK(spotopt_controller_open("memory:", &c) == SPOTOPT_OK);
  CHECK(strcmp(spotopt_last_error(), "") == 0);
  if (c == NULL) return;

  CHECK_FAILS(spotopt_tick(NULL, 0), SPOTOPT_INVALID_ARGUMENT, "controller");

  CHECK_FAILS(spotopt_tenant_create(NULL, "n", &out, &out2), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_tenant_create(c, NULL, &out, &out2), SPOTOPT_INVALID_ARGUMENT, "name");
  CHECK_FAILS(spotopt_tenant_create(c, "n", NULL, &out2), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id_out");
  CHECK_FAILS(spotopt_tenant_create(c, "n", &out, NULL), SPOTOPT_INVALID_ARGUMENT, "token_out");
  CHECK_FAILS(spotopt_tenant_get(NULL, t, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_get(c, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_tenant_get(c, t, NULL), SPOTOPT_INVALID_ARGUMENT, "tenant_json_out");
  CHECK_FAILS(spotopt_tenant_list(NULL, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_list(c, NULL), SPOTOPT_INVALID_ARGUMENT, "tenants_json_out");
  CHECK_FAILS(spotopt_tenant_suspend(NULL, t), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_suspend(c, NULL), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_tenant_reactivate(NULL, t), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_reactivate(c, NULL), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_tenant_delete(NULL, t), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_delete(c, NULL), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_tenant_rotate_token(NULL, t, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_rotate_token(c, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_tenant_rotate_token(c, t, NULL), SPOTOPT_INVALID_ARGUMENT, "token_out");
  CHECK_FAILS(spotopt_tenant_authenticate(NULL, "x", &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_tenant_authenticate(c, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "token");
  CHECK_FAILS(spotopt_tenant_authenticate(c, "x", NULL), SPOTOPT_INVALID_ARGUMENT, "tenant_id_out");

  CHECK_FAILS(spotopt_agent_get(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_agent_get(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_agent_get(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_agent_get(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "agent_json_out");
  CHECK_FAILS(spotopt_agent_list(NULL, t, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_agent_list(c, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_agent_list(c, t, NULL), SPOTOPT_INVALID_ARGUMENT, "agents_json_out");
  CHECK_FAILS(spotopt_agent_set_enabled(NULL, t, a, 1), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_agent_set_enabled(c, NULL, a, 1), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_agent_set_enabled(c, t, NULL, 1), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_agent_delete(NULL, t, a), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_agent_delete(c, NULL, a), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_agent_delete(c, t, NULL), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_agent_events(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_agent_events(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_agent_events(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_agent_events(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "events_json_out");
  CHECK_FAILS(spotopt_agent_heartbeat(NULL, t, a, "online", NULL, NULL, NULL, &version),
              SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_agent_heartbeat(c, NULL, a, "online", NULL, NULL, NULL, &version),
              SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_agent_heartbeat(c, t, NULL, "online", NULL, NULL, NULL, &version),
              SPOTOPT_INVALID_ARGUMENT, "registration_id");
  CHECK_FAILS(spotopt_agent_heartbeat(c, t, a, NULL, NULL, NULL, NULL, &version),
              SPOTOPT_INVALID_ARGUMENT, "status");
  CHECK_FAILS(spotopt_agent_heartbeat(c, t, a, "online", NULL, NULL, NULL, NULL),
              SPOTOPT_INVALID_ARGUMENT, "config_version_out");
  CHECK(version == -1);

  CHECK_FAILS(spotopt_config_get(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_config_get(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_config_get(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_config_get(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "config_json_out");
  CHECK_FAILS(spotopt_config_update(NULL, t, a, "{}", 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_config_update(c, NULL, a, "{}", 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_config_update(c, t, NULL, "{}", 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "agent_id");
  CHECK_FAILS(spotopt_config_update(c, t, a, NULL, 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "patch_json");
  CHECK_FAILS(spotopt_config_update(c, t, a, "{}", 0, NULL), SPOTOPT_INVALID_ARGUMENT,
              "config_json_out");

  CHECK_FAILS(spotopt_command_enqueue_switch(NULL, t, a, "{}", &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_command_enqueue_switch(c, NULL, a, "{}", &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_command_enqueue_switch(c, t, NULL, "{}", &out), SPOTOPT_INVALID_ARGUMENT,
              "agent_id");
  CHECK_FAILS(spotopt_command_enqueue_switch(c, t, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "request_json");
  CHECK_FAILS(spotopt_command_enqueue_switch(c, t, a, "{}", NULL), SPOTOPT_INVALID_ARGUMENT,
              "command_json_out");
  CHECK_FAILS(spotopt_command_enqueue_create_replica(NULL, t, a, NULL, &out),
              SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_command_enqueue_create_replica(c, NULL, a, NULL, &out),
              SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_command_enqueue_create_replica(c, t, NULL, NULL, &out),
              SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_command_enqueue_create_replica(c, t, a, NULL, NULL), SPOTOPT_INVALID_ARGUMENT,
              "command_json_out");
  CHECK_FAILS(spotopt_command_poll(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_command_poll(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_command_poll(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "registration_id");
  CHECK_FAILS(spotopt_command_poll(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "command_json_out");
  CHECK_FAILS(spotopt_command_ack(NULL, t, a, a, 1, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_command_ack(c, NULL, a, a, 1, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_command_ack(c, t, NULL, a, 1, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "registration_id");
  CHECK_FAILS(spotopt_command_ack(c, t, a, NULL, 1, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "command_id");
  CHECK_FAILS(spotopt_command_ack(c, t, a, a, 1, NULL, NULL), SPOTOPT_INVALID_ARGUMENT,
              "command_json_out");
  CHECK_FAILS(spotopt_command_cancel(NULL, t, a, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_command_cancel(c, NULL, a, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_command_cancel(c, t, NULL, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "agent_id");
  CHECK_FAILS(spotopt_command_cancel(c, t, a, NULL, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "command_id");
  CHECK_FAILS(spotopt_command_cancel(c, t, a, a, NULL, NULL), SPOTOPT_INVALID_ARGUMENT,
              "command_json_out");
  CHECK_FAILS(spotopt_command_get(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_command_get(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_command_get(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "command_id");
  CHECK_FAILS(spotopt_command_get(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "command_json_out");
  CHECK_FAILS(spotopt_command_list(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_command_list(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_command_list(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_command_list(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "commands_json_out");

  CHECK_FAILS(spotopt_replica_request(NULL, t, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_replica_request(c, NULL, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_replica_request(c, t, NULL, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "agent_id");
  CHECK_FAILS(spotopt_replica_request(c, t, a, NULL, NULL), SPOTOPT_INVALID_ARGUMENT,
              "replica_json_out");
  CHECK_FAILS(spotopt_replica_promote(NULL, t, a, a, 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_replica_promote(c, NULL, a, a, 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_replica_promote(c, t, NULL, a, 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "agent_id");
  CHECK_FAILS(spotopt_replica_promote(c, t, a, NULL, 0, &out), SPOTOPT_INVALID_ARGUMENT,
              "replica_id");
  CHECK_FAILS(spotopt_replica_promote(c, t, a, a, 0, NULL), SPOTOPT_INVALID_ARGUMENT,
              "replica_json_out");
  CHECK_FAILS(spotopt_replica_terminate(NULL, t, a, a, &out), SPOTOPT_INVALID_ARGUMENT,
              "controller");
  CHECK_FAILS(spotopt_replica_terminate(c, NULL, a, a, &out), SPOTOPT_INVALID_ARGUMENT,
              "tenant_id");
  CHECK_FAILS(spotopt_replica_terminate(c, t, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_replica_terminate(c, t, a, NULL, &out), SPOTOPT_INVALID_ARGUMENT,
              "replica_id");
  CHECK_FAILS(spotopt_replica_terminate(c, t, a, a, NULL), SPOTOPT_INVALID_ARGUMENT,
              "replica_json_out");
  CHECK_FAILS(spotopt_replica_list(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_replica_list(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_replica_list(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_replica_list(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "replicas_json_out");

  CHECK_FAILS(spotopt_incident_list(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_incident_list(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_incident_list(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_incident_list(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "incidents_json_out");
  CHECK_FAILS(spotopt_switch_list(NULL, t, a, &out), SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_switch_list(c, NULL, a, &out), SPOTOPT_INVALID_ARGUMENT, "tenant_id");
  CHECK_FAILS(spotopt_switch_list(c, t, NULL, &out), SPOTOPT_INVALID_ARGUMENT, "agent_id");
  CHECK_FAILS(spotopt_switch_list(c, t, a, NULL), SPOTOPT_INVALID_ARGUMENT, "switches_json_out");

  CHECK_FAILS(spotopt_handle_request(NULL, "GET", "/", NULL, NULL, 0, &http_status, &out),
              SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_handle_request(c, NULL, "/", NULL, NULL, 0, &http_status, &out),
              SPOTOPT_INVALID_ARGUMENT, "method");
  CHECK_FAILS(spotopt_handle_request(c, "GET", NULL, NULL, NULL, 0, &http_status, &out),
              SPOTOPT_INVALID_ARGUMENT, "target");
  CHECK_FAILS(spotopt_handle_request(c, "POST", "/", NULL, NULL, 5, &http_status, &out),
              SPOTOPT_INVALID_ARGUMENT, "body_len");
  CHECK_FAILS(spotopt_handle_request(c, "GET", "/", NULL, NULL, 0, NULL, &out),
              SPOTOPT_INVALID_ARGUMENT, "http_status_out");
  CHECK_FAILS(spotopt_handle_request(c, "GET", "/", NULL, NULL, 0, &http_status, NULL),
              SPOTOPT_INVALID_ARGUMENT, "response_body_out");
  CHECK(http_status == -1);

  CHECK_FAILS(spotopt_handle_http(NULL, "GET", "/", NULL, 0, NULL, 0, &response),
              SPOTOPT_INVALID_ARGUMENT, "controller");
  CHECK_FAILS(spotopt_handle_http(c, NULL, "/", NULL, 0, NULL, 0, &response),
              SPOTOPT_INVALID_ARGUMENT, "method");
  CHECK_FAILS(spotopt_handle_http(c, "GET", NULL, NULL, 0, NULL, 0, &response),
              SPOTOPT_INVALID_ARGUMENT, "target");
  CHECK_FAILS(spotopt_handle_http(c, "GET", "/", NULL, 2, NULL, 0, &response),
              SPOTOPT_INVALID_ARGUMENT, "header_count");
  CHECK_FAILS(spotopt_handle_http(c, "GET", "/", &bad_header, 1, NULL, 0, &response),
              SPOTOPT_INVALID_ARGUMENT, "headers[0]");
  CHECK_FAILS(spotopt_handle_http(c, "POST", "/", NULL, 0, NULL, 3, &response),
              SPOTOPT_INVALID_ARGUMENT, "body_len");
  CHECK_FAILS(spotopt_handle_http(c, "GET", "/", NULL, 0, NULL, 0, NULL), SPOTOPT_INVALID_ARGUMENT,
              "response_out");

  CHECK(out == SENTINEL && out2 == SENTINEL);
  CHECK(response == (spotopt_http_response*)SENTINEL);
  spotopt_controller_close(c);
}

/* ---- The operator's and the agents' view of one fleet ---------------------------- */

struct Fleet {
  spotopt_controller* c;
  spotopt_clock* clock;
  char tenant[64];
  char token[128];
  char agent_a[64]; /* logical agents */
  char agent_b[64];
  char reg_a[64]; /* their registrations (the wire's agent_id) */
  char reg_b[64];
};

/* Registers `instance` under `logical`; returns the HTTP status, the registration id
 * in reg_out. */
static int Register(struct Fleet* f, const char* instance, const char* logical, const char* az,
                    char* reg_out, size_t reg_size) {
  char body[512];
  int status = -1;
  spotopt_http_response* r;
  RegisterBody(body, sizeof body, instance, logical, az);
  r = Send(f->c, "POST", "/api/agents/register", f->token, body);
  CHECK(r != NULL);
  if (r == NULL) return -1;
  status = r->status;
  CHECK(JsonString(r->body, "agent_id", reg_out, reg_size));
  CHECK(strlen(r->body) == r->body_len);
  spotopt_http_response_free(r);
  return status;
}

/* The logical agent id behind a registration, through the agent list. */
static void LogicalIdOf(struct Fleet* f, const char* logical, char* out, size_t out_size) {
  char* json = NULL;
  char pattern[128];
  const char* at;
  CHECK(spotopt_agent_list(f->c, f->tenant, &json) == SPOTOPT_OK);
  if (json == NULL) return;
  snprintf(pattern, sizeof pattern, "\"logical_agent_id\":\"%s\"", logical);
  at = strstr(json, pattern);
  CHECK(at != NULL);
  /* The agent's "id" is its first key, just before this one. */
  while (at != NULL && at > json && strncmp(at, "{\"id\":\"", 7) != 0) --at;
  CHECK(at != NULL && JsonString(at, "id", out, out_size));
  spotopt_free(json);
}

static void TestTenants(struct Fleet* f) {
  char* json = NULL;
  char* id = NULL;
  char* token2 = SENTINEL;
  spotopt_http_response* r;

  CHECK(spotopt_tenant_get(f->c, f->tenant, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "name", "\"acme\"") && JsonHas(json, "state", "\"active\""));
  spotopt_free(json);
  CHECK(spotopt_tenant_list(f->c, &json) == SPOTOPT_OK);
  CHECK(json != NULL && json[0] == '[' && strstr(json, f->tenant) != NULL);
  spotopt_free(json);
  CHECK_FAILS(spotopt_tenant_get(f->c, kNoSuchId, &json), SPOTOPT_NOT_FOUND, "tenant");
  CHECK_FAILS(spotopt_tenant_get(f->c, "not-an-id", &json), SPOTOPT_NOT_FOUND, "tenant");
  CHECK_FAILS(spotopt_tenant_create(f->c, "", &id, &token2), SPOTOPT_INVALID_ARGUMENT, "name");

  CHECK(spotopt_tenant_authenticate(f->c, f->token, &id) == SPOTOPT_OK);
  CHECK(id != NULL && strcmp(id, f->tenant) == 0);
  spotopt_free(id);
  id = SENTINEL;
  CHECK(spotopt_tenant_authenticate(f->c, "sot_wrongwrongwrongwrongwrongwron", &id) ==
        SPOTOPT_UNAUTHENTICATED);
  CHECK(spotopt_tenant_authenticate(f->c, "", &id) == SPOTOPT_UNAUTHENTICATED);
  CHECK(id == SENTINEL);

  /* Suspended: 403 on the wire, PERMISSION_DENIED here; a transition twice refused. */
  CHECK(spotopt_tenant_suspend(f->c, f->tenant) == SPOTOPT_OK);
  CHECK(spotopt_tenant_suspend(f->c, f->tenant) == SPOTOPT_FAILED_PRECONDITION);
  CHECK(spotopt_tenant_authenticate(f->c, f->token, &id) == SPOTOPT_PERMISSION_DENIED);
  r = Send(f->c, "GET", "/api/agents/x/config", f->token, NULL);
  CHECK(r != NULL && r->status == 403);
  spotopt_http_response_free(r);
  CHECK(spotopt_tenant_reactivate(f->c, f->tenant) == SPOTOPT_OK);
  CHECK(spotopt_tenant_reactivate(f->c, f->tenant) == SPOTOPT_FAILED_PRECONDITION);
  CHECK(spotopt_tenant_suspend(f->c, kNoSuchId) == SPOTOPT_NOT_FOUND);

  /* Rotation: the new token works and the old one keeps working for the grace. */
  CHECK(spotopt_tenant_rotate_token(f->c, f->tenant, &token2) == SPOTOPT_OK);
  CHECK(token2 != SENTINEL && strcmp(token2, f->token) != 0);
  CHECK(spotopt_tenant_authenticate(f->c, token2, &id) == SPOTOPT_OK);
  spotopt_free(id);
  CHECK(spotopt_tenant_authenticate(f->c, f->token, &id) == SPOTOPT_OK);
  spotopt_free(id);
  CHECK(spotopt_tenant_rotate_token(f->c, kNoSuchId, &json) == SPOTOPT_NOT_FOUND);
  if (token2 != SENTINEL) spotopt_free(token2);
}

static void TestAgentsAndConfig(struct Fleet* f) {
  char* json = NULL;
  int64_t version = -1;

  CHECK(spotopt_agent_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "lifecycle", "\"active\"") && JsonHas(json, "liveness", "\"online\""));
  CHECK(strstr(json, kInstanceA) != NULL && strstr(json, f->reg_a) != NULL);
  spotopt_free(json);
  CHECK_FAILS(spotopt_agent_get(f->c, f->tenant, kNoSuchId, &json), SPOTOPT_NOT_FOUND, "agent");
  /* A registration id is not a logical agent id. */
  CHECK(spotopt_agent_get(f->c, f->tenant, f->reg_a, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_agent_list(f->c, kNoSuchId, &json) == SPOTOPT_NOT_FOUND);

  /* Heartbeats and liveness on the injected clock: stale after 60 s, offline after
   * 120 s, online again on the next beat. */
  CHECK(spotopt_agent_heartbeat(f->c, f->tenant, f->reg_a, "online", kInstanceA, "m5.large",
                                "us-east-1a", &version) == SPOTOPT_OK);
  CHECK(version == 1);
  CHECK(spotopt_clock_advance(f->clock, 61 * kSecond) == SPOTOPT_OK);
  CHECK(spotopt_agent_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "liveness", "\"stale\""));
  spotopt_free(json);
  CHECK(spotopt_clock_advance(f->clock, 60 * kSecond) == SPOTOPT_OK);
  CHECK(spotopt_agent_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "liveness", "\"offline\""));
  spotopt_free(json);
  CHECK(spotopt_agent_heartbeat(f->c, f->tenant, f->reg_a, "online", NULL, NULL, NULL, &version) ==
        SPOTOPT_OK);
  CHECK(spotopt_agent_heartbeat(f->c, f->tenant, f->reg_b, "online", NULL, NULL, NULL, &version) ==
        SPOTOPT_OK);
  version = -1;
  CHECK_FAILS(
      spotopt_agent_heartbeat(f->c, f->tenant, f->reg_a, "sleeping", NULL, NULL, NULL, &version),
      SPOTOPT_INVALID_ARGUMENT, "status");
  CHECK_FAILS(spotopt_agent_heartbeat(f->c, f->tenant, f->reg_a, "online", "not-an-instance", NULL,
                                      NULL, &version),
              SPOTOPT_INVALID_ARGUMENT, "instance_id");
  CHECK(spotopt_agent_heartbeat(f->c, f->tenant, kNoSuchId, "online", NULL, NULL, NULL, &version) ==
        SPOTOPT_NOT_FOUND);
  CHECK(version == -1);

  /* Config: exact, versioned, read back as written. */
  CHECK(spotopt_config_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "config_version", "1") && JsonHas(json, "enabled", "true"));
  spotopt_free(json);
  CHECK(spotopt_config_update(f->c, f->tenant, f->agent_a, "{\"min_savings_percent\": 25}", 1,
                              &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "config_version", "2") && JsonHas(json, "min_savings_percent", "25.0"));
  spotopt_free(json);
  json = SENTINEL;
  CHECK_FAILS(
      spotopt_config_update(f->c, f->tenant, f->agent_a, "{\"risk_threshold\": 0.5}", 1, &json),
      SPOTOPT_FAILED_PRECONDITION, "version");
  CHECK_FAILS(spotopt_config_update(f->c, f->tenant, f->agent_a, "{\"no_such_key\": 1}", 0, &json),
              SPOTOPT_INVALID_ARGUMENT, "no_such_key");
  /* A message quoting input with a NUL in it must not end there. */
  CHECK_FAILS(spotopt_config_update(f->c, f->tenant, f->agent_a, "{\"\\u0000key\": 1}", 0, &json),
              SPOTOPT_INVALID_ARGUMENT, "\\0key: unknown config field");
  CHECK(spotopt_config_update(f->c, f->tenant, f->agent_a, "{not json", 0, &json) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK_FAILS(spotopt_config_update(f->c, f->tenant, f->agent_a, "{}", -1, &json),
              SPOTOPT_INVALID_ARGUMENT, "expected_version");
  CHECK(spotopt_config_update(f->c, f->tenant, kNoSuchId, "{}", 0, &json) == SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL);
  CHECK(spotopt_config_update(f->c, f->tenant, f->agent_a, "{\"autoSwitchEnabled\": false}", 0,
                              &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "auto_switch_enabled", "false") && JsonHas(json, "config_version", "3"));
  spotopt_free(json);

  /* Disabled: the agent reads enabled false and gets no switch. */
  CHECK(spotopt_agent_set_enabled(f->c, f->tenant, f->agent_a, 0) == SPOTOPT_OK);
  CHECK(spotopt_config_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "enabled", "false"));
  spotopt_free(json);
  json = SENTINEL;
  CHECK_FAILS(
      spotopt_command_enqueue_switch(
          f->c, f->tenant, f->agent_a,
          "{\"target_mode\": \"spot\", \"target_pool_id\": \"m5.large.us-east-1b\"}", &json),
      SPOTOPT_FAILED_PRECONDITION, "disabled");
  CHECK(json == SENTINEL);
  CHECK(spotopt_agent_set_enabled(f->c, f->tenant, f->agent_a, 1) == SPOTOPT_OK);
  CHECK(spotopt_agent_set_enabled(f->c, f->tenant, kNoSuchId, 1) == SPOTOPT_NOT_FOUND);
}

static void TestCommands(struct Fleet* f) {
  char* json = NULL;
  char* polled = SENTINEL;
  char command[64];
  char other[64];
  int64_t now = 0;
  const char* to_1b =
      "{\"target_mode\": \"spot\", \"target_pool_id\": \"m5.large.us-east-1b\","
      " \"override_limits\": true, \"reason\": \"capi test\"}";

  /* Refused requests change nothing. */
  json = SENTINEL;
  CHECK_FAILS(spotopt_command_enqueue_switch(f->c, f->tenant, f->agent_a, "{}", &json),
              SPOTOPT_INVALID_ARGUMENT, "target_mode");
  CHECK_FAILS(spotopt_command_enqueue_switch(f->c, f->tenant, f->agent_a,
                                             "{\"target_mode\": \"spot\", \"bogus\": 1}", &json),
              SPOTOPT_INVALID_ARGUMENT, "bogus");
  CHECK_FAILS(spotopt_command_enqueue_switch(f->c, f->tenant, f->agent_a, "[1]", &json),
              SPOTOPT_INVALID_ARGUMENT, "request_json");
  CHECK_FAILS(spotopt_command_enqueue_switch(
                  f->c, f->tenant, f->agent_a,
                  "{\"target_mode\": \"spot\", \"target_pool_id\": \"m5.large.us-east-1b\","
                  " \"priority\": 60}",
                  &json),
              SPOTOPT_INVALID_ARGUMENT, "priority");
  CHECK_FAILS(spotopt_command_enqueue_switch(
                  f->c, f->tenant, f->agent_a,
                  "{\"target_mode\": \"spot\", \"target_pool_id\": \"m5.large.us-east-1b\","
                  " \"ttl_seconds\": 0}",
                  &json),
              SPOTOPT_INVALID_ARGUMENT, "ttl_seconds");
  CHECK(spotopt_command_enqueue_switch(f->c, f->tenant, kNoSuchId, to_1b, &json) ==
        SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL);
  CHECK(spotopt_command_list(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(json != NULL && strcmp(json, "[]") == 0);
  spotopt_free(json);

  /* Enqueued, delivered once, acknowledged; a repeated ack changes nothing. */
  CHECK(spotopt_command_enqueue_switch(f->c, f->tenant, f->agent_a, to_1b, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"pending\"") && JsonHas(json, "priority", "75"));
  CHECK(JsonHas(json, "requested_by", "\"capi\"") && JsonHas(json, "reason", "\"capi test\""));
  CHECK(JsonString(json, "id", command, sizeof command));
  spotopt_free(json);
  CHECK(spotopt_command_get(f->c, f->tenant, command, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "agent_id", "\"") && strstr(json, f->agent_a) != NULL);
  spotopt_free(json);
  CHECK(spotopt_command_poll(f->c, f->tenant, f->reg_b, &polled) == SPOTOPT_OK);
  CHECK(polled == NULL); /* B's registration polls B's queue: empty */
  CHECK(spotopt_command_poll(f->c, f->tenant, f->reg_a, &polled) == SPOTOPT_OK);
  CHECK(polled != NULL && strstr(polled, command) != NULL);
  CHECK(JsonHas(polled, "command_type", "\"switch\"") &&
        JsonHas(polled, "target_pool_id", "\"m5.large.us-east-1b\""));
  spotopt_free(polled);
  polled = SENTINEL;
  CHECK(spotopt_command_poll(f->c, f->tenant, f->reg_a, &polled) == SPOTOPT_OK);
  CHECK(polled == NULL);
  CHECK(spotopt_command_poll(f->c, f->tenant, kNoSuchId, &polled) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_command_ack(f->c, f->tenant, f->reg_a, command, 1, "switched", &json) ==
        SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"succeeded\"") && JsonHas(json, "result_message", "\"switched\""));
  spotopt_free(json);
  CHECK(spotopt_command_ack(f->c, f->tenant, f->reg_a, command, 1, NULL, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"succeeded\""));
  spotopt_free(json);
  json = SENTINEL;
  CHECK(spotopt_command_ack(f->c, f->tenant, f->reg_a, kNoSuchId, 1, NULL, &json) ==
        SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL);

  /* Cancelled while pending; a second cancel is refused. */
  CHECK(spotopt_command_enqueue_switch(f->c, f->tenant, f->agent_a, to_1b, &json) == SPOTOPT_OK);
  CHECK(JsonString(json, "id", other, sizeof other));
  spotopt_free(json);
  json = SENTINEL;
  CHECK(spotopt_command_ack(f->c, f->tenant, f->reg_a, other, 1, NULL, &json) ==
        SPOTOPT_FAILED_PRECONDITION); /* never delivered */
  CHECK(spotopt_command_cancel(f->c, f->tenant, f->agent_a, other, NULL, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"cancelled\""));
  spotopt_free(json);
  json = SENTINEL;
  CHECK(spotopt_command_cancel(f->c, f->tenant, f->agent_a, other, "again", &json) ==
        SPOTOPT_FAILED_PRECONDITION);
  CHECK(spotopt_command_get(f->c, f->tenant, kNoSuchId, &json) == SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL);

  /* A short TTL on the injected clock: the tick expires it. */
  CHECK(spotopt_command_enqueue_switch(
            f->c, f->tenant, f->agent_a,
            "{\"target_mode\": \"spot\", \"target_pool_id\": \"m5.large.us-east-1c\","
            " \"override_limits\": true, \"ttl_seconds\": 60}",
            &json) == SPOTOPT_OK);
  CHECK(JsonString(json, "id", other, sizeof other));
  spotopt_free(json);
  CHECK(spotopt_clock_advance(f->clock, 61 * kSecond) == SPOTOPT_OK);
  CHECK(spotopt_clock_now(f->clock, &now) == SPOTOPT_OK);
  CHECK(spotopt_tick(f->c, now) == SPOTOPT_OK);
  CHECK(spotopt_tick(f->c, now) == SPOTOPT_OK); /* idempotent */
  CHECK(spotopt_command_get(f->c, f->tenant, other, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"expired\""));
  spotopt_free(json);
  CHECK(spotopt_command_list(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(json != NULL && strstr(json, command) != NULL && strstr(json, other) != NULL);
  spotopt_free(json);
  /* Beats keep the agents online for what follows. */
  CHECK(spotopt_agent_heartbeat(f->c, f->tenant, f->reg_a, "online", NULL, NULL, NULL, &now) ==
        SPOTOPT_OK);
}

/* Replica work of one launch through the agent protocol: lease, instance, ready. */
static void LaunchReplica(struct Fleet* f, const char* replica, const char* instance) {
  char target[256];
  char body[256];
  spotopt_http_response* r;
  snprintf(target, sizeof target, "/api/agents/%s/replicas?status=launching", f->reg_a);
  r = Send(f->c, "GET", target, f->token, NULL);
  CHECK(r != NULL && r->status == 200 && strstr(r->body, replica) != NULL);
  spotopt_http_response_free(r);
  snprintf(target, sizeof target, "/api/agents/%s/replicas/%s", f->reg_a, replica);
  snprintf(body, sizeof body, "{\"instance_id\": \"%s\", \"status\": \"syncing\"}", instance);
  r = Send(f->c, "PUT", target, f->token, body);
  CHECK(r != NULL && r->status == 200);
  spotopt_http_response_free(r);
  snprintf(target, sizeof target, "/api/agents/%s/replicas/%s/status", f->reg_a, replica);
  r = Send(f->c, "POST", target, f->token, "{\"status\": \"ready\"}");
  CHECK(r != NULL && r->status == 200);
  spotopt_http_response_free(r);
}

static void TestReplicas(struct Fleet* f) {
  char* json = NULL;
  char replica[64];
  char second[64];

  CHECK(spotopt_replica_request(f->c, f->tenant, f->agent_a, NULL, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"requested\""));
  CHECK(JsonString(json, "id", replica, sizeof replica));
  spotopt_free(json);
  json = SENTINEL;
  CHECK(spotopt_replica_request(f->c, f->tenant, f->agent_a, NULL, &json) ==
        SPOTOPT_FAILED_PRECONDITION); /* one live replica per agent */
  CHECK_FAILS(spotopt_replica_request(f->c, f->tenant, f->agent_a, "{\"size\": 3}", &json),
              SPOTOPT_INVALID_ARGUMENT, "size");
  CHECK(spotopt_replica_promote(f->c, f->tenant, f->agent_a, replica, 0, &json) ==
        SPOTOPT_FAILED_PRECONDITION); /* not ready */
  CHECK(spotopt_replica_promote(f->c, f->tenant, f->agent_a, kNoSuchId, 0, &json) ==
        SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL);

  LaunchReplica(f, replica, kInstanceA2);
  CHECK(spotopt_replica_promote(f->c, f->tenant, f->agent_a, replica, 0, &json) == SPOTOPT_OK);
  CHECK(json != NULL && strstr(json, kInstanceA2) != NULL);
  spotopt_free(json);
  CHECK(spotopt_agent_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(strstr(json, "\"placement\":{\"instance_id\":\"i-0aaaaaaaaaaaaaaa2\"") != NULL);
  spotopt_free(json);
  CHECK(spotopt_agent_events(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "kind", "\"placement_moved\""));
  spotopt_free(json);

  /* A requested replica that is terminated never launched: it fails at once. */
  CHECK(spotopt_replica_request(f->c, f->tenant, f->agent_a,
                                "{\"replica_type\": \"standby\", \"requested_by\": \"ops\"}",
                                &json) == SPOTOPT_OK);
  CHECK(JsonString(json, "id", second, sizeof second));
  CHECK(JsonHas(json, "replica_type", "\"standby\""));
  spotopt_free(json);
  CHECK(spotopt_replica_terminate(f->c, f->tenant, f->agent_a, second, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "state", "\"failed\""));
  spotopt_free(json);
  json = SENTINEL;
  CHECK(spotopt_replica_terminate(f->c, f->tenant, f->agent_a, second, &json) ==
        SPOTOPT_FAILED_PRECONDITION);
  CHECK(spotopt_replica_terminate(f->c, f->tenant, f->agent_a, kNoSuchId, &json) ==
        SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL);
  CHECK(spotopt_replica_list(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(json != NULL && strstr(json, replica) != NULL && strstr(json, second) != NULL);
  CHECK(JsonHas(json, "state", "\"promoted\""));
  spotopt_free(json);
}

/* Agent B: a switch with its report (the switch ledger), a rebalance signal (an
 * incident), a create_replica command, then deletion. */
static void TestSwitchesIncidentsAndDelete(struct Fleet* f) {
  char* json = NULL;
  char* polled = NULL;
  char command[64];
  char target[256];
  char body[1024];
  int64_t version = 0;
  spotopt_http_response* r;

  CHECK(spotopt_command_enqueue_switch(
            f->c, f->tenant, f->agent_b,
            "{\"target_mode\": \"spot\", \"target_pool_id\": \"m5.large.us-east-1c\","
            " \"override_limits\": true}",
            &json) == SPOTOPT_OK);
  CHECK(JsonString(json, "id", command, sizeof command));
  spotopt_free(json);
  CHECK(spotopt_command_poll(f->c, f->tenant, f->reg_b, &polled) == SPOTOPT_OK);
  CHECK(polled != NULL && strstr(polled, command) != NULL);
  spotopt_free(polled);
  snprintf(target, sizeof target, "/api/agents/%s/switch-report", f->reg_b);
  snprintf(body, sizeof body,
           "{\"old_instance\": {\"instance_id\": \"%s\", \"instance_type\": \"m5.large\","
           " \"region\": \"us-east-1\", \"az\": \"us-east-1a\", \"mode\": \"spot\"},"
           " \"new_instance\": {\"instance_id\": \"%s\", \"instance_type\": \"m5.large\","
           " \"region\": \"us-east-1\", \"az\": \"us-east-1c\", \"mode\": \"spot\"},"
           " \"prices\": {\"on_demand\": 0.096, \"old_spot\": 0.0389, \"new_spot\": 0.0342},"
           " \"timing\": {\"switch_initiated_at\": \"2025-11-23T10:15:02.481930+00:00\"},"
           " \"trigger\": \"manual\", \"command_id\": \"%s\"}",
           kInstanceB, kInstanceB2, command);
  r = Send(f->c, "POST", target, f->token, body);
  CHECK(r != NULL && r->status == 200);
  spotopt_http_response_free(r);
  CHECK(spotopt_switch_list(f->c, f->tenant, f->agent_b, &json) == SPOTOPT_OK);
  CHECK(json != NULL && strstr(json, kInstanceB2) != NULL && strstr(json, command) != NULL);
  CHECK(JsonHas(json, "switch_initiated_at", "\"2025-11-23T10:15:02.481930Z\""));
  CHECK(JsonHas(json, "on_demand", "0.096") && JsonHas(json, "reported", "true"));
  spotopt_free(json);
  CHECK(spotopt_switch_list(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(json != NULL && strcmp(json, "[]") == 0);
  spotopt_free(json);

  snprintf(target, sizeof target, "/api/agents/%s/rebalance-recommendation", f->reg_b);
  snprintf(body, sizeof body, "{\"instance_id\": \"%s\"}", kInstanceB);
  r = Send(f->c, "POST", target, f->token, body);
  CHECK(r != NULL && r->status == 200);
  spotopt_http_response_free(r);
  CHECK(spotopt_incident_list(f->c, f->tenant, f->agent_b, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "signal", "\"rebalance-recommendation\""));
  spotopt_free(json);

  CHECK(spotopt_command_enqueue_create_replica(f->c, f->tenant, f->agent_b, NULL, &json) ==
        SPOTOPT_OK);
  CHECK(JsonHas(json, "command_type", "\"create_replica\"") &&
        JsonHas(json, "state", "\"pending\""));
  spotopt_free(json);
  json = SENTINEL;
  CHECK(spotopt_command_enqueue_create_replica(f->c, f->tenant, f->agent_b, NULL, &json) ==
        SPOTOPT_FAILED_PRECONDITION); /* its replica is reserved */
  CHECK(spotopt_command_enqueue_create_replica(f->c, f->tenant, f->agent_b, "{\"x\": 1}", &json) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(json == SENTINEL);

  /* Deleted: final; its records stay readable, its registration answers 404. */
  CHECK(spotopt_agent_delete(f->c, f->tenant, f->agent_b) == SPOTOPT_OK);
  CHECK(spotopt_agent_delete(f->c, f->tenant, f->agent_b) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_agent_get(f->c, f->tenant, f->agent_b, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "lifecycle", "\"deleted\""));
  spotopt_free(json);
  CHECK(spotopt_agent_set_enabled(f->c, f->tenant, f->agent_b, 0) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_agent_heartbeat(f->c, f->tenant, f->reg_b, "online", NULL, NULL, NULL, &version) ==
        SPOTOPT_NOT_FOUND);
  CHECK(spotopt_command_list(f->c, f->tenant, f->agent_b, &json) == SPOTOPT_OK);
  CHECK(strstr(json, "\"pending\"") == NULL); /* open commands were cancelled */
  spotopt_free(json);
}

/* Another tenant sees none of it, and changes nothing. */
static void TestIsolation(struct Fleet* f) {
  char* other = NULL;
  char* other_token = NULL;
  char* json = SENTINEL;
  char* polled = SENTINEL;
  int64_t version = -1;
  CHECK(spotopt_tenant_create(f->c, "globex", &other, &other_token) == SPOTOPT_OK);
  if (other == NULL) return;
  CHECK(spotopt_agent_get(f->c, other, f->agent_a, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_config_update(f->c, other, f->agent_a, "{\"enabled\": false}", 0, &json) ==
        SPOTOPT_NOT_FOUND);
  CHECK(spotopt_command_list(f->c, other, f->agent_a, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_replica_list(f->c, other, f->agent_a, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_incident_list(f->c, other, f->agent_b, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_switch_list(f->c, other, f->agent_b, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_agent_events(f->c, other, f->agent_a, &json) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_agent_delete(f->c, other, f->agent_a) == SPOTOPT_NOT_FOUND);
  CHECK(spotopt_agent_heartbeat(f->c, other, f->reg_a, "online", NULL, NULL, NULL, &version) ==
        SPOTOPT_NOT_FOUND);
  CHECK(spotopt_command_poll(f->c, other, f->reg_a, &polled) == SPOTOPT_NOT_FOUND);
  CHECK(json == SENTINEL && polled == SENTINEL && version == -1);
  CHECK(spotopt_agent_list(f->c, other, &json) == SPOTOPT_OK);
  CHECK(json != SENTINEL && strcmp(json, "[]") == 0);
  if (json != SENTINEL) spotopt_free(json);
  CHECK(spotopt_config_get(f->c, f->tenant, f->agent_a, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "enabled", "true"));
  spotopt_free(json);
  spotopt_free(other);
  spotopt_free(other_token);
}

/* The protocol handler: status, headers and body, old and new entry points. */
static void TestProtocol(struct Fleet* f) {
  char target[256];
  char* body = NULL;
  char bearer[256];
  int http_status = 0;
  spotopt_http_response* r;

  snprintf(target, sizeof target, "/api/agents/%s/config", f->reg_a);
  r = Send(f->c, "GET", target, f->token, NULL);
  CHECK(r != NULL && r->status == 200 && JsonHas(r->body, "enabled", "true"));
  CHECK(r != NULL && strncmp(ResponseHeader(r, "content-type"), "application/json", 16) == 0);
  spotopt_http_response_free(r);
  r = Send(f->c, "DELETE", target, f->token, NULL);
  CHECK(r != NULL && r->status == 405 && ResponseHeader(r, "Allow") != NULL);
  CHECK(r != NULL && strcmp(ResponseHeader(r, "Allow"), "GET") == 0);
  spotopt_http_response_free(r);
  r = Send(f->c, "GET", target, NULL, NULL);
  CHECK(r != NULL && r->status == 401 && JsonHas(r->body, "error", "\"unauthenticated\""));
  spotopt_http_response_free(r);
  r = Send(f->c, "GET", "/api/no-such-route", f->token, NULL);
  CHECK(r != NULL && r->status == 404);
  spotopt_http_response_free(r);
  r = Send(f->c, "POST", "/api/agents/None/heartbeat", f->token, "{\"status\": \"online\"}");
  CHECK(r != NULL && r->status == 404);
  spotopt_http_response_free(r);

  snprintf(bearer, sizeof bearer, "Bearer %s", f->token);
  CHECK(spotopt_handle_request(f->c, "GET", target, bearer, NULL, 0, &http_status, &body) ==
        SPOTOPT_OK);
  CHECK(http_status == 200 && JsonHas(body, "enabled", "true"));
  spotopt_free(body);
  CHECK(spotopt_handle_request(f->c, "POST", "/api/agents/register", NULL, "{\"x\":", 5,
                               &http_status, &body) == SPOTOPT_OK);
  CHECK(http_status == 400 && JsonHas(body, "error", "\"invalid_argument\""));
  spotopt_free(body);
}

/* Tenant deletion last: every token of it stops working. */
static void TestTenantDelete(struct Fleet* f) {
  char* id = SENTINEL;
  spotopt_http_response* r;
  char target[256];
  CHECK(spotopt_tenant_delete(f->c, f->tenant) == SPOTOPT_OK);
  CHECK(spotopt_tenant_delete(f->c, f->tenant) == SPOTOPT_FAILED_PRECONDITION);
  CHECK(spotopt_tenant_reactivate(f->c, f->tenant) == SPOTOPT_FAILED_PRECONDITION);
  CHECK(spotopt_tenant_authenticate(f->c, f->token, &id) == SPOTOPT_UNAUTHENTICATED);
  CHECK(id == SENTINEL);
  snprintf(target, sizeof target, "/api/agents/%s/config", f->reg_a);
  r = Send(f->c, "GET", target, f->token, NULL);
  CHECK(r != NULL && r->status == 401);
  spotopt_http_response_free(r);
}

/* Catalog prices, the three views of a series, the market with an Advisor feed, and
 * the savings of agent a, which has run 1 h in us-east-1a by now. */
static void TestPricesAndSavings(struct Fleet* f) {
  static const char kPrices[] =
      "[{\"region\": \"us-east-1\", \"instance_type\": \"m5.large\", \"price\": 0.096,"
      "  \"at\": \"2025-11-01T00:00:00Z\"},"
      " {\"region\": \"us-east-1\", \"az\": \"us-east-1a\", \"instance_type\": \"m5.large\","
      "  \"price\": \"0.04\", \"at\": \"2025-11-01T00:00:00Z\"},"
      " {\"region\": \"us-east-1\", \"az\": \"us-east-1a\", \"instance_type\": \"m5.large\","
      "  \"price\": \"0.05\", \"at\": \"2025-11-01T00:20:00Z\"}]";
  static const char kFeed[] =
      "{\"ranges\": [{\"index\": 0, \"label\": \"<5%\", \"max\": 5}],"
      " \"spot_advisor\": {\"us-east-1\": {\"Linux\": {\"m5.large\": {\"s\": 60, \"r\": 0}}}}}";
  int64_t n = -1;
  char* out = NULL;
  char* out2 = (char*)SENTINEL;
  CHECK(spotopt_prices_import(f->c, f->tenant, kPrices, &n) == SPOTOPT_OK);
  CHECK(n == 3);
  CHECK_FAILS(spotopt_prices_import(f->c, f->tenant, "[{\"region\": 1}]", &n),
              SPOTOPT_INVALID_ARGUMENT, "prices[0].region");
  CHECK_FAILS(spotopt_prices_import(f->c, kNoSuchId, kPrices, &n), SPOTOPT_NOT_FOUND, "tenant");
  CHECK(n == 3);

  CHECK(spotopt_price_series(f->c, f->tenant, "us-east-1", "us-east-1a", "m5.large", INT64_MIN,
                             INT64_MAX, "raw", &out) == SPOTOPT_OK);
  CHECK(out != NULL && strstr(out, "\"price_micros\":50000") != NULL);
  spotopt_free(out);
  CHECK(spotopt_price_series(f->c, f->tenant, "us-east-1", "us-east-1a", "m5.large", INT64_MIN,
                             INT64_MAX, "interpolated", &out) == SPOTOPT_OK);
  /* Buckets 00:00 and 00:20 measured; 00:05, 00:10, 00:15 on the straight line. */
  CHECK(out != NULL && strstr(out, "\"price_micros\":42500") != NULL);
  CHECK(out != NULL && strstr(out, "\"interpolated\"") != NULL);
  spotopt_free(out);
  CHECK_FAILS(spotopt_price_series(f->c, f->tenant, "us-east-1", NULL, "m5.large", 0, INT64_MAX,
                                   "smooth", &out2),
              SPOTOPT_INVALID_ARGUMENT, "view");
  CHECK(out2 == (char*)SENTINEL);

  CHECK(spotopt_prices_latest(f->c, f->tenant, &out) == SPOTOPT_OK);
  CHECK(out != NULL && strstr(out, "\"pool_id\":\"m5.large.us-east-1a\"") != NULL);
  spotopt_free(out);

  CHECK(spotopt_advisor_load(f->c, kFeed, strlen(kFeed), &n) == SPOTOPT_OK);
  CHECK(n == 1);
  CHECK_FAILS(spotopt_advisor_load(f->c, "{", 1, NULL), SPOTOPT_INVALID_ARGUMENT, "advisor");
  CHECK(spotopt_market(f->c, f->tenant, "us-east-1", "m5.large", &out) == SPOTOPT_OK);
  CHECK(out != NULL && strstr(out, "\"interruption_frequency\":\"<5%\"") != NULL);
  /* Agent B's rebalance recommendation from this pool counts toward its risk. */
  CHECK(strstr(out, "\"terminations\":0,\"rebalances\":1,\"risk\":") != NULL);
  spotopt_free(out);

  CHECK(spotopt_savings(f->c, f->tenant, f->agent_a, "lifetime", &out) == SPOTOPT_OK);
  CHECK(out != NULL && strstr(out, "\"cost_micros\":") != NULL);
  spotopt_free(out);
  CHECK(spotopt_savings(f->c, f->tenant, NULL, "month", &out) == SPOTOPT_OK);
  CHECK(out != NULL && out[0] == '[');
  spotopt_free(out);
  CHECK_FAILS(spotopt_savings(f->c, f->tenant, NULL, "week", &out2), SPOTOPT_INVALID_ARGUMENT,
              "period");
  CHECK_FAILS(spotopt_savings(f->c, f->tenant, kNoSuchId, "day", &out2), SPOTOPT_NOT_FOUND,
              "agent");
  CHECK(out2 == (char*)SENTINEL);
}

static void TestFleet(const char* store_uri) {
  struct Fleet f;
  char* id = NULL;
  char* token = NULL;
  memset(&f, 0, sizeof f);
  CHECK(spotopt_clock_create_manual(kT0, &f.clock) == SPOTOPT_OK);
  CHECK(spotopt_controller_open_with_clock(store_uri, f.clock, &f.c) == SPOTOPT_OK);
  if (f.c == NULL) {
    spotopt_clock_destroy(f.clock);
    return;
  }
  CHECK(spotopt_tenant_create(f.c, "acme", &id, &token) == SPOTOPT_OK);
  if (id == NULL || token == NULL) {
    spotopt_controller_close(f.c);
    spotopt_clock_destroy(f.clock);
    return;
  }
  snprintf(f.tenant, sizeof f.tenant, "%s", id);
  snprintf(f.token, sizeof f.token, "%s", token);
  CHECK(strncmp(f.token, "sot_", 4) == 0);
  spotopt_free(id);
  spotopt_free(token);

  CHECK(Register(&f, kInstanceA, "checkout", "us-east-1a", f.reg_a, sizeof f.reg_a) == 201);
  CHECK(Register(&f, kInstanceB, "payments", "us-east-1a", f.reg_b, sizeof f.reg_b) == 201);
  LogicalIdOf(&f, "checkout", f.agent_a, sizeof f.agent_a);
  LogicalIdOf(&f, "payments", f.agent_b, sizeof f.agent_b);

  TestTenants(&f);
  TestAgentsAndConfig(&f);
  TestCommands(&f);
  TestReplicas(&f);
  TestSwitchesIncidentsAndDelete(&f);
  TestPricesAndSavings(&f);
  TestIsolation(&f);
  TestProtocol(&f);
  TestTenantDelete(&f);

  spotopt_controller_close(f.c);
  spotopt_clock_destroy(f.clock);
}

/* ---- Decisions and engines ----------------------------------------------------- */

static int host_engine_calls = 0;
static int host_engine_released = 0;

/* A C host engine: moves to us-east-1b, whatever the input (the guards still apply). */
static int MoveToB(void* user_data, const char* input_json, const char** decision_json_out) {
  (void)user_data;
  ++host_engine_calls;
  if (strstr(input_json, "\"version\":1") == NULL) return 1;
  *decision_json_out =
      "{\"action\": \"switch_spot\", \"target_pool_id\": \"m5.large.us-east-1b\","
      " \"reason\": \"cheaper_pool\", \"risk\": 0.1, \"message\": \"from C\"}";
  return 0;
}

static int Fails(void* user_data, const char* input_json, const char** decision_json_out) {
  (void)user_data;
  (void)input_json;
  (void)decision_json_out;
  return 7;
}

static void Released(void* user_data) { host_engine_released += *(int*)user_data; }

static void TestDecisions(void) {
  static int one = 1;
  const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  spotopt_clock* clock = NULL;
  spotopt_controller* c = NULL;
  char* tenant = NULL;
  char* token = NULL;
  char* json = NULL;
  char reg[64] = "";
  char agent[64] = "";
  struct Fleet f;
  spotopt_http_response* r;
  char body[1024];

  CHECK(spotopt_clock_create_manual(kT0, &clock) == SPOTOPT_OK);
  CHECK(spotopt_controller_open_with_clock("memory:", clock, &c) == SPOTOPT_OK);
  CHECK(spotopt_tenant_create(c, "acme", &tenant, &token) == SPOTOPT_OK);
  memset(&f, 0, sizeof f);
  f.c = c;
  f.clock = clock;
  snprintf(f.tenant, sizeof f.tenant, "%s", tenant);
  snprintf(f.token, sizeof f.token, "%s", token);
  CHECK(Register(&f, kInstanceA, "checkout", "us-east-1a", reg, sizeof reg) == 201);
  LogicalIdOf(&f, "checkout", agent, sizeof agent);
  CHECK(spotopt_clock_advance(clock, 24 * 3600 * kSecond) == SPOTOPT_OK);
  snprintf(body, sizeof body,
           "{\"instance\": {\"instance_type\": \"m5.large\"}, \"pricing\": {"
           "\"on_demand_price\": 0.096, \"spot_pools\": ["
           "{\"pool_id\": \"m5.large.us-east-1a\", \"price\": 0.040},"
           "{\"pool_id\": \"m5.large.us-east-1b\", \"price\": 0.020}]}}");
  {
    char target[128];
    snprintf(target, sizeof target, "/api/agents/%s/pricing-report", reg);
    r = Send(c, "POST", target, token, body);
    CHECK(r != NULL && r->status == 200);
    spotopt_http_response_free(r);
  }

  /* The rules decide by default. */
  CHECK(spotopt_decide(c, tenant, agent, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "action", "\"switch_spot\"") && JsonHas(json, "engine", "\"rules\""));
  spotopt_free(json);
  CHECK(spotopt_engines_list(c, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "kind", "\"builtin\""));
  spotopt_free(json);

  /* A C engine: registered, activated, called; its answer is validated and guarded. */
  CHECK_FAILS(spotopt_engine_register(c, "c-host", "1", "ABC", NULL, MoveToB, &one, Released),
              SPOTOPT_INVALID_ARGUMENT, "sha256");
  CHECK_FAILS(spotopt_engine_register(c, "c-host", "1", sha, NULL, NULL, &one, Released),
              SPOTOPT_INVALID_ARGUMENT, "fn");
  CHECK(host_engine_released == 0); /* a refused registration keeps user_data */
  CHECK(spotopt_engine_register(c, "c-host", "1", sha, "from C", MoveToB, &one, Released) ==
        SPOTOPT_OK);
  CHECK(spotopt_engine_activate(c, tenant, "c-host", "1", &json) == SPOTOPT_OK);
  CHECK(strstr(json, "\"active\":{\"name\":\"c-host\"") != NULL);
  spotopt_free(json);
  CHECK(spotopt_decide(c, tenant, agent, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "engine", "\"c-host\"") && JsonHas(json, "message", "\"from C\""));
  CHECK(host_engine_calls >= 1);
  spotopt_free(json);

  /* The fleet run acts on it; the log says so, newest first. */
  CHECK(spotopt_decisions_run(c, kT0 + 24 * 3600 * kSecond, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "acted", "1"));
  spotopt_free(json);
  CHECK(spotopt_decisions_run(c, kT0 + 24 * 3600 * kSecond, NULL) == SPOTOPT_OK);
  CHECK(spotopt_decisions_list(c, tenant, agent, 0, 10, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "acted", "true") && JsonHas(json, "engine_asked", "\"c-host 1\""));
  spotopt_free(json);
  CHECK(spotopt_decisions_list(c, tenant, NULL, 0, 10, &json) == SPOTOPT_OK);
  spotopt_free(json);
  CHECK_FAILS(spotopt_decisions_list(c, tenant, agent, 0, 0, &json), SPOTOPT_INVALID_ARGUMENT,
              "limit");

  /* A failing engine falls back to the previous one; a rollback restores it. */
  CHECK(spotopt_engine_register(c, "fails", "1", sha, NULL, Fails, NULL, NULL) == SPOTOPT_OK);
  CHECK(spotopt_engine_activate(c, tenant, "fails", "1", NULL) == SPOTOPT_OK);
  CHECK(spotopt_decide(c, tenant, agent, &json) == SPOTOPT_OK);
  CHECK(JsonHas(json, "engine", "\"c-host\"") && strstr(json, "returned 7") != NULL);
  spotopt_free(json);
  CHECK(spotopt_engine_rollback(c, tenant, &json) == SPOTOPT_OK);
  spotopt_free(json);
  CHECK(spotopt_tenant_engines(c, tenant, &json) == SPOTOPT_OK);
  CHECK(strstr(json, "\"active\":{\"name\":\"c-host\"") != NULL);
  spotopt_free(json);
  CHECK_FAILS(spotopt_engine_activate(c, tenant, "nope", "1", NULL), SPOTOPT_NOT_FOUND, "engine");
  CHECK_FAILS(spotopt_engine_unregister(c, "rules", "1.0.0"), SPOTOPT_FAILED_PRECONDITION,
              "built-in");
  CHECK_FAILS(spotopt_engine_register_model(c, "{}", "x", 1, NULL), SPOTOPT_INVALID_ARGUMENT,
              "manifest");

  /* Unregistered, the engine is released once nothing uses it. */
  CHECK(spotopt_engine_unregister(c, "c-host", "1") == SPOTOPT_OK);
  CHECK(host_engine_released == 1);
  CHECK_FAILS(spotopt_engine_unregister(c, "c-host", "1"), SPOTOPT_NOT_FOUND, "not registered");

  spotopt_free(tenant);
  spotopt_free(token);
  spotopt_controller_close(c);
  spotopt_clock_destroy(clock);
}

static void TestSqlite(void) {
  char dir[] = "/tmp/spotopt_capi_XXXXXX";
  char path[256];
  char uri[300];
  const char* suffixes[] = {"", "-wal", "-shm"};
  size_t i;

  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/spotopt.db", dir);
  snprintf(uri, sizeof uri, "sqlite:%s", path);
  TestFleet(uri);
  /* The system clock path too, on the same file. */
  {
    spotopt_controller* c = NULL;
    CHECK(spotopt_controller_open(uri, &c) == SPOTOPT_OK);
    CHECK(spotopt_tick(c, (int64_t)time(NULL) * 1000000) == SPOTOPT_OK);
    CHECK(strcmp(spotopt_last_error(), "") == 0);
    spotopt_controller_close(c);
  }

  for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; ++i) {
    char file[300];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    remove(file);
  }
  CHECK(rmdir(dir) == 0);
}

/* PostgreSQL through both of libpq's forms, on a database of its own in the server
 * ctest starts (tests/pg/cluster.sh), named by SPOTOPT_TEST_PG
 * ("host=SOCKET_DIR user=spotopt dbname=postgres"). */
static void TestPostgres(void) {
  const char* server = getenv("SPOTOPT_TEST_PG");
  char socket_dir[256];
  char db[64];
  char sql[1024];
  char uri[1024];

  if (server == NULL || sscanf(server, "host=%255s", socket_dir) != 1) {
    fprintf(stderr, "capi_test: SPOTOPT_TEST_PG is not set: run it through ctest\n");
    ++failures;
    return;
  }
  snprintf(db, sizeof db, "capi_%ld", (long)getpid());
  snprintf(sql, sizeof sql, "psql -q -v ON_ERROR_STOP=1 '%s' -c 'CREATE DATABASE %s'", server, db);
  CHECK(system(sql) == 0);
  /* The keyword form: what follows "postgresql:"; the later dbname wins. */
  snprintf(uri, sizeof uri, "postgresql:%s dbname=%s", server, db);
  TestFleet(uri);
  /* The URI form, on the same database, with the system clock. */
  {
    spotopt_controller* c = NULL;
    snprintf(uri, sizeof uri, "postgresql:///%s?host=%s&user=spotopt", db, socket_dir);
    CHECK(spotopt_controller_open(uri, &c) == SPOTOPT_OK);
    CHECK(spotopt_tick(c, (int64_t)time(NULL) * 1000000) == SPOTOPT_OK);
    spotopt_controller_close(c);
  }
  snprintf(sql, sizeof sql, "psql -q -v ON_ERROR_STOP=1 '%s' -c 'DROP DATABASE %s'", server, db);
  CHECK(system(sql) == 0);
}

int main(void) {
  TestVersion();
  TestReleaseNullIsNoOp();
  TestCloseAtExit();
  TestBadUris();
  TestClocks();
  TestNullArguments();
  TestFleet("memory:");
  TestSqlite();
  TestPostgres();
  TestDecisions();
  if (failures != 0) {
    fprintf(stderr, "capi_test: %d failed checks\n", failures);
    return EXIT_FAILURE;
  }
  printf("capi_test passed\n");
  return EXIT_SUCCESS;
}
