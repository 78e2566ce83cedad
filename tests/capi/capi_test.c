/* The C ABI from plain C99, linked against the shared library the way a C host
 * would use it: open a store, create a tenant, then serve an agent through
 * spotopt_handle_request. Exits non-zero if any check fails. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir */

#include <spotopt/spotopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond)                                                                           \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond, \
              spotopt_last_error());                                                          \
      ++failures;                                                                             \
    }                                                                                         \
  } while (0)

/* A pointer no library call may write, to prove outputs stay untouched. */
static char sentinel_storage;
#define SENTINEL (&sentinel_storage)

static const char kRegisterBody[] =
    "{\"hostname\": \"ip-10-0-3-17\", \"instance_id\": \"i-0abc1234def567890\","
    " \"instance_type\": \"m5.large\", \"region\": \"us-east-1\", \"az\": \"us-east-1a\","
    " \"ami_id\": \"ami-0c55b159cbfafe1f0\", \"agent_version\": \"4.0.0\","
    " \"logical_agent_id\": \"api\", \"mode\": \"spot\", \"private_ip\": \"10.0.3.17\","
    " \"public_ip\": null}";

/* The string value of "key" in a compact JSON object, copied into out. */
static int JsonString(const char* json, const char* key, char* out, size_t out_size) {
  char pattern[64];
  const char* start;
  const char* end;
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  start = strstr(json, pattern);
  if (start == NULL) return 0;
  start += strlen(pattern);
  end = strchr(start, '"');
  if (end == NULL || (size_t)(end - start) >= out_size) return 0;
  memcpy(out, start, (size_t)(end - start));
  out[end - start] = '\0';
  return 1;
}

/* Sends one request; returns the HTTP status and leaves the body in *body_out. */
static int Call(spotopt_controller* c, const char* method, const char* target,
                const char* authorization, const char* body, char** body_out) {
  int http_status = -1;
  spotopt_status s =
      spotopt_handle_request(c, method, target, authorization, body,
                             body == NULL ? 0 : strlen(body), &http_status, body_out);
  CHECK(s == SPOTOPT_OK);
  CHECK(*body_out != NULL);
  return http_status;
}

static void TestVersion(void) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", SPOTOPT_VERSION_MAJOR, SPOTOPT_VERSION_MINOR,
           SPOTOPT_VERSION_PATCH);
  CHECK(strcmp(spotopt_version(), expected) == 0);
}

static void TestBadUris(void) {
  const char* bad[] = {"", "memory", "sqlite:", "postgres://localhost/spot", "MEMORY:"};
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    spotopt_controller* c = (spotopt_controller*)SENTINEL;
    CHECK(spotopt_controller_open(bad[i], &c) == SPOTOPT_INVALID_ARGUMENT);
    CHECK(c == (spotopt_controller*)SENTINEL);
    CHECK(strlen(spotopt_last_error()) > 0);
  }
}

