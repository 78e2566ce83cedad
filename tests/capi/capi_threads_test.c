/* The C ABI from several threads on one controller at once (plain C99 + pthreads):
 * agents beat, poll and read config while an operator enqueues switches for them, a
 * ticker runs the periodic work, a clock thread moves the injected clock, and readers
 * list everything. Every switch must be delivered exactly once and acknowledged, and
 * each thread must see only its own last error. Built under ThreadSanitizer too. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nanosleep, rmdir, strcasecmp */

#include <pthread.h>
#include <spotopt/spotopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capi_check.h"

enum { kAgents = 6, kRounds = 200, kSwitchEvery = 10 };
static const int64_t kT0 = INT64_C(1763892000) * 1000000;

struct Shared {
  spotopt_controller* c;
  spotopt_clock* clock;
  char tenant[64];
  char token[128];
  pthread_mutex_t mu;
  int agents_done; /* guarded by mu */
};

struct AgentThread {
  struct Shared* s;
  int index;
  int failures;
  int delivered;
  int enqueued;
};

struct HelperThread {
  struct Shared* s;
  int failures;
  int runs;
};

static int AgentsDone(struct Shared* s) {
  int done;
  pthread_mutex_lock(&s->mu);
  done = s->agents_done;
  pthread_mutex_unlock(&s->mu);
  return done;
}

/* The logical agent id of `logical` through the agent list. */
static int LogicalId(struct Shared* s, const char* logical, char* out, size_t out_size) {
  char* json = NULL;
  char pattern[128];
  const char* at;
  int found = 0;
  if (spotopt_agent_list(s->c, s->tenant, &json) != SPOTOPT_OK) return 0;
  snprintf(pattern, sizeof pattern, "\"logical_agent_id\":\"%s\"", logical);
  at = strstr(json, pattern);
  while (at != NULL && at > json && strncmp(at, "{\"id\":\"", 7) != 0) --at;
  if (at != NULL) found = JsonString(at, "id", out, out_size);
  spotopt_free(json);
  return found;
}

