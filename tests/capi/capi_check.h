/* Helpers shared by the C ABI test programs: checks that count failures, a minimal
 * reader for the library's compact JSON, and agent protocol calls. Plain C99 plus
 * POSIX, so the programs also compile against the installed header alone. */
#ifndef SPOTOPT_TESTS_CAPI_CAPI_CHECK_H_
#define SPOTOPT_TESTS_CAPI_CAPI_CHECK_H_

#include <spotopt/spotopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Checks in the main thread count here; threads keep their own counts. */
static int failures = 0;

#define CHECK_COUNT(counter, cond)                                                            \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond, \
              spotopt_last_error());                                                          \
      ++(counter);                                                                            \
    }                                                                                         \
  } while (0)

#define CHECK(cond) CHECK_COUNT(failures, cond)

/* A call that must fail with `status` and leave a message naming `word`. */
#define CHECK_FAILS(call, status, word)                  \
  do {                                                   \
    CHECK((call) == (status));                           \
    CHECK(strstr(spotopt_last_error(), (word)) != NULL); \
  } while (0)

/* A pointer no library call may write, to prove outputs stay untouched. */
static char sentinel_storage;
#define SENTINEL (&sentinel_storage)

/* The string value of the first "key" in compact JSON, copied into out. */
static inline int JsonString(const char* json, const char* key, char* out, size_t out_size) {
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

/* Whether compact JSON holds `"key":value` with value spelt exactly (e.g. "\"pending\""
 * or "75"). */
static inline int JsonHas(const char* json, const char* key, const char* value) {
  char pattern[256];
  snprintf(pattern, sizeof pattern, "\"%s\":%s", key, value);
  return json != NULL && strstr(json, pattern) != NULL;
}

/* The register body of an agent v4 on `instance` in us-east-1 `az`. */
static inline void RegisterBody(char* out, size_t out_size, const char* instance,
                                const char* logical, const char* az) {
  snprintf(out, out_size,
           "{\"instance_id\": \"%s\", \"region\": \"us-east-1\", \"logical_agent_id\": \"%s\","
           " \"instance_type\": \"m5.large\", \"az\": \"%s\", \"mode\": \"spot\","
           " \"hostname\": \"ip-10-0-0-1\", \"agent_version\": \"4.0.0\", \"public_ip\": null}",
           instance, logical, az);
}

/* One agent protocol request through spotopt_handle_http with the token as a Bearer
 * header (none when token is NULL). Returns the response, or NULL if the call failed. */
static inline spotopt_http_response* Send(spotopt_controller* c, const char* method,
                                          const char* target, const char* token, const char* body) {
  char bearer[256];
  spotopt_header headers[3];
  size_t n = 0;
  spotopt_http_response* response = NULL;
  headers[n].name = "Content-Type";
  headers[n++].value = "application/json";
  headers[n].name = "User-Agent";
  headers[n++].value = "python-requests/2.31.0";
  if (token != NULL) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    headers[n].name = "Authorization";
    headers[n++].value = bearer;
  }
  if (spotopt_handle_http(c, method, target, headers, n, body, body == NULL ? 0 : strlen(body),
                          &response) != SPOTOPT_OK) {
    return NULL;
  }
  return response;
}

/* The value of a response header (case-insensitive name), or NULL. */
static inline const char* ResponseHeader(const spotopt_http_response* r, const char* name) {
  size_t i;
  for (i = 0; i < r->header_count; ++i) {
    if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
  }
  return NULL;
}

#endif /* SPOTOPT_TESTS_CAPI_CAPI_CHECK_H_ */