static void TestNullArguments(void) {
  spotopt_controller* c = NULL;
  char* id = SENTINEL;
  char* token = SENTINEL;
  char* body = SENTINEL;
  int http_status = -1;

  CHECK(spotopt_controller_open(NULL, &c) == SPOTOPT_INVALID_ARGUMENT);
  CHECK(strstr(spotopt_last_error(), "store_uri") != NULL);
  CHECK(spotopt_controller_open("memory:", NULL) == SPOTOPT_INVALID_ARGUMENT);
  CHECK(c == NULL);

  CHECK(spotopt_controller_open("memory:", &c) == SPOTOPT_OK);
  CHECK(c != NULL);
  CHECK(strcmp(spotopt_last_error(), "") == 0);

  CHECK(spotopt_tenant_create(NULL, "acme", &id, &token) == SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_tenant_create(c, NULL, &id, &token) == SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_tenant_create(c, "acme", NULL, &token) == SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_tenant_create(c, "acme", &id, NULL) == SPOTOPT_INVALID_ARGUMENT);
  CHECK(strstr(spotopt_last_error(), "token_out") != NULL);
  CHECK(id == SENTINEL && token == SENTINEL);

  CHECK(spotopt_tick(NULL, 0) == SPOTOPT_INVALID_ARGUMENT);

  CHECK(spotopt_handle_request(NULL, "GET", "/", NULL, NULL, 0, &http_status, &body) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_handle_request(c, NULL, "/", NULL, NULL, 0, &http_status, &body) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_handle_request(c, "GET", NULL, NULL, NULL, 0, &http_status, &body) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_handle_request(c, "POST", "/", NULL, NULL, 5, &http_status, &body) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_handle_request(c, "GET", "/", NULL, NULL, 0, NULL, &body) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(spotopt_handle_request(c, "GET", "/", NULL, NULL, 0, &http_status, NULL) ==
        SPOTOPT_INVALID_ARGUMENT);
  CHECK(http_status == -1 && body == SENTINEL);

  spotopt_controller_close(c);
}

/* A tenant and one agent's life on the wire: register, heartbeat, config, then the
 * protocol's own errors, which are responses rather than failed calls. */
static void TestAgentFlow(const char* store_uri) {
  spotopt_controller* c = NULL;
  char* tenant_id = NULL;
  char* token = NULL;
  char* body = NULL;
  char bearer[128];
  char agent_id[128];
  char target[256];

  CHECK(spotopt_controller_open(store_uri, &c) == SPOTOPT_OK);
  if (c == NULL) return;

  CHECK(spotopt_tenant_create(c, "acme", &tenant_id, &token) == SPOTOPT_OK);
  if (tenant_id == NULL || token == NULL) {
    spotopt_controller_close(c);
    return;
  }
  CHECK(strlen(tenant_id) > 0);
  CHECK(strncmp(token, "sot_", 4) == 0);
  snprintf(bearer, sizeof bearer, "Bearer %s", token);

  CHECK(Call(c, "POST", "/api/agents/register", bearer, kRegisterBody, &body) == 201);
  CHECK(JsonString(body, "agent_id", agent_id, sizeof agent_id));
  CHECK(strstr(body, "\"config\"") != NULL);
  spotopt_free(body);

  snprintf(target, sizeof target, "/api/agents/%s/heartbeat", agent_id);
  CHECK(Call(c, "POST", target, bearer, "{\"status\": \"online\"}", &body) == 200);
  spotopt_free(body);

  snprintf(target, sizeof target, "/api/agents/%s/config", agent_id);
  CHECK(Call(c, "GET", target, bearer, NULL, &body) == 200);
  CHECK(strstr(body, "\"enabled\":true") != NULL);
  spotopt_free(body);

  CHECK(Call(c, "GET", "/api/no-such-route", bearer, NULL, &body) == 404);
  CHECK(strstr(body, "\"error\"") != NULL);
  spotopt_free(body);

  snprintf(target, sizeof target, "/api/agents/%s/heartbeat", agent_id);
  CHECK(Call(c, "POST", target, "Bearer sot_wrongwrongwrongwrongwrongwron",
             "{\"status\": \"online\"}", &body) == 401);
  spotopt_free(body);
  CHECK(Call(c, "POST", target, NULL, "{\"status\": \"online\"}", &body) == 401);
  spotopt_free(body);

  CHECK(spotopt_tick(c, (int64_t)time(NULL) * 1000000) == SPOTOPT_OK);
  CHECK(strcmp(spotopt_last_error(), "") == 0);

  spotopt_free(tenant_id);
  spotopt_free(token);
  spotopt_controller_close(c);
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
  TestAgentFlow(uri);

  for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; ++i) {
    char file[300];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    remove(file);
  }
  CHECK(rmdir(dir) == 0);
}

int main(void) {
  TestVersion();
  TestBadUris();
  TestNullArguments();
  TestAgentFlow("memory:");
  TestSqlite();
  spotopt_controller_close(NULL);
  spotopt_free(NULL);
  if (failures != 0) {
    fprintf(stderr, "capi_test: %d failed checks\n", failures);
    return EXIT_FAILURE;
  }
  printf("capi_test passed\n");
  return EXIT_SUCCESS;
}
