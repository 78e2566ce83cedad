// A fleet run (Controller::RunDecisions) over a large fleet, timed: the first run
// (every agent's first decision is logged), a run where nothing changed (nothing is
// written), and a run after one pool per market got cheaper (two agents in three
// queue a switch). The target: 100,000 agents on SQLite within 10 s of one
// core per run.
//
// The fleet is written straight into the store (agents with their placements, and
// catalog prices for every pool): registering 100,000 agents one by one is a different
// benchmark (mixed_workload), and the fleet run reads only agents and prices.
//
// Usage: fleet_decisions [--agents=100000] [--store=sqlite|memory]
//                        [--engine=rules|scoring|model] [--check]
// --engine: the tenant's active engine (rules by default; model is the committed one,
// which also reads every market's price history).
// --check: exit 1 when a run takes more than 10 CPU-seconds per 100,000 agents.

#include <charconv>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fleet.h"
#include "spotopt/clock.h"

namespace spotopt::bench {
namespace {

constexpr double kTargetCpuSecondsPer100k = 10;
constexpr int kAgentsPerWrite = 5'000;

template <class F>
absl::Status InTx(Store& store, F&& body) {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kWrite);
  if (!tx.ok()) return tx.status();
  if (absl::Status s = body(**tx); !s.ok()) return s;
  return (*tx)->Commit();
}

// Agents with placements straight into the store; returns the markets' pools.
absl::StatusOr<std::map<std::string, Pool>> WriteFleet(Store& store, const std::string& tenant,
                                                       int agents, Time now) {
  std::map<std::string, Pool> pools;
  for (int first = 0; first < agents; first += kAgentsPerWrite) {
    absl::Status s = InTx(store, [&](Transaction& tx) -> absl::Status {
      for (int i = first; i < std::min(agents, first + kAgentsPerWrite); ++i) {
        const RegisterRequest r = FleetAgentRequest(i);
        Agent a;
        a.id = NewId();
        a.tenant_id = tenant;
        a.logical_id = r.logical_id;
        a.placement = {r.instance_id, r.facts.instance_type, r.region, r.facts.az, Mode::kSpot};
        a.placement_since = now - absl::Hours(24);
        a.created_at = a.updated_at = now - absl::Hours(24);
        if (absl::Status inserted = tx.InsertAgent(a); !inserted.ok()) return inserted;
        const Pool pool{r.region, r.facts.az, r.facts.instance_type};
        pools.emplace(pool.region + "/" + pool.id(), pool);
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return pools;
}

// Every pool of the fleet at `price`, except the first AZ of each market at `cheaper`
// (when given); on-demand at 0.096 for every market.
std::vector<CatalogPrice> Prices(const std::map<std::string, Pool>& pools, Time at, Money price,
                                 std::optional<Money> cheaper) {
  std::vector<CatalogPrice> out;
  std::map<std::string, bool> seen;
  for (const auto& [key, pool] : pools) {
    const std::string market = pool.region + "/" + pool.instance_type;
    const bool first = seen.emplace(market, true).second;
    out.push_back({pool, first && cheaper ? *cheaper : price, at});
    if (first)
      out.push_back({Pool{pool.region, "", pool.instance_type}, Money::FromMicros(96'000), at});
  }
  return out;
}

struct Options {
  int agents = 100'000;
  StoreKind store = StoreKind::kSqlite;
  std::string engine = "rules";
  bool check = false;
};

// Makes `name` the tenant's engine: a built-in, or the committed model registered first.
absl::Status UseEngine(Controller& controller, const std::string& tenant, std::string_view name) {
  if (name == "model") {
    absl::StatusOr<ModelFiles> files = ReadCommittedModel();
    if (!files.ok()) return files.status();
    absl::StatusOr<decision::EngineInfo> registered =
        controller.RegisterModel(files->manifest_json, files->model_bytes);
    if (!registered.ok()) return registered.status();
  }
  for (const decision::EngineInfo& e : controller.ListEngines()) {
    if (e.ref.name == name) return controller.ActivateEngine(tenant, name, e.ref.version).status();
  }
  return absl::NotFoundError(fmt::format("no engine named {}", name));
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--agents=")) {
      const std::string_view v = arg.substr(9);
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o.agents);
      if (ec != std::errc() || end != v.data() + v.size() || o.agents < 1) {
        std::fprintf(stderr, "fleet_decisions: bad --agents\n");
        return 2;
      }
    } else if (arg.starts_with("--store=")) {
      absl::StatusOr<StoreKind> kind = ParseStoreKind(arg.substr(8));
      if (!kind.ok()) {
        std::fprintf(stderr, "fleet_decisions: %s\n", kind.status().ToString().c_str());
        return 2;
      }
      o.store = *kind;
    } else if (arg.starts_with("--engine=")) {
      o.engine = arg.substr(9);
    } else if (arg == "--check") {
      o.check = true;
    } else {
      std::fprintf(stderr,
                   "usage: fleet_decisions [--agents=N] [--store=sqlite|memory] "
                   "[--engine=rules|scoring|model] [--check]\n");
      return 2;
    }
  }

  TempDbPath db;
  absl::StatusOr<std::shared_ptr<Store>> opened = OpenBenchStore(o.store, db);
  if (!opened.ok()) return std::fprintf(stderr, "%s\n", opened.status().ToString().c_str()), 1;
  std::shared_ptr<Store> store = *std::move(opened);
  const Time start = absl::FromUnixSeconds(1'764'000'000);
  auto clock = std::make_shared<ManualClock>(start);
  Controller controller(store, clock);
  const std::string tenant = controller.CreateTenant("bench")->tenant.id;
  if (absl::Status s = UseEngine(controller, tenant, o.engine); !s.ok()) {
    return std::fprintf(stderr, "fleet_decisions: %s\n", s.ToString().c_str()), 2;
  }
  const double setup_start = ProcessCpuSeconds();
  absl::StatusOr<std::map<std::string, Pool>> pools = WriteFleet(*store, tenant, o.agents, start);
  if (!pools.ok()) return std::fprintf(stderr, "%s\n", pools.status().ToString().c_str()), 1;
  if (absl::StatusOr<int64_t> n = controller.ImportPrices(
          tenant, Prices(*pools, start - absl::Minutes(2), Money::FromMicros(40'000), {}));
      !n.ok()) {
    return std::fprintf(stderr, "%s\n", n.status().ToString().c_str()), 1;
  }
  fmt::print("fleet_decisions: {} agents in {} pools on {}, engine {} (set up in {:.1f} CPU-s)\n",
             o.agents, pools->size(), ToString(o.store), o.engine,
             ProcessCpuSeconds() - setup_start);

  bool within = true;
  const auto run = [&](std::string_view name) {
    const double cpu = ProcessCpuSeconds();
    const absl::Time wall = absl::Now();
    absl::StatusOr<DecisionRunReport> r = controller.RunDecisions(clock->Now());
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - wall);
    const double used = ProcessCpuSeconds() - cpu;
    if (!r.ok()) {
      fmt::print(stderr, "{}: {}\n", name, r.status().ToString());
      within = false;
      return;
    }
    const double budget = kTargetCpuSecondsPer100k * o.agents / 100'000.0;
    within &= used <= budget;
    fmt::print(
        "  {:<26} {:>7} agents, {:>7} logged, {:>6} acted: {:6.2f} s, {:6.2f} CPU-s "
        "({:.1f} us/agent; target {:.1f} CPU-s)\n",
        name, r->agents, r->logged, r->acted, elapsed, used, used * 1e6 / std::max(1, r->agents),
        budget);
  };
  run("first run");
  clock->Advance(absl::Minutes(1));
  run("nothing changed");
  clock->Advance(absl::Minutes(1));
  if (absl::StatusOr<int64_t> n = controller.ImportPrices(
          tenant,
          Prices(*pools, clock->Now(), Money::FromMicros(40'000), Money::FromMicros(20'000)));
      !n.ok()) {
    return std::fprintf(stderr, "%s\n", n.status().ToString().c_str()), 1;
  }
  clock->Advance(absl::Minutes(1));
  run("a cheaper pool per market");
  if (o.check && !within) {
    fmt::print(stderr, "fleet_decisions: a run took longer than its target\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace spotopt::bench

int main(int argc, char** argv) { return spotopt::bench::Main(argc, argv); }
