// Throughput of the Controller's agent-facing calls on MemoryStore and SqliteStore,
// for fleets of 1k, 10k and 100k agents, on one and two threads.
//
// Each fleet is registered once through Controller::Register and reused by every
// benchmark of that fleet (benchmarks run grouped by fleet). Per fleet:
// - "busy" agents (the first tenth, at most 1000) each hold a LEASED switch and a
//   PENDING create_replica: their poll reads a non-empty queue and must return nothing,
//   because a delivered command is never delivered again and only one is leased at a
//   time;
// - every other agent is "idle": no open command. The random-agent benchmarks use
//   idle agents; Cycle enqueues, polls and acks a switch on idle agents, each thread
//   on its own agents, so the queue is empty again after each cycle.
// items_per_second counts calls (Cycle: whole enqueue -> poll -> ack cycles).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "absl/synchronization/mutex.h"
#include "fleet.h"

namespace spotopt::bench {
namespace {

constexpr int kFleetSizes[] = {1'000, 10'000, 100'000};
constexpr double kMinTimeSeconds = 0.2;

struct BenchFleet {
  std::unique_ptr<Fleet> fleet;
  int busy = 0;  // agents [0, busy) are busy, the rest idle
  // Per agent: whether its next Cycle switch uses the alternate target. Each thread
  // of a run touches only its own agents (bytes, not vector<bool> bits, so that
  // neighbours do not share a word).
  std::vector<uint8_t> alternate;
};

absl::Status Annotate(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(), fmt::format("{}: {}", what, std::string(status.message())));
}

SwitchRequest OperatorSwitch(std::string target_pool_id) {
  SwitchRequest request;
  request.target_mode = Mode::kSpot;
  request.target_pool_id = std::move(target_pool_id);
  request.priority = Priority::kManual;
  request.reason = "bench";
  request.requested_by = "bench";
  // Operator switches skip the per-day caps only through the recorded override.
  request.override_limits = true;
  return request;
}

absl::Status MakeBusy(Fleet& fleet, int index) {
  Controller& c = *fleet.controller;
  absl::StatusOr<Command> sw = c.EnqueueSwitch(fleet.tenant_id, fleet.agent_ids[index],
                                               OperatorSwitch(FleetSwitchTarget(index, false)));
  if (!sw.ok()) return Annotate(sw.status(), "enqueue switch");
  absl::StatusOr<std::optional<Command>> leased =
      c.PollCommand(fleet.tenant_id, fleet.registration_ids[index]);
  if (!leased.ok()) return Annotate(leased.status(), "poll");
  if (!leased->has_value()) return absl::InternalError("poll did not deliver the switch");
  absl::StatusOr<Command> replica =
      c.EnqueueCreateReplica(fleet.tenant_id, fleet.agent_ids[index], ReplicaRequest{});
  if (!replica.ok()) return Annotate(replica.status(), "enqueue create_replica");
  return absl::OkStatus();
}

// One fleet at a time, reused by every benchmark of its (store, size).
struct FleetCache {
  absl::Mutex mu;
  std::optional<std::pair<StoreKind, int>> key ABSL_GUARDED_BY(mu);
  std::unique_ptr<BenchFleet> fleet ABSL_GUARDED_BY(mu);
};

FleetCache& Cache() {
  static FleetCache* cache = new FleetCache;
  return *cache;
}

// Drops the cached fleet: its SQLite file is removed with it.
void DropFleet() {
  FleetCache& cache = Cache();
  absl::MutexLock lock(&cache.mu);
  cache.fleet.reset();
  cache.key.reset();
}

// The fleet for (kind, agents); the previous one is dropped so only one is in memory.
absl::StatusOr<BenchFleet*> GetFleet(StoreKind kind, int agents) {
  FleetCache& cache = Cache();
  absl::MutexLock lock(&cache.mu);
  if (cache.key == std::make_pair(kind, agents)) return cache.fleet.get();
  cache.fleet.reset();
  cache.key.reset();
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = BuildFleet(kind, agents, /*threads=*/2);
  if (!fleet.ok()) return fleet.status();
  auto bench = std::make_unique<BenchFleet>();
  bench->fleet = std::move(*fleet);
  bench->busy = std::min(1000, agents / 10);
  bench->alternate.assign(agents, 0);
  const absl::Time start = absl::Now();
  for (int i = 0; i < bench->busy; ++i) {
    if (absl::Status s = MakeBusy(*bench->fleet, i); !s.ok()) {
      return Annotate(s, fmt::format("busy agent {}", i));
    }
  }
  fmt::print(stderr, "fleet {}/{}: registered in {:.1f} s, {} busy agents in {:.1f} s\n",
             ToString(kind), agents, absl::ToDoubleSeconds(bench->fleet->build_time), bench->busy,
             absl::ToDoubleSeconds(absl::Now() - start));
  cache.key = std::make_pair(kind, agents);
  cache.fleet = std::move(bench);
  return cache.fleet.get();
}

// Uniformly random idle agents, a separate stream per thread.
class IdlePicker {
 public:
  IdlePicker(const BenchFleet& fleet, int thread_index)
      : rng_(0x5eed + thread_index),
        dist_(fleet.busy, static_cast<int>(fleet.fleet->agent_ids.size()) - 1) {}
  int Next() { return dist_(rng_); }

