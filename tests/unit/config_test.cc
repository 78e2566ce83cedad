#include <doctest/doctest.h>

#include <cmath>

#include "spotopt/domain/agent.h"

namespace spotopt {
namespace {

TEST_CASE("defaults match the protocol's new-agent config") {
  const AgentConfig c;
  CHECK(c.version == 1);
  CHECK(c.enabled);
  CHECK(c.auto_switch);
  CHECK(c.replica_mode == ReplicaMode::kEmergency);
  CHECK(c.auto_terminate);
  CHECK(c.terminate_wait_seconds == 300);
  CHECK(c.min_savings_percent == 30.0);
  CHECK(c.ondemand_fallback_ratio == 0.8);
  CHECK(c.risk_threshold == 0.3);
  CHECK(c.max_switches_per_day == 3);
  CHECK(c.max_switches_per_week == 10);
  CHECK(c.min_pool_duration_hours == 2.0);
  CHECK(c.ondemand_return_ratio == 0.7);
  CHECK(c.compatible_instance_types.empty());
}

TEST_CASE("a patch writes exactly what it names and bumps the version once") {
  AgentConfigPatch p;
  p.terminate_wait_seconds = 0;  // valid: terminate right away
  p.replica_mode = ReplicaMode::kManualStandby;
  const auto next = ApplyPatch(AgentConfig{}, p);
  REQUIRE(next.ok());
  CHECK(next->terminate_wait_seconds == 0);
  CHECK(next->replica_mode == ReplicaMode::kManualStandby);
  CHECK(next->version == 2);
  AgentConfig expected;
  expected.terminate_wait_seconds = 0;
  expected.replica_mode = ReplicaMode::kManualStandby;
  expected.version = 2;
  CHECK(*next == expected);
  // Writing the same values again changes nothing, not even the version.
  CHECK(ApplyPatch(*next, p)->version == 2);
}

TEST_CASE("invalid values refuse the whole patch") {
  const auto refused = [](AgentConfigPatch p) {
    const auto r = ApplyPatch(AgentConfig{}, p);
    REQUIRE_FALSE(r.ok());
    CHECK(absl::IsInvalidArgument(r.status()));
  };
  AgentConfigPatch p;
  p.enabled = false;
  p.terminate_wait_seconds = -1;
  refused(p);
  p = {};
  p.risk_threshold = 1.5;
  refused(p);
  p = {};
  p.min_savings_percent = std::nan("");
  refused(p);
  p = {};
  p.max_switches_per_day = 20;  // above the default weekly cap of 10
  refused(p);
  p = {};
  p.replica_mode = ReplicaMode::kOff;
  p.manual_replica = true;
  refused(p);
}

TEST_CASE("the return ratio stays below the fallback ratio, whichever a patch moves") {
  AgentConfigPatch p;
  p.ondemand_return_ratio = 0.8;  // equal to the default fallback ratio
  CHECK(absl::IsInvalidArgument(ApplyPatch(AgentConfig{}, p).status()));
  p = {};
  p.ondemand_fallback_ratio = 0.6;  // below the default return ratio
  const auto lowered = ApplyPatch(AgentConfig{}, p);
  REQUIRE_FALSE(lowered.ok());
  CHECK(lowered.status().message().find("ondemand_return_ratio") != std::string::npos);
  p.ondemand_return_ratio = 0.5;
  const auto both = ApplyPatch(AgentConfig{}, p);
  REQUIRE(both.ok());
  CHECK(both->ondemand_return_ratio == 0.5);
  CHECK(both->ondemand_fallback_ratio == 0.6);
  p = {};
  p.ondemand_return_ratio = 0.0;
  CHECK(absl::IsInvalidArgument(ApplyPatch(AgentConfig{}, p).status()));
}

TEST_CASE("compatible instance types: a list of distinct instance types") {
  const auto p =
      ParseConfigPatchJson(R"({"compatible_instance_types": ["m5a.large", "m6i.large"]})");
  REQUIRE(p.ok());
  const auto c = ApplyPatch(AgentConfig{}, *p);
  REQUIRE(c.ok());
  CHECK(c->compatible_instance_types == std::vector<std::string>{"m5a.large", "m6i.large"});
  CHECK(c->version == 2);
  for (const char* bad :
       {R"({"compatible_instance_types": "m5a.large"})", R"({"compatible_instance_types": [1]})",
        R"({"compatible_instance_types": ["m5a.large", "m5a.large"]})",
        R"({"compatible_instance_types": ["large"]})", R"({"compatible_instance_types": [".x"]})",
        R"({"compatible_instance_types": [""]})"}) {
    CAPTURE(bad);
    const auto parsed = ParseConfigPatchJson(bad);
    CHECK((!parsed.ok() || !ApplyPatch(AgentConfig{}, *parsed).ok()));
  }
  AgentConfigPatch many;
  many.compatible_instance_types = std::vector<std::string>(17, "m5.large");
  for (size_t i = 0; i < 17; ++i) (*many.compatible_instance_types)[i] += std::to_string(i);
  CHECK(absl::IsInvalidArgument(ApplyPatch(AgentConfig{}, many).status()));
  // Emptying the list is a change like any other.
  AgentConfigPatch clear;
  clear.compatible_instance_types = std::vector<std::string>{};
  CHECK(ApplyPatch(*c, clear)->compatible_instance_types.empty());
}

TEST_CASE("config JSON: protocol names, dashboard aliases, exact refusal") {
  const auto p = ParseConfigPatchJson(
      R"({"enabled": false, "autoSwitchEnabled": 0, "terminateWaitMinutes": 2,
          "risk_threshold": 0.25, "max_switches_per_day": 2.0})");
  REQUIRE(p.ok());
  CHECK(p->enabled == false);
  CHECK(p->auto_switch == false);
  CHECK(p->terminate_wait_seconds == 120);
  CHECK(p->risk_threshold == 0.25);
  CHECK(p->max_switches_per_day == 2);

