// What the C ABI costs over the C++ Controller, call for call: heartbeat and an empty
// command poll on MemoryStore, through Controller::Heartbeat / PollCommand and
// through spotopt_agent_heartbeat / spotopt_command_poll, with the same fleet, the
// same arguments and the same sequence of agents. Links only the shared library, as
// a host does, so both paths run the same compiled code underneath.
// run_bench.py runs this and the Python binding and prints the ratios.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "spotopt/clock.h"
#include "spotopt/service/controller.h"
#include "spotopt/spotopt.h"
#include "spotopt/store/memory_store.h"

namespace {

constexpr int kAgents = 1000;
constexpr double kMinTimeSeconds = 1.0;

// Agent `index` of the fleet; both paths register the same ones.
struct AgentFacts {
  std::string instance_id;
  std::string logical_id;
  std::string az;
};

AgentFacts FactsOf(int index) {
  return {fmt::format("i-{:017x}", 0x5eed0000 + index), fmt::format("svc-{:06d}", index),
          fmt::format("us-east-1{}", "abc"[index % 3])};
}
constexpr const char* kRegion = "us-east-1";
constexpr const char* kInstanceType = "m5.large";

struct CppFleet {
  std::unique_ptr<spotopt::Controller> controller;
  std::string tenant_id;
  std::vector<std::string> registrations;
  std::vector<spotopt::HeartbeatReport> beats;
};

struct CFleet {
  spotopt_controller* controller = nullptr;
  std::string tenant_id;
  std::vector<std::string> registrations;
  std::vector<AgentFacts> facts;
};

CppFleet& Cpp() {
  static CppFleet* fleet = [] {
    auto* f = new CppFleet;
    f->controller = std::make_unique<spotopt::Controller>(std::make_shared<spotopt::MemoryStore>(),
                                                          std::make_shared<spotopt::SystemClock>());
    f->tenant_id = f->controller->CreateTenant("bench").value().tenant.id;
    for (int i = 0; i < kAgents; ++i) {
      const AgentFacts facts = FactsOf(i);
      spotopt::RegisterRequest request{
          .logical_id = facts.logical_id, .instance_id = facts.instance_id, .region = kRegion};
      request.facts.instance_type = kInstanceType;
      request.facts.az = facts.az;
      request.facts.mode = spotopt::Mode::kSpot;
      f->registrations.push_back(
          f->controller->Register(f->tenant_id, request).value().registration.registration.id);
      f->beats.push_back({.status = spotopt::HeartbeatStatus::kOnline,
                          .instance_id = facts.instance_id,
                          .instance_type = kInstanceType,
                          .az = facts.az});
    }
    return f;
  }();
  return *fleet;
}

// The registration id in a register answer (the first "agent_id" string).
std::string AgentIdOf(const char* body) {
  const std::string text(body);
  const std::string key = "\"agent_id\":\"";
  const size_t start = text.find(key) + key.size();
  return text.substr(start, text.find('"', start) - start);
}

CFleet& C() {
  static CFleet* fleet = [] {
    auto* f = new CFleet;
    char* tenant = nullptr;
    char* token = nullptr;
    if (spotopt_controller_open("memory:", &f->controller) != SPOTOPT_OK ||
        spotopt_tenant_create(f->controller, "bench", &tenant, &token) != SPOTOPT_OK) {
      fmt::print(stderr, "C fleet: {}\n", spotopt_last_error());
      std::abort();
    }
    f->tenant_id = tenant;
    const std::string bearer = fmt::format("Bearer {}", token);
    spotopt_free(tenant);
    spotopt_free(token);
    const spotopt_header auth{"Authorization", bearer.c_str()};
    for (int i = 0; i < kAgents; ++i) {
      AgentFacts facts = FactsOf(i);
      const std::string body =
          fmt::format(R"({{"instance_id": "{}", "logical_agent_id": "{}", "region": "{}",)"
                      R"( "instance_type": "{}", "az": "{}", "mode": "spot"}})",
                      facts.instance_id, facts.logical_id, kRegion, kInstanceType, facts.az);
      spotopt_http_response* r = nullptr;
      if (spotopt_handle_http(f->controller, "POST", "/api/agents/register", &auth, 1, body.data(),
                              body.size(), &r) != SPOTOPT_OK ||
          r->status != 201) {
        fmt::print(stderr, "C fleet: register failed\n");
        std::abort();
      }
      f->registrations.push_back(AgentIdOf(r->body));
      f->facts.push_back(std::move(facts));
      spotopt_http_response_free(r);
    }
    return f;
  }();
  return *fleet;
}

// The same agent sequence on both paths.
std::uniform_int_distribution<int> AnyAgent() {
  return std::uniform_int_distribution<int>(0, kAgents - 1);
}

void BM_Heartbeat_Cpp(benchmark::State& state) {
  CppFleet& f = Cpp();
  std::mt19937_64 rng(42);
  auto pick = AnyAgent();
  for (auto _ : state) {
    const int i = pick(rng);
    absl::StatusOr<spotopt::AgentConfig> config =
        f.controller->Heartbeat(f.tenant_id, f.registrations[i], f.beats[i]);
    if (!config.ok()) {
      state.SkipWithError(config.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(config->version);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Heartbeat_C(benchmark::State& state) {
  CFleet& f = C();
  std::mt19937_64 rng(42);
  auto pick = AnyAgent();
  for (auto _ : state) {
    const int i = pick(rng);
    int64_t version = 0;
    if (spotopt_agent_heartbeat(f.controller, f.tenant_id.c_str(), f.registrations[i].c_str(),
                                "online", f.facts[i].instance_id.c_str(), kInstanceType,
                                f.facts[i].az.c_str(), &version) != SPOTOPT_OK) {
      state.SkipWithError(spotopt_last_error());
      break;
    }
    benchmark::DoNotOptimize(version);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PollEmpty_Cpp(benchmark::State& state) {
  CppFleet& f = Cpp();
  std::mt19937_64 rng(42);
  auto pick = AnyAgent();
  for (auto _ : state) {
    absl::StatusOr<std::optional<spotopt::Command>> polled =
        f.controller->PollCommand(f.tenant_id, f.registrations[pick(rng)]);
    if (!polled.ok() || polled->has_value()) {
      state.SkipWithError(polled.ok() ? "an idle agent got a command"
                                      : polled.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PollEmpty_C(benchmark::State& state) {
  CFleet& f = C();
  std::mt19937_64 rng(42);
  auto pick = AnyAgent();
  for (auto _ : state) {
    char* command = nullptr;
    if (spotopt_command_poll(f.controller, f.tenant_id.c_str(), f.registrations[pick(rng)].c_str(),
                             &command) != SPOTOPT_OK ||
        command != nullptr) {
      state.SkipWithError(command != nullptr ? "an idle agent got a command"
                                             : spotopt_last_error());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Interleaved C++/C so drift in the machine's load hits both alike; rates are per CPU
// second (one thread), so other work on the machine does not count against either.
BENCHMARK(BM_Heartbeat_Cpp)->MinTime(kMinTimeSeconds);
BENCHMARK(BM_Heartbeat_C)->MinTime(kMinTimeSeconds);
BENCHMARK(BM_PollEmpty_Cpp)->MinTime(kMinTimeSeconds);
BENCHMARK(BM_PollEmpty_C)->MinTime(kMinTimeSeconds);

}  // namespace

BENCHMARK_MAIN();