 private:
  std::mt19937_64 rng_;
  std::uniform_int_distribution<int> dist_;
};

// Runs `op(index)` on random idle agents; `op` returns OK or the reason to stop.
template <class Op>
void RunOnIdleAgents(benchmark::State& state, StoreKind kind, int agents, Op op) {
  absl::StatusOr<BenchFleet*> fleet = GetFleet(kind, agents);
  if (!fleet.ok()) {
    state.SkipWithError(fleet.status().ToString().c_str());
    return;
  }
  IdlePicker picker(**fleet, state.thread_index());
  for (auto _ : state) {
    if (absl::Status s = op(*(*fleet)->fleet, picker.Next()); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Heartbeat(benchmark::State& state, StoreKind kind, int agents) {
  RunOnIdleAgents(state, kind, agents, [](Fleet& f, int i) {
    return f.controller->Heartbeat(f.tenant_id, f.registration_ids[i], f.heartbeats[i]).status();
  });
}

void BM_PollEmpty(benchmark::State& state, StoreKind kind, int agents) {
  RunOnIdleAgents(state, kind, agents, [](Fleet& f, int i) -> absl::Status {
    absl::StatusOr<std::optional<Command>> polled =
        f.controller->PollCommand(f.tenant_id, f.registration_ids[i]);
    if (!polled.ok()) return polled.status();
    if (polled->has_value()) return absl::InternalError("idle agent received a command");
    return absl::OkStatus();
  });
}

void BM_PollBusy(benchmark::State& state, StoreKind kind, int agents) {
  absl::StatusOr<BenchFleet*> fleet = GetFleet(kind, agents);
  if (!fleet.ok()) {
    state.SkipWithError(fleet.status().ToString().c_str());
    return;
  }
  Fleet& f = *(*fleet)->fleet;
  std::mt19937_64 rng(0xb05e + state.thread_index());
  std::uniform_int_distribution<int> dist(0, (*fleet)->busy - 1);
  for (auto _ : state) {
    const int i = dist(rng);
    absl::StatusOr<std::optional<Command>> polled =
        f.controller->PollCommand(f.tenant_id, f.registration_ids[i]);
    if (!polled.ok() || polled->has_value()) {
      state.SkipWithError(polled.ok() ? "busy agent received a second command"
                                      : polled.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_GetConfig(benchmark::State& state, StoreKind kind, int agents) {
  RunOnIdleAgents(state, kind, agents, [](Fleet& f, int i) {
    return f.controller->GetConfigForRegistration(f.tenant_id, f.registration_ids[i]).status();
  });
}

void BM_ListReplicas(benchmark::State& state, StoreKind kind, int agents) {
  RunOnIdleAgents(state, kind, agents, [](Fleet& f, int i) {
    return f.controller->ListReplicas(f.tenant_id, f.agent_ids[i]).status();
  });
}

// The agent's replica poll (GET replicas?status=launching): a lease attempt that
// finds nothing to launch.
void BM_ReplicaPoll(benchmark::State& state, StoreKind kind, int agents) {
  RunOnIdleAgents(state, kind, agents, [](Fleet& f, int i) -> absl::Status {
    absl::StatusOr<std::vector<Replica>> leased =
        f.controller->LeaseReplicaLaunches(f.tenant_id, f.registration_ids[i]);
    if (!leased.ok()) return leased.status();
    if (!leased->empty()) return absl::InternalError("idle agent received replica work");
    return absl::OkStatus();
  });
}

void BM_Cycle(benchmark::State& state, StoreKind kind, int agents) {
  absl::StatusOr<BenchFleet*> fleet = GetFleet(kind, agents);
  if (!fleet.ok()) {
    state.SkipWithError(fleet.status().ToString().c_str());
    return;
  }
  BenchFleet& bench = **fleet;
  Fleet& f = *bench.fleet;
  Controller& c = *f.controller;
  // This thread's agents: idle indexes congruent to its index modulo the threads.
  int i = bench.busy + state.thread_index();
  for (auto _ : state) {
    const bool alternate = bench.alternate[i];
    bench.alternate[i] = alternate ? 0 : 1;
    absl::Status error;
    absl::StatusOr<Command> enqueued = c.EnqueueSwitch(
        f.tenant_id, f.agent_ids[i], OperatorSwitch(FleetSwitchTarget(i, alternate)));
    if (!enqueued.ok()) {
      error = Annotate(enqueued.status(), "enqueue");
    } else if (absl::StatusOr<std::optional<Command>> polled =
                   c.PollCommand(f.tenant_id, f.registration_ids[i]);
               !polled.ok() || !polled->has_value() || (*polled)->id != enqueued->id) {
      error = polled.ok() ? absl::InternalError("poll did not deliver the enqueued switch")
                          : Annotate(polled.status(), "poll");
    } else if (absl::StatusOr<Command> acked = c.AckCommand(f.tenant_id, f.registration_ids[i],
                                                            enqueued->id, true, "Switch completed");
               !acked.ok()) {
      error = Annotate(acked.status(), "ack");
    }
    if (!error.ok()) {
      state.SkipWithError(error.ToString().c_str());
      break;
    }
    i += state.threads();
    if (i >= agents) i = bench.busy + state.thread_index();
  }
  state.SetItemsProcessed(state.iterations());
}

void RegisterAll() {
  using Fn = void (*)(benchmark::State&, StoreKind, int);
  const std::pair<const char*, Fn> benchmarks[] = {
      {"Heartbeat", BM_Heartbeat},
      {"PollEmpty", BM_PollEmpty},
      {"PollBusy", BM_PollBusy},
      {"GetConfig", BM_GetConfig},
      {"ListReplicas", BM_ListReplicas},
      {"ReplicaPoll", BM_ReplicaPoll},
      {"Cycle", BM_Cycle},
  };
  for (StoreKind kind : {StoreKind::kMemory, StoreKind::kSqlite}) {
    for (int agents : kFleetSizes) {
      for (const auto& [name, fn] : benchmarks) {
        benchmark::RegisterBenchmark(fmt::format("{}/{}/{}", name, ToString(kind), agents).c_str(),
                                     fn, kind, agents)
            ->Threads(1)
            ->Threads(2)
            ->UseRealTime()
            ->MinTime(kMinTimeSeconds);
      }
    }
  }
}

}  // namespace
}  // namespace spotopt::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  spotopt::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  spotopt::bench::DropFleet();
  benchmark::Shutdown();
  return 0;
}
