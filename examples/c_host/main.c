/* c_host: a C99 program that hosts libspotopt the way an HTTP server in any language
 * would. It opens a controller, creates a tenant, then answers a scripted sequence of
 * deployed-agent requests through spotopt_handle_http and prints each answer, with
 * one operator action (a switch) in the middle.
 *
 * Usage: c_host [STORE_URI]   (default "memory:"; e.g. "sqlite:/tmp/spotopt.db")
 * Exits non-zero if any answer is not the one the agent protocol promises. */
#include <spotopt/spotopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int answered = 0;

/* Stops the program with the library's message. */
static void Die(const char* what) {
  fprintf(stderr, "c_host: %s failed: %s\n", what, spotopt_last_error());
  exit(EXIT_FAILURE);
}

/* The string value of "key" in compact JSON, copied into out (empty if absent). */
static void JsonString(const char* json, const char* key, char* out, size_t out_size) {
  char pattern[64];
  const char* start;
  const char* end;
  out[0] = '\0';
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  start = strstr(json, pattern);
  if (start == NULL) return;
  start += strlen(pattern);
  end = strchr(start, '"');
  if (end == NULL || (size_t)(end - start) >= out_size) return;
  memcpy(out, start, (size_t)(end - start));
  out[end - start] = '\0';
}

/* Sends one agent request the way an HTTP server would pass it on, prints the
 * exchange, and checks the status and that the body contains `expect`. The response
 * body is copied into body_out (may be NULL). */
static void Agent(spotopt_controller* c, const char* bearer, const char* method, const char* target,
                  const char* body, int expect_status, const char* expect, char* body_out,
                  size_t body_out_size) {
  spotopt_header headers[3];
  spotopt_http_response* response = NULL;
  size_t i;
  headers[0].name = "Authorization";
  headers[0].value = bearer;
  headers[1].name = "Content-Type";
  headers[1].value = "application/json";
  headers[2].name = "User-Agent";
  headers[2].value = "python-requests/2.31.0";
  if (spotopt_handle_http(c, method, target, headers, 3, body, body == NULL ? 0 : strlen(body),
                          &response) != SPOTOPT_OK) {
    Die("spotopt_handle_http");
  }
  printf("-> %s %s\n<- %d", method, target, response->status);
  for (i = 0; i < response->header_count; ++i) {
    printf(" [%s: %s]", response->headers[i].name, response->headers[i].value);
  }
  printf(" %s\n", response->body);
  if (response->status != expect_status || strstr(response->body, expect) == NULL) {
    fprintf(stderr, "c_host: expected %d with %s\n", expect_status, expect);
    exit(EXIT_FAILURE);
  }
  if (body_out != NULL) snprintf(body_out, body_out_size, "%s", response->body);
  spotopt_http_response_free(response);
  ++answered;
}