  const auto manual_off = ParseConfigPatchJson(R"({"manualReplicaEnabled": false})");
  REQUIRE(manual_off.ok());
  AgentConfig manual;
  manual.replica_mode = ReplicaMode::kManualStandby;
  CHECK(ApplyPatch(manual, *manual_off)->replica_mode == ReplicaMode::kOff);
  CHECK(ApplyPatch(AgentConfig{}, *manual_off)->replica_mode == ReplicaMode::kEmergency);

  for (const char* bad :
       {R"({"enabled": "yes"})", R"({"enabled": 2})", R"({"bogus": 1})", R"({"enabled": null})",
        R"({"config_version": 9})", R"({"replica_mode": "both"})",
        R"({"max_switches_per_day": 2.5})", R"({"max_switches_per_day": 1e30})",
        R"({"terminateWaitMinutes": -1e300})", R"([1, 2])", R"({"enabled": true)", "",
        R"({"terminate_wait_seconds": {"a": [1]}})"}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(ParseConfigPatchJson(bad).status()));
  }
}

TEST_CASE("liveness from one timeout") {
  Registration r;
  const Time t0 = absl::FromUnixSeconds(1'700'000'000);
  r.last_seen_at = t0;
  const Duration timeout = absl::Seconds(120);
  CHECK(ComputeLiveness(r, t0 + absl::Seconds(60), timeout) == Liveness::kOnline);
  CHECK(ComputeLiveness(r, t0 + absl::Seconds(61), timeout) == Liveness::kStale);
  CHECK(ComputeLiveness(r, t0 + absl::Seconds(120), timeout) == Liveness::kStale);
  CHECK(ComputeLiveness(r, t0 + absl::Seconds(121), timeout) == Liveness::kOffline);
  r.last_status = HeartbeatStatus::kOffline;
  CHECK(ComputeLiveness(r, t0, timeout) == Liveness::kOffline);
}

}  // namespace
}  // namespace spotopt
