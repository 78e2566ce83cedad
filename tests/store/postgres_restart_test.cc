// PostgreSQL restarting under load: requests in flight fail Unavailable (the wire's
// 503) or succeed, succeed again once the server is back, and every request that
// succeeded is stored exactly once, none that failed. A cluster of its own
// (tests/pg/cluster.sh), since restarting the shared one would cut other tests off.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "spotopt/clock.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/open.h"

#ifndef SPOTOPT_PG_CLUSTER_SCRIPT
#error "tests/CMakeLists.txt names tests/pg/cluster.sh"
#endif

namespace spotopt {
namespace {

void Cluster(std::string_view action, const std::string& dir) {
  const std::string command = fmt::format("bash {} {} {}", SPOTOPT_PG_CLUSTER_SCRIPT, action, dir);
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
}

// The cluster lives as long as the test.
struct OwnCluster {
  OwnCluster() { Cluster("start", dir); }
  ~OwnCluster() { Cluster("stop", dir); }
  const std::string dir = fmt::format("/tmp/spotopt-pg-restart-{}", ::getpid());
};

TEST_CASE("a PostgreSQL restart under load: 503s, then success, nothing lost or duplicated") {
  OwnCluster cluster;
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenStore(fmt::format("postgresql:host={} user=spotopt dbname=postgres", cluster.dir));
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  Controller controller(std::move(*store), std::make_shared<SystemClock>());
  absl::StatusOr<CreatedTenant> tenant = controller.CreateTenant("acme");
  REQUIRE(tenant.ok());
  const std::string& tenant_id = tenant->tenant.id;
  const Pool pool{"us-east-1", "us-east-1a", "m5.large"};
  const Time at = absl::Now() - absl::Hours(1);

  // Each writer imports one price per call, its value naming the call.
  constexpr int kWriters = 4;
  constexpr int kAfterRestart = 20;  // successes each writer needs once the server is back
  std::atomic<bool> restarted{false};
  std::vector<std::set<int64_t>> stored(kWriters);
  std::vector<int> unavailable(kWriters, 0);
  std::vector<std::string> unexpected(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      int after = 0;
      for (int64_t call = 0; after < kAfterRestart && call < 100'000; ++call) {
        const bool was_restarted = restarted.load();
        const int64_t micros = 10'000 + w * 1'000'000 + call;
        absl::StatusOr<int64_t> r = controller.ImportPrices(
            tenant_id, {{pool, Money::FromMicros(micros), at + absl::Microseconds(micros)}});
        if (r.ok()) {
          stored[w].insert(micros);
          after += was_restarted;
        } else if (absl::IsUnavailable(r.status())) {
          ++unavailable[w];
          absl::SleepFor(absl::Milliseconds(20));
        } else {
          unexpected[w] = r.status().ToString();
          return;
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  Cluster("restart", cluster.dir);
  restarted = true;
  for (std::thread& t : writers) t.join();

  std::set<int64_t> expected;
  for (int w = 0; w < kWriters; ++w) {
    CHECK_MESSAGE(unexpected[w].empty(), unexpected[w]);
    expected.insert(stored[w].begin(), stored[w].end());
  }
  absl::StatusOr<std::vector<PriceObservation>> rows = controller.ListPriceObservations(
      tenant_id, pool, absl::InfinitePast(), absl::InfiniteFuture());
  REQUIRE(rows.ok());
  std::multiset<int64_t> found;
  for (const PriceObservation& o : *rows) found.insert(o.price.micros());
  CHECK(found.size() == rows->size());
  CHECK(std::set<int64_t>(found.begin(), found.end()) == expected);
  CHECK(found.size() == expected.size());  // nothing twice
  MESSAGE("stored ", expected.size(), " prices; calls answered Unavailable: ",
          unavailable[0] + unavailable[1] + unavailable[2] + unavailable[3]);
}

}  // namespace
}  // namespace spotopt