int main(int argc, char** argv) {
  const char* store_uri = argc > 1 ? argv[1] : "memory:";
  spotopt_controller* c = NULL;
  char* tenant_id = NULL;
  char* token = NULL;
  char* agents = NULL;
  char* command = NULL;
  char bearer[128];
  char answer[4096];
  char registration[64];
  char agent[64];
  char command_id[64];
  char target[256];
  const char* logical;

  printf("libspotopt %s (header %d.%d.%d), store %s\n", spotopt_version(), SPOTOPT_VERSION_MAJOR,
         SPOTOPT_VERSION_MINOR, SPOTOPT_VERSION_PATCH, store_uri);
  if (spotopt_controller_open(store_uri, &c) != SPOTOPT_OK) Die("spotopt_controller_open");
  if (spotopt_tenant_create(c, "acme", &tenant_id, &token) != SPOTOPT_OK) {
    Die("spotopt_tenant_create");
  }
  printf("tenant %s created; its token goes to the agents' environment\n", tenant_id);
  snprintf(bearer, sizeof bearer, "Bearer %s", token);

  /* The agent starts: it registers, then its workers beat, read the config and poll. */
  Agent(c, bearer, "POST", "/api/agents/register",
        "{\"instance_id\": \"i-0123456789abcdef0\", \"region\": \"us-east-1\","
        " \"logical_agent_id\": \"checkout-api\", \"instance_type\": \"m5.large\","
        " \"az\": \"us-east-1a\", \"mode\": \"spot\", \"hostname\": \"ip-10-0-3-17\","
        " \"agent_version\": \"4.0.0\", \"public_ip\": null}",
        201, "\"agent_id\"", answer, sizeof answer);
  JsonString(answer, "agent_id", registration, sizeof registration);

  snprintf(target, sizeof target, "/api/agents/%s/heartbeat", registration);
  Agent(c, bearer, "POST", target,
        "{\"status\": \"online\", \"instance_id\": \"i-0123456789abcdef0\"}", 200,
        "\"success\":true", NULL, 0);
  snprintf(target, sizeof target, "/api/agents/%s/config", registration);
  Agent(c, bearer, "GET", target, NULL, 200, "\"enabled\":true", NULL, 0);
  snprintf(target, sizeof target, "/api/agents/%s/pending-commands", registration);
  Agent(c, bearer, "GET", target, NULL, 200, "[]", NULL, 0);

  /* The operator moves the workload to another AZ, through the C ABI directly. */
  if (spotopt_agent_list(c, tenant_id, &agents) != SPOTOPT_OK) Die("spotopt_agent_list");
  logical = strstr(agents, "{\"id\":\"");
  if (logical == NULL) Die("finding the logical agent");
  JsonString(logical, "id", agent, sizeof agent);
  if (spotopt_command_enqueue_switch(c, tenant_id, agent,
                                     "{\"target_mode\": \"spot\","
                                     " \"target_pool_id\": \"m5.large.us-east-1c\","
                                     " \"reason\": \"cheaper pool\", \"override_limits\": true,"
                                     " \"requested_by\": \"c_host\"}",
                                     &command) != SPOTOPT_OK) {
    Die("spotopt_command_enqueue_switch");
  }
  JsonString(command, "id", command_id, sizeof command_id);
  printf("operator: switch %s enqueued for agent %s\n", command_id, agent);

  /* The next poll delivers it, once; the agent switches and acknowledges. */
  snprintf(target, sizeof target, "/api/agents/%s/pending-commands", registration);
  Agent(c, bearer, "GET", target, NULL, 200, command_id, NULL, 0);
  Agent(c, bearer, "GET", target, NULL, 200, "[]", NULL, 0);
  snprintf(target, sizeof target, "/api/agents/%s/commands/%s/executed", registration, command_id);
  Agent(c, bearer, "POST", target, "{\"success\": true, \"message\": \"Switch completed\"}", 200,
        "\"state\":\"succeeded\"", NULL, 0);

  /* Prices: one on-demand and three spot pools, four observations. */
  snprintf(target, sizeof target, "/api/agents/%s/pricing-report", registration);
  Agent(c, bearer, "POST", target,
        "{\"instance\": {\"instance_id\": \"i-0123456789abcdef0\", \"instance_type\": \"m5.large\","
        " \"region\": \"us-east-1\", \"az\": \"us-east-1a\", \"mode\": \"spot\"},"
        " \"pricing\": {\"on_demand_price\": 0.096, \"current_spot_price\": 0.0389,"
        " \"spot_pools\": ["
        "{\"pool_id\": \"m5.large.us-east-1a\", \"instance_type\": \"m5.large\","
        " \"az\": \"us-east-1a\", \"price\": 0.0389},"
        "{\"pool_id\": \"m5.large.us-east-1b\", \"instance_type\": \"m5.large\","
        " \"az\": \"us-east-1b\", \"price\": 0.0411},"
        "{\"pool_id\": \"m5.large.us-east-1c\", \"instance_type\": \"m5.large\","
        " \"az\": \"us-east-1c\", \"price\": 0.0342}]}}",
        200, "\"accepted_observations\":4", NULL, 0);

  /* What the agent never does right: a wrong method is 405 with an Allow header. */
  snprintf(target, sizeof target, "/api/agents/%s/config", registration);
  Agent(c, bearer, "DELETE", target, NULL, 405, "method_not_allowed", NULL, 0);

  printf("c_host: %d answers as expected\n", answered);
  spotopt_free(command);
  spotopt_free(agents);
  spotopt_free(tenant_id);
  spotopt_free(token);
  spotopt_controller_close(c);
  return EXIT_SUCCESS;
}
