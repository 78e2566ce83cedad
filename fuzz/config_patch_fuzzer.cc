// The config patch parser (ParseConfigPatchJson), then the patch applied to the
// default config, the way the management API and spotopt_config_update use them.
//
// Checked when a patch applies: the config keeps every rule ApplyPatch enforces, the
// version moves by at most one, the stored form reads back exactly (codec), and the
// config as the protocol prints it is accepted back as a patch (a dashboard that
// reads a config and writes it back must not be refused).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

#include "domain/config_json.h"
#include "fuzz/harness.h"
#include "spotopt/domain/agent.h"
#include "store/codec.h"

namespace spotopt::fuzz {
namespace {

void CheckRules(const AgentConfig& c) {
  FUZZ_CHECK(c.terminate_wait_seconds >= 0 && c.terminate_wait_seconds <= 86400,
             "terminate_wait_seconds {}", c.terminate_wait_seconds);
  FUZZ_CHECK(c.min_savings_percent >= 0 && c.min_savings_percent <= 100, "min_savings_percent {}",
             c.min_savings_percent);
  FUZZ_CHECK(c.ondemand_return_ratio < c.ondemand_fallback_ratio &&
                 c.ondemand_return_ratio >= 0.01 && c.ondemand_fallback_ratio <= 1,
             "ratios {} {}", c.ondemand_return_ratio, c.ondemand_fallback_ratio);
  FUZZ_CHECK(c.risk_threshold >= 0 && c.risk_threshold <= 1, "risk_threshold {}", c.risk_threshold);
  FUZZ_CHECK(c.max_switches_per_day >= 0 && c.max_switches_per_day <= c.max_switches_per_week &&
                 c.max_switches_per_week <= 7000,
             "switch caps {} {}", c.max_switches_per_day, c.max_switches_per_week);
  FUZZ_CHECK(c.min_pool_duration_hours >= 0 && c.min_pool_duration_hours <= 720,
             "min_pool_duration_hours {}", c.min_pool_duration_hours);
}

}  // namespace
}  // namespace spotopt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spotopt;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<AgentConfigPatch> patch = ParseConfigPatchJson(text);
  if (!patch.ok()) return 0;
  const AgentConfig defaults;
  const absl::StatusOr<AgentConfig> config = ApplyPatch(defaults, *patch);
  if (!config.ok()) return 0;
  fuzz::CheckRules(*config);
  FUZZ_CHECK(config->version == defaults.version || config->version == defaults.version + 1,
             "version {}", config->version);

  const absl::StatusOr<AgentConfig> stored = codec::Decode<AgentConfig>(codec::Encode(*config));
  FUZZ_CHECK(stored.ok() && *stored == *config, "stored config reads back as {}",
             stored.ok() ? codec::Encode(*stored) : stored.status().ToString());

  boost::json::object printed = ConfigJson(*config);
  printed.erase("config_version");  // read-only: the one key a write may not carry
  const std::string again = boost::json::serialize(printed);
  const absl::StatusOr<AgentConfigPatch> reread = ParseConfigPatchJson(again);
  FUZZ_CHECK(reread.ok(), "printed config {} is refused: {}", again, reread.status().ToString());
  const absl::StatusOr<AgentConfig> rewritten = ApplyPatch(*config, *reread);
  FUZZ_CHECK(rewritten.ok(), "printed config {} does not apply: {}", again,
             rewritten.status().ToString());
  return 0;
}