static void* RunAgent(void* arg) {
  struct AgentThread* t = (struct AgentThread*)arg;
  struct Shared* s = t->s;
  char instance[32];
  char logical[32];
  char body[512];
  char reg[64];
  char agent[64];
  char target[256];
  char command[64];
  int round;
  spotopt_http_response* r;

  snprintf(instance, sizeof instance, "i-0c0c0c0c0c0c0c%03d", t->index);
  snprintf(logical, sizeof logical, "worker-%d", t->index);
  RegisterBody(body, sizeof body, instance, logical, "us-east-1a");
  r = Send(s->c, "POST", "/api/agents/register", s->token, body);
  CHECK_COUNT(t->failures, r != NULL && r->status == 201);
  if (r == NULL) return NULL;
  CHECK_COUNT(t->failures, JsonString(r->body, "agent_id", reg, sizeof reg));
  spotopt_http_response_free(r);
  CHECK_COUNT(t->failures, LogicalId(s, logical, agent, sizeof agent));
  snprintf(target, sizeof target, "/api/agents/%s/config", reg);

  for (round = 0; round < kRounds; ++round) {
    int64_t version = 0;
    char* polled = NULL;
    char* json = NULL;
    CHECK_COUNT(t->failures,
                spotopt_agent_heartbeat(s->c, s->tenant, reg, "online", instance, "m5.large",
                                        "us-east-1a", &version) == SPOTOPT_OK);
    r = Send(s->c, "GET", target, s->token, NULL);
    CHECK_COUNT(t->failures, r != NULL && r->status == 200);
    spotopt_http_response_free(r);

    if (round % kSwitchEvery == 0) {
      /* The operator's side, from this thread: one switch at a time per agent. */
      const char* pool =
          (round / kSwitchEvery) % 2 == 0 ? "m5.large.us-east-1b" : "m5.large.us-east-1c";
      char request[256];
      snprintf(request, sizeof request,
               "{\"target_mode\": \"spot\", \"target_pool_id\": \"%s\", \"override_limits\": true}",
               pool);
      CHECK_COUNT(t->failures, spotopt_command_enqueue_switch(s->c, s->tenant, agent, request,
                                                              &json) == SPOTOPT_OK);
      CHECK_COUNT(t->failures, json != NULL && JsonString(json, "id", command, sizeof command));
      spotopt_free(json);
      ++t->enqueued;
    }
    CHECK_COUNT(t->failures, spotopt_command_poll(s->c, s->tenant, reg, &polled) == SPOTOPT_OK);
    if (polled != NULL) {
      CHECK_COUNT(t->failures, strstr(polled, command) != NULL);
      ++t->delivered;
      spotopt_free(polled);
      CHECK_COUNT(t->failures, spotopt_command_ack(s->c, s->tenant, reg, command, 1, "done",
                                                   &json) == SPOTOPT_OK);
      CHECK_COUNT(t->failures, JsonHas(json, "state", "\"succeeded\""));
      spotopt_free(json);
    }

    /* The last error is the calling thread's own. */
    json = SENTINEL;
    CHECK_COUNT(t->failures, spotopt_command_get(s->c, s->tenant, reg, &json) == SPOTOPT_NOT_FOUND);
    CHECK_COUNT(t->failures, strstr(spotopt_last_error(), "command") != NULL);
    CHECK_COUNT(t->failures, json == SENTINEL);
    CHECK_COUNT(t->failures, spotopt_config_get(s->c, s->tenant, agent, &json) == SPOTOPT_OK);
    CHECK_COUNT(t->failures, strcmp(spotopt_last_error(), "") == 0);
    spotopt_free(json);
  }
  pthread_mutex_lock(&s->mu);
  ++s->agents_done;
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Ticks at the injected clock's time until the agents are done. */
static void* RunTicker(void* arg) {
  struct HelperThread* h = (struct HelperThread*)arg;
  while (AgentsDone(h->s) < kAgents) {
    int64_t now = 0;
    CHECK_COUNT(h->failures, spotopt_clock_now(h->s->clock, &now) == SPOTOPT_OK);
    CHECK_COUNT(h->failures, spotopt_tick(h->s->c, now) == SPOTOPT_OK);
    ++h->runs;
  }
  return NULL;
}

/* Moves the clock at about real-time pace while everyone reads it. */
static void* RunClock(void* arg) {
  struct HelperThread* h = (struct HelperThread*)arg;
  const struct timespec pause = {0, 100 * 1000};
  while (AgentsDone(h->s) < kAgents) {
    CHECK_COUNT(h->failures, spotopt_clock_advance(h->s->clock, 100) == SPOTOPT_OK);
    ++h->runs;
    nanosleep(&pause, NULL);
  }
  return NULL;
}

/* Operator reads and tenant churn next to the agents. */
static void* RunReader(void* arg) {
  struct HelperThread* h = (struct HelperThread*)arg;
  while (AgentsDone(h->s) < kAgents) {
    char* json = NULL;
    char* id = NULL;
    char* token = NULL;
    CHECK_COUNT(h->failures, spotopt_agent_list(h->s->c, h->s->tenant, &json) == SPOTOPT_OK);
    spotopt_free(json);
    CHECK_COUNT(h->failures, spotopt_tenant_list(h->s->c, &json) == SPOTOPT_OK);
    spotopt_free(json);
    CHECK_COUNT(h->failures, spotopt_tenant_create(h->s->c, "churn", &id, &token) == SPOTOPT_OK);
    CHECK_COUNT(h->failures, spotopt_tenant_authenticate(h->s->c, token, &json) == SPOTOPT_OK);
    spotopt_free(json);
    CHECK_COUNT(h->failures, spotopt_tenant_delete(h->s->c, id) == SPOTOPT_OK);
    spotopt_free(id);
    spotopt_free(token);
    ++h->runs;
  }
  return NULL;
}

static void RunFleet(const char* store_uri) {
  struct Shared s;
  struct AgentThread agents[kAgents];
  struct HelperThread helpers[3];
  void* (*helper_fns[3])(void*) = {RunTicker, RunClock, RunReader};
  pthread_t agent_threads[kAgents];
  pthread_t helper_threads[3];
  char* id = NULL;
  char* token = NULL;
  int i;

  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  CHECK(spotopt_clock_create_manual(kT0, &s.clock) == SPOTOPT_OK);
  CHECK(spotopt_controller_open_with_clock(store_uri, s.clock, &s.c) == SPOTOPT_OK);
  CHECK(spotopt_tenant_create(s.c, "acme", &id, &token) == SPOTOPT_OK);
  if (s.c == NULL || id == NULL) return;
  snprintf(s.tenant, sizeof s.tenant, "%s", id);
  snprintf(s.token, sizeof s.token, "%s", token);
  spotopt_free(id);
  spotopt_free(token);

  for (i = 0; i < 3; ++i) {
    memset(&helpers[i], 0, sizeof helpers[i]);
    helpers[i].s = &s;
    CHECK(pthread_create(&helper_threads[i], NULL, helper_fns[i], &helpers[i]) == 0);
  }
  for (i = 0; i < kAgents; ++i) {
    memset(&agents[i], 0, sizeof agents[i]);
    agents[i].s = &s;
    agents[i].index = i;
    CHECK(pthread_create(&agent_threads[i], NULL, RunAgent, &agents[i]) == 0);
  }
  for (i = 0; i < kAgents; ++i) {
    CHECK(pthread_join(agent_threads[i], NULL) == 0);
    failures += agents[i].failures;
    /* Each switch was delivered once: enqueued, polled, acknowledged. */
    CHECK(agents[i].enqueued == kRounds / kSwitchEvery);
    CHECK(agents[i].delivered == agents[i].enqueued);
  }
  for (i = 0; i < 3; ++i) {
    CHECK(pthread_join(helper_threads[i], NULL) == 0);
    failures += helpers[i].failures;
    CHECK(helpers[i].runs > 0);
  }
  spotopt_controller_close(s.c);
  spotopt_clock_destroy(s.clock);
  pthread_mutex_destroy(&s.mu);
}

int main(void) {
  char dir[] = "/tmp/spotopt_capi_threads_XXXXXX";
  char path[256];
  char uri[300];
  const char* suffixes[] = {"", "-wal", "-shm"};
  size_t i;

  RunFleet("memory:");
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/spotopt.db", dir);
  snprintf(uri, sizeof uri, "sqlite:%s", path);
  RunFleet(uri);
  for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; ++i) {
    char file[300];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    remove(file);
  }
  CHECK(rmdir(dir) == 0);

  if (failures != 0) {
    fprintf(stderr, "capi_threads_test: %d failed checks\n", failures);
    return EXIT_FAILURE;
  }
  printf("capi_threads_test passed\n");
  return EXIT_SUCCESS;
}
