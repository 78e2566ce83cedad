#include "metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace spotopt::server {

Metrics::Shard& Metrics::ThisThreadsShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shards_[index];
}

void Metrics::RecordRequest(std::string_view route, int status, Duration latency) {
  const double seconds = absl::FDivDuration(latency, absl::Seconds(1));
  const size_t bucket =
      std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
  Shard& shard = ThisThreadsShard();
  std::lock_guard lock(shard.mu);
  auto it = shard.routes.find(route);
  if (it == shard.routes.end()) it = shard.routes.emplace(std::string(route), RouteStats{}).first;
  RouteStats& stats = it->second;
  ++stats.by_status[status];
  if (bucket < kBuckets.size()) ++stats.latency.counts[bucket];
  ++stats.latency.count;
  stats.latency.sum += seconds;
  if (status == 503) ++shard.unavailable;
}

void Metrics::RecordTick(bool ok) {
  (ok ? ticks_ok_ : ticks_failed_).fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render(Controller& controller) {
  // Liveness first, outside the shard locks: it reads the store.
  std::array<int64_t, 3> by_liveness{};
  bool liveness_ok = true;
  if (absl::StatusOr<std::vector<Tenant>> tenants = controller.ListTenants(); tenants.ok()) {
    for (const Tenant& t : *tenants) {
      if (t.state == TenantState::kDeleted) continue;
      absl::StatusOr<std::vector<AgentView>> agents = controller.ListAgents(t.id);
      if (!agents.ok()) {
        liveness_ok = false;
        break;
      }
      for (const AgentView& a : *agents) {
        if (a.agent.lifecycle == Lifecycle::kActive) ++by_liveness[static_cast<int>(a.liveness)];
      }
    }
  } else {
    liveness_ok = false;
  }

  Routes routes;
  uint64_t unavailable = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    unavailable += shard.unavailable;
    for (const auto& [route, stats] : shard.routes) {
      RouteStats& sum = routes[route];
      for (const auto& [status, n] : stats.by_status) sum.by_status[status] += n;
      for (size_t i = 0; i < kBuckets.size(); ++i) sum.latency.counts[i] += stats.latency.counts[i];
      sum.latency.count += stats.latency.count;
      sum.latency.sum += stats.latency.sum;
    }
  }

  std::string out =
      "# HELP spotopt_http_requests_total HTTP requests by route template and status code.\n"
      "# TYPE spotopt_http_requests_total counter\n";
  for (const auto& [route, stats] : routes) {
    for (const auto& [status, n] : stats.by_status) {
      out += fmt::format("spotopt_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", route,
                         status, n);
    }
  }
  out +=
      "# HELP spotopt_http_request_duration_seconds Time from a complete request to its "
      "response.\n# TYPE spotopt_http_request_duration_seconds histogram\n";
  for (const auto& [route, stats] : routes) {
    const Histogram& h = stats.latency;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out +=
          fmt::format("spotopt_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, kBuckets[i], cumulative);
    }
    out += fmt::format(
        "spotopt_http_request_duration_seconds_bucket{{route=\"{0}\",le=\"+Inf\"}} {1}\n"
        "spotopt_http_request_duration_seconds_sum{{route=\"{0}\"}} {2}\n"
        "spotopt_http_request_duration_seconds_count{{route=\"{0}\"}} {1}\n",
        route, h.count, h.sum);
  }
  out += fmt::format(
      "# HELP spotopt_store_unavailable_total Requests answered 503 (store busy or "
      "unavailable).\n# TYPE spotopt_store_unavailable_total counter\n"
      "spotopt_store_unavailable_total {}\n"
      "# HELP spotopt_ticks_total Controller::Tick runs by outcome.\n"
      "# TYPE spotopt_ticks_total counter\n"
      "spotopt_ticks_total{{result=\"ok\"}} {}\n"
      "spotopt_ticks_total{{result=\"error\"}} {}\n",
      unavailable, ticks_ok_.load(std::memory_order_relaxed),
      ticks_failed_.load(std::memory_order_relaxed));
  if (liveness_ok) {
    out +=
        "# HELP spotopt_agents Active logical agents by liveness of their primary.\n"
        "# TYPE spotopt_agents gauge\n";
    for (Liveness l : {Liveness::kOnline, Liveness::kStale, Liveness::kOffline}) {
      out += fmt::format("spotopt_agents{{liveness=\"{}\"}} {}\n", ToString(l),
                         by_liveness[static_cast<int>(l)]);
    }
  }
  return out;
}

}  // namespace spotopt::server
