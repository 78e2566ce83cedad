// A re-registration storm: after a server restart every agent of the fleet registers
// again within a minute, while the fleet keeps heartbeating.
//
// Builds the fleet (default 100,000 agents) and reopens the store as a restarted server
// does (SQLite and PostgreSQL; MemoryStore keeps its process). Then two storms, each
// re-registering every agent in a shuffled order on N threads while one more thread
// heartbeats at the fleet's pace (one beat per agent per 30 s):
// - as fast as the store allows: the registrations per second;
// - after another restart, paced at the target rate: the heartbeats' latency during
//   a storm the store can serve, against the same beats before any storm.
// A storm at full speed saturates both cores, so its beats measure the CPU scheduler
// more than the store; they are printed too.
//
// Every re-registration must find its agent and its registration: the same agent id
// and registration id as the first time, no new agent, no new registration. Anything
// else is a lost or duplicated registration and fails the run.
//
// Usage: registration_storm [--agents=100000] [--threads=2] [--beat-seconds=5]
//                           [--store=sqlite|memory|postgres] [--check]
// --check: exit 1 when the storm is slower than 5,000 registrations/s.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "fleet.h"

namespace spotopt::bench {
namespace {

constexpr double kTargetPerSecond = 5'000;
constexpr double kBeatsPerAgentPerSecond = 1.0 / 30;

struct Options {
  int agents = 100'000;
  int threads = 2;
  double beat_seconds = 5;
  StoreKind store = StoreKind::kSqlite;
  bool check = false;
};

bool ParseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string_view key = arg.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    bool ok = false;
    if (key == "--agents") {
      ok = ParsePositive(value, options.agents);
    } else if (key == "--threads") {
      ok = ParsePositive(value, options.threads);
    } else if (key == "--beat-seconds") {
      ok = ParsePositive(value, options.beat_seconds);
    } else if (key == "--store") {
      absl::StatusOr<StoreKind> kind = ParseStoreKind(value);
      ok = kind.ok();
      if (ok) options.store = *kind;
    } else if (key == "--check" && value.empty()) {
      options.check = ok = true;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "registration_storm: bad argument '%s'\nusage: registration_storm "
                   "[--agents=100000] [--threads=2] [--beat-seconds=5] "
                   "[--store=sqlite|memory|postgres] [--check]\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

// Heartbeats random agents at the fleet's pace until `stop`; latencies in nanoseconds.
// A beat that falls behind its schedule is sent at once, so a stalled store shows up
// as latency instead of as fewer beats.
struct BeatResult {
  std::vector<int64_t> latencies;
  int64_t errors = 0;
  absl::Status first_error;
};

BeatResult Heartbeat(Fleet& fleet, const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / (fleet.agent_ids.size() * kBeatsPerAgentPerSecond)));
  std::mt19937_64 rng(0xbea7);
  std::uniform_int_distribution<size_t> agent(0, fleet.agent_ids.size() - 1);
  BeatResult result;
  for (Clock::time_point next = Clock::now(); !stop.load(std::memory_order_relaxed);
       next += interval) {
    std::this_thread::sleep_until(next);
    const size_t i = agent(rng);
    const Clock::time_point start = Clock::now();
    const absl::Status status =
        fleet.controller->Heartbeat(fleet.tenant_id, fleet.registration_ids[i], fleet.heartbeats[i])
            .status();
    result.latencies.push_back(std::chrono::nanoseconds(Clock::now() - start).count());
    if (!status.ok() && result.errors++ == 0) result.first_error = status;
  }
  return result;
}

void PrintBeats(std::string_view when, BeatResult& beats) {
  const size_t n = beats.latencies.size();
  fmt::print(
      "  heartbeats {:<14} {:>8} beats   p50 {:>8.1f} us   p99 {:>9.1f} us   max {:>9.1f} us\n",
      when, n, QuantileMicros(beats.latencies, 0.5), QuantileMicros(beats.latencies, 0.99),
      QuantileMicros(beats.latencies, 1.0));
}

// What went wrong with a re-registration, or OK.
absl::Status CheckSame(const Fleet& fleet, int i, const absl::StatusOr<RegisterResult>& result) {
  if (!result.ok()) return result.status();
  if (result->created || result->agent.id != fleet.agent_ids[i] ||
      result->registration.registration.id != fleet.registration_ids[i]) {
    return absl::InternalError(
        fmt::format("agent {} came back as agent {} registration {} (created: {}); expected {} {}",
                    i, result->agent.id, result->registration.registration.id, result->created,
                    fleet.agent_ids[i], fleet.registration_ids[i]));
  }
  return absl::OkStatus();
}

// A restarted server: the old store and its caches close before the new one opens.
// MemoryStore lives only in its process, so it is not restarted.
absl::Status Restart(Fleet& fleet, StoreKind kind) {
  if (kind == StoreKind::kMemory) return absl::OkStatus();
  fleet.controller.reset();
  absl::StatusOr<std::shared_ptr<Store>> store = OpenBenchStore(kind, *fleet.db);
  if (!store.ok()) return store.status();
  fleet.controller =
      std::make_unique<Controller>(*std::move(store), std::make_shared<SystemClock>());
  return absl::OkStatus();
}

struct Storm {
  double seconds = 0;
  double cpu_seconds = 0;
  int64_t failures = 0;
  absl::Status first_failure;
  BeatResult beats;  // during the storm
};

// Every agent registers again, in a shuffled order, on `threads` threads; at most
// `per_second` registrations a second in all (0: as fast as they go).
Storm RunStorm(Fleet& fleet, int threads, double per_second) {
  using Clock = std::chrono::steady_clock;
  std::vector<int> order(fleet.agent_ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(0x5707));
  std::atomic<size_t> next{0};
  std::atomic<int64_t> failures{0};
  absl::Mutex mu;
  Storm storm;
  std::atomic<bool> stop{false};
  std::thread beater([&] { storm.beats = Heartbeat(fleet, stop); });
  const double cpu_start = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  auto work = [&] {
    for (size_t k; (k = next.fetch_add(1, std::memory_order_relaxed)) < order.size();) {
      if (per_second > 0) {
        std::this_thread::sleep_until(
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(k) / per_second)));
      }
      const int i = order[k];
      const absl::Status status =
          CheckSame(fleet, i, fleet.controller->Register(fleet.tenant_id, FleetAgentRequest(i)));
      if (!status.ok() && failures.fetch_add(1) == 0) {
        absl::MutexLock lock(&mu);
        storm.first_failure = status;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (std::thread& thread : pool) thread.join();
  storm.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  storm.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  stop = true;
  beater.join();
  storm.failures = failures;
  return storm;
}

int Run(const Options& options) {
  absl::StatusOr<std::unique_ptr<Fleet>> built =
      BuildFleet(options.store, options.agents, options.threads);
  if (!built.ok()) {
    fmt::print(stderr, "registration_storm: building the fleet: {}\n", built.status().ToString());
    return 1;
  }
  Fleet& fleet = **built;
  fmt::print("{}: {} agents registered in {:.1f} s ({:.0f} first registrations/s, {} threads)\n",
             ToString(options.store), options.agents, absl::ToDoubleSeconds(fleet.build_time),
             options.agents / absl::ToDoubleSeconds(fleet.build_time), options.threads);

  if (absl::Status restarted = Restart(fleet, options.store); !restarted.ok()) {
    fmt::print(stderr, "registration_storm: reopening: {}\n", restarted.ToString());
    return 1;
  }

  std::atomic<bool> stop{false};
  BeatResult before;
  {
    std::thread beater([&] { before = Heartbeat(fleet, stop); });
    std::this_thread::sleep_for(std::chrono::duration<double>(options.beat_seconds));
    stop = true;
    beater.join();
  }
  PrintBeats("before", before);

  Storm fast = RunStorm(fleet, options.threads, 0);
  fmt::print(
      "  storm: {} re-registrations in {:.2f} s on {} threads, {:.1f} CPU-s ({:.1f} us each): "
      "{:.0f} registrations/s (target >= {:.0f}: {})\n",
      options.agents, fast.seconds, options.threads, fast.cpu_seconds,
      fast.cpu_seconds * 1e6 / options.agents, options.agents / fast.seconds, kTargetPerSecond,
      options.agents / fast.seconds >= kTargetPerSecond ? "met" : "NOT met");
  PrintBeats("full speed", fast.beats);

  if (absl::Status restarted = Restart(fleet, options.store); !restarted.ok()) {
    fmt::print(stderr, "registration_storm: reopening: {}\n", restarted.ToString());
    return 1;
  }
  Storm paced = RunStorm(fleet, options.threads, kTargetPerSecond);
  fmt::print("  paced storm: {:.0f} registrations/s for {:.1f} s\n", options.agents / paced.seconds,
             paced.seconds);
  PrintBeats("paced storm", paced.beats);

  absl::StatusOr<std::vector<AgentView>> agents = fleet.controller->ListAgents(fleet.tenant_id);
  size_t registrations = 0;
  if (agents.ok()) {
    for (const AgentView& a : *agents) registrations += a.registrations.size();
  }

  bool ok = true;
  for (const Storm* storm : {&fast, &paced}) {
    if (storm->failures > 0) {
      fmt::print(stderr, "registration_storm: {} re-registrations failed; first: {}\n",
                 storm->failures, storm->first_failure.ToString());
      ok = false;
    }
  }
  for (const BeatResult* beats : {&before, &fast.beats, &paced.beats}) {
    if (beats->errors > 0) {
      fmt::print(stderr, "registration_storm: {} heartbeats failed; first: {}\n", beats->errors,
                 beats->first_error.ToString());
      ok = false;
    }
  }
  if (!agents.ok() || agents->size() != static_cast<size_t>(options.agents) ||
      registrations != static_cast<size_t>(options.agents)) {
    fmt::print(stderr, "registration_storm: the tenant holds {} agents and {} registrations: {}\n",
               agents.ok() ? agents->size() : 0, registrations, agents.status().ToString());
    ok = false;
  }
  if (!ok) return 1;
  return options.check && options.agents / fast.seconds < kTargetPerSecond ? 1 : 0;
}

}  // namespace
}  // namespace spotopt::bench

int main(int argc, char** argv) {
  spotopt::bench::Options options;
  if (!spotopt::bench::ParseOptions(argc, argv, options)) return 2;
  return spotopt::bench::Run(options);
}
