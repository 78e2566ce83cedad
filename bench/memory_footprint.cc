// Peak resident memory of a MemoryStore-backed Controller holding a fleet: each agent
// registered once with the facts agent v4 sends, default config.
//
// Usage: memory_footprint [--agents=100000] [--check]
// --check: exit 1 when the peak is at or over the target (150 MiB).
#include <charconv>
#include <cstdio>
#include <memory>
#include <string_view>

#include <fmt/format.h>

#include "fleet.h"
#include "spotopt/store/memory_store.h"

namespace spotopt::bench {
namespace {

constexpr int64_t kTargetBytes = int64_t{150} << 20;

int Run(int agents, bool check) {
  const int64_t baseline = CurrentRssBytes();
  {
    Controller controller(std::make_shared<MemoryStore>(), std::make_shared<SystemClock>());
    absl::StatusOr<CreatedTenant> tenant = controller.CreateTenant("footprint");
    if (!tenant.ok()) {
      fmt::print(stderr, "memory_footprint: create tenant: {}\n", tenant.status().ToString());
      return 1;
    }
    for (int i = 0; i < agents; ++i) {
      if (absl::StatusOr<RegisterResult> r =
              controller.Register(tenant->tenant.id, FleetAgentRequest(i));
          !r.ok()) {
        fmt::print(stderr, "memory_footprint: register agent {}: {}\n", i, r.status().ToString());
        return 1;
      }
    }
  }
  const int64_t peak = PeakRssBytes();
  const bool met = peak < kTargetBytes;
  fmt::print(
      "{} agents on MemoryStore: peak RSS {:.1f} MiB (baseline {:.1f} MiB), {} bytes per agent; "
      "target < {} MiB: {}\n",
      agents, peak / 1048576.0, baseline / 1048576.0, (peak - baseline) / agents,
      kTargetBytes >> 20, met ? "met" : "NOT met");
  return check && !met ? 1 : 0;
}

}  // namespace
}  // namespace spotopt::bench

int main(int argc, char** argv) {
  int agents = 100'000;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--check") {
      check = true;
      continue;
    }
    if (arg.starts_with("--agents=")) {
      const std::string_view value = arg.substr(9);
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), agents);
      if (error == std::errc() && end == value.data() + value.size() && agents > 0) continue;
    }
    std::fprintf(stderr,
                 "memory_footprint: bad argument '%s'\n"
                 "usage: memory_footprint [--agents=100000] [--check]\n",
                 argv[i]);
    return 2;
  }
  return spotopt::bench::Run(agents, check);
}
