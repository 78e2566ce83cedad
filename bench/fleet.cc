#include "fleet.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "absl/synchronization/mutex.h"
#include "spotopt/decision/model.h"
#include "spotopt/store/memory_store.h"
#include "spotopt/store/open.h"
#include "spotopt/store/sqlite_store.h"

namespace spotopt::bench {
namespace {

constexpr std::array<std::string_view, 3> kRegions = {"us-east-1", "eu-west-1", "ap-south-1"};
constexpr std::array<char, 3> kAzLetters = {'a', 'b', 'c'};
constexpr std::array<std::string_view, 2> kInstanceTypes = {"m5.large", "c5.xlarge"};

// A bijection on 64-bit values, so distinct indexes give distinct instance ids that
// look random.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string_view RegionOf(int index) { return kRegions[index % kRegions.size()]; }
int AzSlotOf(int index) { return (index / kRegions.size()) % kAzLetters.size(); }
std::string_view TypeOf(int index) {
  return kInstanceTypes[(index / (kRegions.size() * kAzLetters.size())) % kInstanceTypes.size()];
}

int64_t ReadStatusKb(std::string_view key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      return std::stoll(line.substr(key.size() + 1));
    }
  }
  return -1;
}

}  // namespace

std::string_view ToString(StoreKind kind) {
  switch (kind) {
    case StoreKind::kMemory:
      return "memory";
    case StoreKind::kSqlite:
      return "sqlite";
    case StoreKind::kPostgres:
      return "postgres";
  }
  return "?";
}

absl::StatusOr<StoreKind> ParseStoreKind(std::string_view text) {
  if (text == "memory") return StoreKind::kMemory;
  if (text == "sqlite") return StoreKind::kSqlite;
  if (text == "postgres") return StoreKind::kPostgres;
  return absl::InvalidArgumentError(
      fmt::format("unknown store '{}' (memory | sqlite | postgres)", text));
}

absl::StatusOr<std::shared_ptr<Store>> OpenBenchStore(StoreKind kind, const TempDbPath& db) {
  absl::StatusOr<std::unique_ptr<Store>> store;
  switch (kind) {
    case StoreKind::kMemory:
      return std::make_shared<MemoryStore>();
    case StoreKind::kSqlite:
      store = SqliteStore::Open(db.path());
      break;
    case StoreKind::kPostgres: {
      const char* uri = std::getenv("SPOTOPT_BENCH_PG");
      if (uri == nullptr) return absl::InvalidArgumentError("postgres: set SPOTOPT_BENCH_PG");
      store = OpenStore(uri);
      break;
    }
  }
  if (!store.ok()) return store.status();
  return std::shared_ptr<Store>(*std::move(store));
}

TempDbPath::TempDbPath() {
  static std::atomic<int> counter{0};
  path_ = (std::filesystem::temp_directory_path() /
           fmt::format("spotopt-bench-{}-{}.db", getpid(), counter.fetch_add(1)))
              .string();
}

TempDbPath::~TempDbPath() {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::remove((path_ + suffix).c_str());
  }
}

RegisterRequest FleetAgentRequest(int index) {
  const uint64_t id = SplitMix64(static_cast<uint64_t>(index));
  const uint64_t b = (id >> 16) & 0xff, c = (id >> 8) & 0xff, d = id & 0xff;
  RegisterRequest request;
  request.logical_id = fmt::format("svc-{:06d}", index);
  request.instance_id = fmt::format("i-{:017x}", id);
  request.region = std::string(RegionOf(index));
  request.facts.hostname = fmt::format("ip-10-{}-{}-{}", b, c, d);
  request.facts.instance_type = std::string(TypeOf(index));
  request.facts.az = fmt::format("{}{}", RegionOf(index), kAzLetters[AzSlotOf(index)]);
  request.facts.ami_id = "ami-0c55b159cbfafe1f0";
  request.facts.private_ip = fmt::format("10.{}.{}.{}", b, c, d);
  request.facts.agent_version = "4.0.0";
  request.facts.mode = Mode::kSpot;
  return request;
}

std::string FleetSwitchTarget(int index, bool alternate) {
  const int slot = (AzSlotOf(index) + (alternate ? 2 : 1)) % kAzLetters.size();
  return fmt::format("{}.{}{}", TypeOf(index), RegionOf(index), kAzLetters[slot]);
}

absl::StatusOr<std::unique_ptr<Fleet>> BuildFleet(StoreKind kind, int agents, int threads) {
  const absl::Time start = absl::Now();
  auto fleet = std::make_unique<Fleet>();
  fleet->db = std::make_unique<TempDbPath>();
  absl::StatusOr<std::shared_ptr<Store>> store = OpenBenchStore(kind, *fleet->db);
  if (!store.ok()) return store.status();
  fleet->controller =
      std::make_unique<Controller>(*std::move(store), std::make_shared<SystemClock>());
  absl::StatusOr<CreatedTenant> tenant = fleet->controller->CreateTenant("bench");
  if (!tenant.ok()) return tenant.status();
  fleet->tenant_id = tenant->tenant.id;
  fleet->agent_ids.resize(agents);
  fleet->registration_ids.resize(agents);
  fleet->heartbeats.resize(agents);

  // Writes serialize in the store; the threads overlap the work around them.
  absl::Mutex mu;
  absl::Status first_error;
  auto work = [&](int first) {
    for (int i = first; i < agents; i += threads) {
      const RegisterRequest request = FleetAgentRequest(i);
      absl::StatusOr<RegisterResult> result =
          fleet->controller->Register(fleet->tenant_id, request);
      if (!result.ok()) {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) {
          first_error = absl::Status(
              result.status().code(),
              fmt::format("register agent {}: {}", i, std::string(result.status().message())));
        }
        return;
      }
      fleet->agent_ids[i] = result->agent.id;
      fleet->registration_ids[i] = result->registration.registration.id;
      HeartbeatReport& beat = fleet->heartbeats[i];
      beat.instance_id = request.instance_id;
      beat.instance_type = request.facts.instance_type;
      beat.az = request.facts.az;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (std::thread& thread : pool) thread.join();
  if (!first_error.ok()) return first_error;
  fleet->build_time = absl::Now() - start;
  return fleet;
}

int64_t PeakRssBytes() { return ReadStatusKb("VmHWM") * 1024; }
int64_t CurrentRssBytes() { return ReadStatusKb("VmRSS") * 1024; }

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double QuantileMicros(std::vector<int64_t>& nanos, double q) {
  if (nanos.empty()) return 0;
  const size_t k = std::min(nanos.size() - 1, static_cast<size_t>(q * nanos.size()));
  std::nth_element(nanos.begin(), nanos.begin() + k, nanos.end());
  return nanos[k] / 1e3;
}

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<ModelFiles> ReadCommittedModel() {
  const std::string dir = std::string(SPOTOPT_SOURCE_DIR) + "/models/price-24h/";
  absl::StatusOr<std::string> manifest = ReadFile(dir + "manifest.json");
  if (!manifest.ok()) return manifest.status();
  absl::StatusOr<decision::ModelManifest> parsed = decision::ParseManifest(*manifest);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<std::string> model = ReadFile(dir + parsed->model_file);
  if (!model.ok()) return model.status();
  return ModelFiles{*std::move(manifest), *std::move(model)};
}

}  // namespace spotopt::bench
