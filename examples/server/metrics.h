// Prometheus metrics of spotopt-server: requests by route and status code, latency
// by route, store unavailability, tick outcomes, and agents by liveness (computed
// on scrape).
//
// Thread safety: every method may be called from many threads at once.
#ifndef SPOTOPT_EXAMPLES_SERVER_METRICS_H_
#define SPOTOPT_EXAMPLES_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "spotopt/service/controller.h"

namespace spotopt::server {

class Metrics {
 public:
  // `route` is a low-cardinality template (protocol::Response::route).
  void RecordRequest(std::string_view route, int status, Duration latency);
  void RecordTick(bool ok);
  // The exposition text; reads every tenant's agents for the liveness gauge.
  std::string Render(Controller& controller);

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    Histogram latency;
  };
  using Routes = std::map<std::string, RouteStats, std::less<>>;
  // Each thread records into one shard, so request threads do not queue on a single
  // lock per request; Render adds the shards up. A route's entry is created once,
  // so recording allocates nothing.
  struct alignas(64) Shard {
    std::mutex mu;
    Routes routes;             // guarded by mu
    uint64_t unavailable = 0;  // guarded by mu
  };
  static constexpr size_t kShards = 16;

  Shard& ThisThreadsShard();

  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> ticks_ok_{0};
  std::atomic<uint64_t> ticks_failed_{0};
};

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_METRICS_H_
