// A synthetic fleet for benchmarks: one tenant and N agents, each registered once
// through Controller::Register with the facts a real agent v4 sends.
#ifndef SPOTOPT_BENCH_FLEET_H_
#define SPOTOPT_BENCH_FLEET_H_

#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "spotopt/service/controller.h"

namespace spotopt::bench {

// kPostgres: the PostgreSQL database SPOTOPT_BENCH_PG names (a store URI,
// "postgresql:host=/tmp/pg dbname=bench"); give it a new database each run.
enum class StoreKind { kMemory, kSqlite, kPostgres };
std::string_view ToString(StoreKind kind);
absl::StatusOr<StoreKind> ParseStoreKind(std::string_view text);

// A database path in the temp directory; the file and its WAL files are removed on
// destruction.
class TempDbPath {
 public:
  TempDbPath();
  ~TempDbPath();
  TempDbPath(const TempDbPath&) = delete;
  TempDbPath& operator=(const TempDbPath&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The register request of fleet agent `index`: deterministic, spread over three
// regions, three AZs each, two instance types; all on spot.
RegisterRequest FleetAgentRequest(int index);
// The spot pool a switch of fleet agent `index` can target: same region and type,
// another AZ; `alternate` picks the second such AZ.
std::string FleetSwitchTarget(int index, bool alternate);

struct Fleet {
  std::unique_ptr<TempDbPath> db;  // used by SQLite only; outlives the controller's store
  std::unique_ptr<Controller> controller;
  std::string tenant_id;
  // Per agent index.
  std::vector<std::string> agent_ids;
  std::vector<std::string> registration_ids;
  std::vector<HeartbeatReport> heartbeats;  // what the agent's 30 s beat carries
  absl::Duration build_time;
};

// Opens a store of `kind`; a SQLite store in `db`.
absl::StatusOr<std::shared_ptr<Store>> OpenBenchStore(StoreKind kind, const TempDbPath& db);

// Creates a store (SQLite: a temp file in WAL mode) behind a Controller on the system
// clock, one tenant, and `agents` registered agents, using `threads` threads.
absl::StatusOr<std::unique_ptr<Fleet>> BuildFleet(StoreKind kind, int agents, int threads);

// Peak and current resident set size of this process in bytes (VmHWM, VmRSS).
int64_t PeakRssBytes();
int64_t CurrentRssBytes();

// Parses all of `text` as a number greater than zero.
template <class T>
bool ParsePositive(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out > 0;
}

// User + system CPU time of the process so far, to tell cost from waiting.
double ProcessCpuSeconds();

// The q-quantile (0..1) of latencies in nanoseconds, in microseconds; reorders them.
double QuantileMicros(std::vector<int64_t>& nanos, double q);

// The committed model (models/price-24h): its manifest and model file, read from the
// source tree. NotFound when a file cannot be read.
struct ModelFiles {
  std::string manifest_json;
  std::string model_bytes;
};
absl::StatusOr<ModelFiles> ReadCommittedModel();

}  // namespace spotopt::bench

#endif  // SPOTOPT_BENCH_FLEET_H_
