// Bad input at every entry point: each value is refused with its typed error code
// (InvalidArgument for malformed values, NotFound for ids that name nothing,
// FailedPrecondition for guards) and a refused call stores nothing. Each table also
// holds valid neighbours of the bad values, so that a parser or an entry point that
// refuses everything cannot pass.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fixture.h"

namespace spotopt::testing {
namespace {

using absl::StatusCode;

// Invalid UTF-8: stray bytes, an overlong '/', a lone surrogate half, a truncated
// sequence; then control characters.
const std::vector<std::string>& MalformedText() {
  static const std::vector<std::string> values = {
      "\xff\xfe",    "\xc0\xaf", "\xed\xa0\x80",
      "abc\xe2\x82", "a\x01z",   "tab\there",
      "nl\n",        "del\x7f",  std::string("nul\0byte", 8),
  };
  return values;
}

// Short strings that break a rule of ValidateShortString.
std::vector<std::string> BadShortStrings() {
  std::vector<std::string> values = MalformedText();
  values.push_back("");
  values.push_back(std::string(kMaxShortString + 1, 'a'));
  return values;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  });
  return s;
}

// Server-issued ids that name nothing, derived from a real id where that makes the
// lookup harder: ids are compared byte for byte, so an upper-case spelling, a
// suffix after a NUL byte or surrounding spaces name a different, unknown record.
std::vector<std::string> UnknownIds(const std::string& real) {
  std::vector<std::string> ids = BadShortStrings();
  for (std::string id :
       {std::string("None"), std::string("null"), NewId(), Upper(real), real + " ", " " + real,
        real.substr(0, real.size() - 1), real + std::string(1, '\0') + "x",
        std::string("' OR '1'='1"), std::string("%"), std::string(300, 'a')}) {
    ids.push_back(std::move(id));
  }
  return ids;
}

// Well-formed-looking instance ids that are not instance ids, and placeholders.
const std::vector<std::string>& NotInstanceIds() {
  static const std::vector<std::string> values = {
      "",
      "replica-123",
      "emergency-1700000000",
      "i-XYZ",
      "I-0A1B2C3D",
      "i-0A1B2C3D",
      "i-0a1b2c3",
      "i-0a1b2c3d4",
      "i-0a1b2c3d4e5f6789",
      "i-0a1b2c3d4e5f678901",
      "i-0a1b2c3g",
      " i-0a1b2c3d",
      "i-0a1b2c3d\n",
      "unknown",
      "\xff\xfe",
  };
  return values;
}

Time Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

// Instants a caller may not hand the library: before 2000, from 2200, and the
// infinities.
std::vector<std::pair<std::string, Time>> OutOfRangeTimes() {
  return {{"1969-12-31T23:59:59Z", Utc(1969, 12, 31, 23, 59, 59)},
          {"1970-01-01T00:00:00Z", absl::UnixEpoch()},
          {"1999-12-31T23:59:59Z", Utc(1999, 12, 31, 23, 59, 59)},
          {"2200-01-01T00:00:00Z", Utc(2200, 1, 1)},
          {"2300-01-01T00:00:00Z", Utc(2300, 1, 1)},
          {"-inf", absl::InfinitePast()},
          {"+inf", absl::InfiniteFuture()}};
}

// ---- Text parsers --------------------------------------------------------------

template <class T>
void ExpectInvalid(const absl::StatusOr<T>& parsed, std::string_view input) {
  INFO("input: '", std::string(input), "'");
  CHECK_MESSAGE(parsed.status().code() == StatusCode::kInvalidArgument, parsed.status().ToString());
}

TEST_CASE("enum parsers refuse unknown spellings and accept the documented ones") {
  for (std::string_view text : {"spotty", "", "spot ", "on demand", "reserved", "unknown"}) {
    ExpectInvalid(ParseMode(text), text);
  }
  CHECK(ParseMode("spot").value() == Mode::kSpot);
  CHECK(ParseMode("SPOT").value() == Mode::kSpot);
  CHECK(ParseMode("ondemand").value() == Mode::kOnDemand);
  CHECK(ParseMode("On-Demand").value() == Mode::kOnDemand);
  CHECK(ParseMode("ON_DEMAND").value() == Mode::kOnDemand);

  for (std::string_view text : {"manual", "standby", "on", "", "automatic"}) {
    ExpectInvalid(ParseReplicaMode(text), text);
  }
  CHECK(ParseReplicaMode("off").value() == ReplicaMode::kOff);
  CHECK(ParseReplicaMode("emergency").value() == ReplicaMode::kEmergency);
  CHECK(ParseReplicaMode("manual_standby").value() == ReplicaMode::kManualStandby);

  for (std::string_view text : {"alive", "", "stale", "ONLINE", "online "}) {
    ExpectInvalid(ParseHeartbeatStatus(text), text);
  }
  CHECK(ParseHeartbeatStatus("online").value() == HeartbeatStatus::kOnline);
  CHECK(ParseHeartbeatStatus("disabled").value() == HeartbeatStatus::kDisabled);
  CHECK(ParseHeartbeatStatus("offline").value() == HeartbeatStatus::kOffline);

  for (std::string_view text : {"termination", "spot-interruption", "", "rebalance"}) {
    ExpectInvalid(ParseSignal(text), text);
  }
  CHECK(ParseSignal("termination-notice").value() == Signal::kTerminationNotice);
  CHECK(ParseSignal("termination_notice").value() == Signal::kTerminationNotice);
  CHECK(ParseSignal("rebalance-recommendation").value() == Signal::kRebalanceRecommendation);
  CHECK(ParseSignal("rebalance_recommendation").value() == Signal::kRebalanceRecommendation);

  // The wire accepts launching, syncing, ready, failed and terminated (5.9, 5.10).
  for (std::string_view text :
       {"ready!", "", "requested", "promoted", "promoting", "terminating", "running"}) {
    ExpectInvalid(ParseReplicaReport(text), text);
  }
  CHECK(ParseReplicaReport("launching").value() == ReplicaReport::kLaunching);
  CHECK(ParseReplicaReport("syncing").value() == ReplicaReport::kSyncing);
  CHECK(ParseReplicaReport("ready").value() == ReplicaReport::kReady);
  CHECK(ParseReplicaReport("failed").value() == ReplicaReport::kFailed);
  CHECK(ParseReplicaReport("terminated").value() == ReplicaReport::kTerminated);

  for (int64_t value : {42, 0, -1, 11, 99, 101, 1000}) {
    ExpectInvalid(PriorityFromInt(value), std::to_string(value));
  }
  CHECK(PriorityFromInt(10).value() == Priority::kScheduled);
  CHECK(PriorityFromInt(25).value() == Priority::kNormal);
  CHECK(PriorityFromInt(50).value() == Priority::kUrgent);
  CHECK(PriorityFromInt(75).value() == Priority::kManual);
  CHECK(PriorityFromInt(100).value() == Priority::kEmergency);
}

TEST_CASE("prices must be finite decimal amounts above zero and within the ceiling") {
  for (std::string_view text : {"abc",
                                "",
                                " ",
                                "0",
                                "0.0",
                                "-0.01",
                                "-1",
                                "1e3",
                                "1E-3",
                                "0x10",
                                "1000.000001",
                                "1001",
                                "99999999999999999999",
                                "NaN",
                                "inf",
                                "1,5",
                                "0.0389$",
                                "1.2.3",
                                ".",
                                "0.0000004"}) {
    ExpectInvalid(Money::ParsePrice(text, "spot_price"), text);
  }
  CHECK(Money::ParsePrice("0.0389", "p").value().micros() == 38900);
  CHECK(Money::ParsePrice("12", "p").value().micros() == 12'000'000);
  CHECK(Money::ParsePrice("1000", "p").value().micros() == Money::kPriceCeilingMicros);
  CHECK(Money::ParsePrice("1000.0000004", "p").value().micros() == Money::kPriceCeilingMicros);
  // Rounded half away from zero to the micro-dollar.
  CHECK(Money::ParsePrice("0.0000005", "p").value().micros() == 1);
  CHECK(Money::ParsePrice("0.0389994", "p").value().micros() == 38999);
  CHECK(Money::ParsePrice("0.0389995", "p").value().micros() == 39000);

  // The error names the field, so a 400 can say which one was wrong.
  const absl::Status named = Money::ParsePrice("abc", "new_spot").status();
  CHECK(named.message().find("new_spot") != std::string_view::npos);

  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (double usd : {kNan, kInf, -kInf, 0.0, -0.0, -0.01, 1e300, 1000.000001, 4e-7,
                     std::numeric_limits<double>::denorm_min()}) {
    ExpectInvalid(Money::PriceFromDouble(usd, "spot_price"), fmt::format("{}", usd));
  }
  CHECK(Money::PriceFromDouble(0.0389, "p").value().micros() == 38900);
  CHECK(Money::PriceFromDouble(0.096, "p").value().micros() == 96000);
  CHECK(Money::PriceFromDouble(1000.0, "p").value().micros() == Money::kPriceCeilingMicros);
  CHECK(Money::PriceFromDouble(5e-7, "p").value().micros() == 1);
}

TEST_CASE("timestamps must parse and fall inside 2000-01-01 .. 2200-01-01 UTC") {
  for (std::string_view text :
       {"1969-12-31T23:59:59Z", "2300-01-01T00:00:00Z", "garbage", "2025-13-01T00:00:00Z", "",
        "2025-11-23", "2025-11-23T25:00:00Z", "2025-11-23T10:15:02+25:00", "1999-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z", "2025-11-23T10:15:02.481930Zjunk"}) {
    ExpectInvalid(ParseTimestamp(text), text);
  }
  const Time expected = Utc(2025, 11, 23, 14, 0, 3) + absl::Microseconds(517220);
  CHECK(ParseTimestamp("2025-11-23T14:00:03.517220+00:00").value() == expected);
  CHECK(ParseTimestamp("2025-11-23T14:00:03.517220Z").value() == expected);
  CHECK(ParseTimestamp("2025-11-23T14:00:03.517220").value() == expected);
  CHECK(ParseTimestamp("2025-11-23T19:30:03.517220+05:30").value() == expected);
  CHECK(ParseTimestamp("2000-01-01T00:00:00Z").value() == Utc(2000, 1, 1));

  for (const auto& [name, t] : OutOfRangeTimes()) {
    INFO(name);
    CHECK(ValidateTime(t, "at").code() == StatusCode::kInvalidArgument);
  }
  CHECK(ValidateTime(Utc(2000, 1, 1), "at").ok());
  CHECK(ValidateTime(Utc(2199, 12, 31, 23, 59, 59), "at").ok());
}

TEST_CASE("short strings and instance ids are validated byte for byte") {
  for (const std::string& value : BadShortStrings()) {
    INFO("value: '", value, "'");
    CHECK(ValidateShortString(value, "hostname").code() == StatusCode::kInvalidArgument);
  }
  CHECK(ValidateShortString(std::string(kMaxShortString, 'a'), "hostname").ok());
  CHECK(ValidateShortString("checkout-api-\xc3\xbc-\xf0\x9f\x9a\x80", "logical_agent_id").ok());

  for (const std::string& value : NotInstanceIds()) {
    INFO("value: '", value, "'");
    CHECK_FALSE(IsInstanceId(value));
    CHECK(ValidateInstanceId(value, "instance_id").code() == StatusCode::kInvalidArgument);
  }
  CHECK(IsInstanceId("i-0a1b2c3d"));
  CHECK(IsInstanceId("i-0a1b2c3d4e5f67890"));
}

TEST_CASE("config patches with out-of-range values are refused whole") {
  const AgentConfig base;
  const auto refused = [&](std::string name, AgentConfigPatch patch) {
    INFO(name);
    absl::StatusOr<AgentConfig> applied = ApplyPatch(base, patch);
    CHECK_MESSAGE(applied.status().code() == StatusCode::kInvalidArgument,
                  applied.status().ToString());
  };
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  refused("negative terminate wait", {.terminate_wait_seconds = -1});
  refused("risk 1.5", {.risk_threshold = 1.5});
  refused("risk -0.1", {.risk_threshold = -0.1});
  refused("risk NaN", {.risk_threshold = kNan});
  refused("NaN percent", {.min_savings_percent = kNan});
  refused("infinite percent", {.min_savings_percent = kInf});
  refused("101 percent", {.min_savings_percent = 101.0});
  refused("fallback ratio 0", {.ondemand_fallback_ratio = 0.0});
  refused("fallback ratio 1.2", {.ondemand_fallback_ratio = 1.2});
  refused("negative per-day cap", {.max_switches_per_day = -1});
  refused("per-day above the current per-week", {.max_switches_per_day = 11});
  refused("per-week below the current per-day", {.max_switches_per_week = 2});
  refused("per-day > per-week together", {.max_switches_per_day = 8, .max_switches_per_week = 7});
  refused("negative pool duration", {.min_pool_duration_hours = -0.5});
  refused("NaN pool duration", {.min_pool_duration_hours = kNan});
  refused("unknown replica mode", {.replica_mode = static_cast<ReplicaMode>(7)});
  refused("replica_mode and manualReplicaEnabled",
          {.replica_mode = ReplicaMode::kOff, .manual_replica = true});
  // A valid field next to an invalid one is not applied either.
  refused("valid + invalid", {.enabled = false, .risk_threshold = 1.5});

  absl::StatusOr<AgentConfig> zero_wait = ApplyPatch(base, {.terminate_wait_seconds = 0});
  REQUIRE(zero_wait.ok());
  CHECK(zero_wait->terminate_wait_seconds == 0);
  CHECK(zero_wait->version == base.version + 1);
  absl::StatusOr<AgentConfig> edges = ApplyPatch(base, {.min_savings_percent = 0.0,
                                                        .risk_threshold = 1.0,
                                                        .max_switches_per_day = 10,
                                                        .max_switches_per_week = 10});
  REQUIRE(edges.ok());
  CHECK(edges->risk_threshold == 1.0);
  CHECK(edges->max_switches_per_day == 10);
  absl::StatusOr<AgentConfig> unchanged = ApplyPatch(base, {});
  REQUIRE(unchanged.ok());
  CHECK(*unchanged == base);
}

TEST_CASE("config JSON must be an object of known keys with the right types") {
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "{\"enabled\":";
  deep += "true";
  for (int i = 0; i < 20; ++i) deep += "}";
  for (const std::string& json : std::vector<std::string>{
           R"({"bogus": 1})",
           R"({"enabled": true, "Enabled": false})",
           R"({"enabled": true, "enabled": false})",
           R"({"enabled": "yes"})",
           R"({"enabled": 2})",
           R"({"enabled": null})",
           R"({"risk_threshold": "0.3"})",
           R"({"risk_threshold": {"a": 1}})",
           R"({"risk_threshold": [0.3]})",
           R"({"terminate_wait_seconds": 1.5})",
           R"({"terminate_wait_seconds": -5})",
           R"({"terminate_wait_seconds": "300"})",
           R"({"terminateWaitMinutes": 1e30})",
           R"({"replica_mode": "spotty"})",
           R"({"replica_mode": 1})",
           R"({"config_version": 3})",
           R"({"replica_count": 0})",
           R"({"enabled": true, "x": {"y": [}})",
           R"({"enabled": true,})",
           R"([{"enabled": true}])",
           R"("enabled")",
           "null",
           "",
           "{",
           "42",
           "{\"enabled\": true}\xff",
           deep,
       }) {
    INFO("json: ", std::string(json));
    absl::StatusOr<AgentConfigPatch> parsed = ParseConfigPatchJson(json);
    CHECK_MESSAGE(parsed.status().code() == StatusCode::kInvalidArgument,
                  parsed.status().ToString());
  }

  absl::StatusOr<AgentConfigPatch> minutes =
      ParseConfigPatchJson(R"({"terminateWaitMinutes": 2, "enabled": 0})");
  REQUIRE(minutes.ok());
  CHECK(minutes->terminate_wait_seconds == 120);
  CHECK(minutes->enabled == false);
  absl::StatusOr<AgentConfigPatch> exact = ParseConfigPatchJson(
      R"({"terminate_wait_seconds": 300.0, "replica_mode": "manual_standby", "risk_threshold": 1})");
  REQUIRE(exact.ok());
  CHECK(exact->terminate_wait_seconds == 300);
  CHECK(exact->replica_mode == ReplicaMode::kManualStandby);
  CHECK(exact->risk_threshold == 1.0);
  absl::StatusOr<AgentConfigPatch> empty = ParseConfigPatchJson("{}");
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->enabled.has_value());
}

// ---- Controller entry points ---------------------------------------------------

struct Case {
  std::string name;
  StatusCode want;
  std::function<absl::Status()> call;
};

// Runs every case and checks its code, and that the store is byte-identical after
// each refusal.
void ExpectRefused(ServiceFixture& f, const std::vector<Case>& cases) {
  REQUIRE_FALSE(cases.empty());
  std::string before = f.Dump();
  for (const Case& c : cases) {
    INFO(c.name);
    const absl::Status status = c.call();
    CHECK_MESSAGE(status.code() == c.want, status.ToString());
    // Re-baselined after a failure, so one bad case does not mask the others.
    std::string after = f.Dump();
    const bool unchanged = after == before;
    CHECK_MESSAGE(unchanged, "the refused call changed the store");
    before = std::move(after);
  }
}

// A tenant with two agents on m5.large spot in us-east-1a:
// - web: nothing open, for enqueue and config checks;
// - worker: a LEASED switch and a replica LAUNCHING under its launch lease.
struct Scene {
  std::string tenant;
  std::string token;
  AgentHandle web;
  AgentHandle worker;
  std::string leased_command;
  std::string launching_replica;
};

Scene BuildScene(ServiceFixture& f) {
  Controller& c = f.controller();
  Scene s;
  absl::StatusOr<CreatedTenant> created = c.CreateTenant("acme");
  REQUIRE(created.ok());
  s.tenant = created->tenant.id;
  s.token = created->token;
  s.web = f.RegisterAgent(s.tenant, "checkout-api-1", "i-0a1b2c3d4e5f67890");
  s.worker = f.RegisterAgent(s.tenant, "billing-worker-1", "i-0b2c3d4e5f6789012");
  f.EnqueueSwitch(s.worker, "us-east-1b");
  s.leased_command = f.PollExpectingCommand(s.worker).id;
  ReplicaRequest request;
  request.pool_id = PoolId("us-east-1c");
  absl::StatusOr<Replica> replica = c.RequestReplica(s.tenant, s.worker.agent_id, request);
  REQUIRE(replica.ok());
  absl::StatusOr<std::vector<Replica>> launches =
      c.LeaseReplicaLaunches(s.tenant, s.worker.registration_id);
  REQUIRE(launches.ok());
  REQUIRE(launches->size() == 1);
  REQUIRE(launches->front().state == ReplicaState::kLaunching);
  s.launching_replica = replica->id;
  return s;
}

TEST_CASE_TEMPLATE("ids that name nothing are NotFound at every entry point", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Scene s = BuildScene(f);
  Controller& c = f.controller();
  const std::string& t = s.tenant;
  const AgentHandle& w = s.worker;
  const Time now = f.clock().Now();
  SwitchRequest to_ondemand;
  to_ondemand.target_mode = Mode::kOnDemand;
  ReplicaRequest replica_request;
  replica_request.pool_id = PoolId("us-east-1d");
  SignalReport rebalance;
  rebalance.signal = Signal::kRebalanceRecommendation;
  const AgentConfigPatch patch{.enabled = false};

  std::vector<Case> cases;
  const auto add = [&](std::string name, std::function<absl::Status()> call) {
    cases.push_back({std::move(name), StatusCode::kNotFound, std::move(call)});
  };
  for (const std::string& id : UnknownIds(t)) {
    add("tenant for GetTenant", [&c, id] { return StatusOf(c.GetTenant(id)); });
    add("tenant for SuspendTenant", [&c, id] { return c.SuspendTenant(id); });
    add("tenant for ReactivateTenant", [&c, id] { return c.ReactivateTenant(id); });
    add("tenant for DeleteTenant", [&c, id] { return c.DeleteTenant(id); });
    add("tenant for RotateToken", [&c, id] { return StatusOf(c.RotateToken(id)); });
    add("tenant for Register", [&c, id] {
      return StatusOf(
          c.Register(id, ServiceFixture::MakeRegisterRequest("new-agent", "i-0c3d4e5f67890123a")));
    });
    add("tenant for GetAgent", [&c, id, w] { return StatusOf(c.GetAgent(id, w.agent_id)); });
    add("tenant for ListAgents", [&c, id] { return StatusOf(c.ListAgents(id)); });
    add("tenant for Heartbeat",
        [&c, id, w] { return StatusOf(c.Heartbeat(id, w.registration_id, HeartbeatReport{})); });
    add("tenant for PollCommand",
        [&c, id, w] { return StatusOf(c.PollCommand(id, w.registration_id)); });
    add("tenant for AckCommand", [&c, id, w, cmd = s.leased_command] {
      return StatusOf(c.AckCommand(id, w.registration_id, cmd, true, "Switch completed"));
    });
    add("tenant for EnqueueSwitch", [&c, id, to_ondemand, a = s.web.agent_id] {
      return StatusOf(c.EnqueueSwitch(id, a, to_ondemand));
    });
    add("tenant for UpdateConfig",
        [&c, id, w, patch] { return StatusOf(c.UpdateConfig(id, w.agent_id, patch)); });
  }
  for (const std::string& id : UnknownIds(w.agent_id)) {
    add("agent for GetAgent", [&c, t, id] { return StatusOf(c.GetAgent(t, id)); });
    add("agent for SetEnabled", [&c, t, id] { return c.SetEnabled(t, id, false); });
    add("agent for DeleteAgent", [&c, t, id] { return c.DeleteAgent(t, id); });
    add("agent for ListEvents", [&c, t, id] { return StatusOf(c.ListEvents(t, id)); });
    add("agent for GetConfig", [&c, t, id] { return StatusOf(c.GetConfig(t, id)); });
    add("agent for UpdateConfig",
        [&c, t, id, patch] { return StatusOf(c.UpdateConfig(t, id, patch)); });
    add("agent for EnqueueSwitch",
        [&c, t, id, to_ondemand] { return StatusOf(c.EnqueueSwitch(t, id, to_ondemand)); });
    add("agent for EnqueueCreateReplica", [&c, t, id, replica_request] {
      return StatusOf(c.EnqueueCreateReplica(t, id, replica_request));
    });
    add("agent for RequestReplica", [&c, t, id, replica_request] {
      return StatusOf(c.RequestReplica(t, id, replica_request));
    });
    add("agent for CancelCommand", [&c, t, id, cmd = s.leased_command] {
      return StatusOf(c.CancelCommand(t, id, cmd, "probe"));
    });
    add("agent for ListCommands", [&c, t, id] { return StatusOf(c.ListCommands(t, id)); });
    add("agent for ListReplicas", [&c, t, id] { return StatusOf(c.ListReplicas(t, id)); });
    add("agent for ListIncidents", [&c, t, id] { return StatusOf(c.ListIncidents(t, id)); });
    add("agent for PromoteReplica", [&c, t, id, r = s.launching_replica] {
      return StatusOf(c.PromoteReplica(t, id, r, true));
    });
    add("agent for TerminateReplica",
        [&c, t, id, r = s.launching_replica] { return StatusOf(c.TerminateReplica(t, id, r)); });
  }
  for (const std::string& id : UnknownIds(w.registration_id)) {
    add("registration for Heartbeat",
        [&c, t, id] { return StatusOf(c.Heartbeat(t, id, HeartbeatReport{})); });
    add("registration for GetRegistration",
        [&c, t, id] { return StatusOf(c.GetRegistration(t, id)); });
    add("registration for GetConfigForRegistration",
        [&c, t, id] { return StatusOf(c.GetConfigForRegistration(t, id)); });
    add("registration for PollCommand", [&c, t, id] { return StatusOf(c.PollCommand(t, id)); });
    add("registration for AckCommand", [&c, t, id, cmd = s.leased_command] {
      return StatusOf(c.AckCommand(t, id, cmd, true, "Switch completed"));
    });
    add("registration for LeaseReplicaLaunches",
        [&c, t, id] { return StatusOf(c.LeaseReplicaLaunches(t, id)); });
    add("registration for ReportReplicaInstance", [&c, t, id, r = s.launching_replica] {
      return StatusOf(
          c.ReportReplicaInstance(t, id, r, "i-0d4c3b2a1f0e98765", ReplicaReport::kSyncing));
    });
    add("registration for ReportReplicaStatus", [&c, t, id, r = s.launching_replica, now] {
      return StatusOf(c.ReportReplicaStatus(t, id, r, ReplicaReport::kFailed, now, "x"));
    });
    add("registration for RecordSignal",
        [&c, t, id, rebalance] { return StatusOf(c.RecordSignal(t, id, rebalance)); });
  }
  // The logical agent's id is not a registration id, and the other way round.
  add("agent id as registration id", [&c, t, w] { return StatusOf(c.PollCommand(t, w.agent_id)); });
  add("registration id as agent id",
      [&c, t, w] { return StatusOf(c.GetAgent(t, w.registration_id)); });
  for (const std::string& id : UnknownIds(s.leased_command)) {
    add("command for GetCommand", [&c, t, id] { return StatusOf(c.GetCommand(t, id)); });
    add("command for AckCommand", [&c, t, id, w] {
      return StatusOf(c.AckCommand(t, w.registration_id, id, true, "Switch completed"));
    });
    add("command for CancelCommand",
        [&c, t, id, w] { return StatusOf(c.CancelCommand(t, w.agent_id, id, "probe")); });
  }
  add("replica id as command id", [&c, t, w, r = s.launching_replica] {
    return StatusOf(c.AckCommand(t, w.registration_id, r, true, "Switch completed"));
  });
  for (const std::string& id : UnknownIds(s.launching_replica)) {
    add("replica for ReportReplicaInstance", [&c, t, id, w] {
      return StatusOf(c.ReportReplicaInstance(t, w.registration_id, id, "i-0d4c3b2a1f0e98765",
                                              ReplicaReport::kSyncing));
    });
    add("replica for ReportReplicaStatus", [&c, t, id, w, now] {
      return StatusOf(
          c.ReportReplicaStatus(t, w.registration_id, id, ReplicaReport::kFailed, now, "x"));
    });
    add("replica for PromoteReplica",
        [&c, t, id, w] { return StatusOf(c.PromoteReplica(t, w.agent_id, id, true)); });
    add("replica for TerminateReplica",
        [&c, t, id, w] { return StatusOf(c.TerminateReplica(t, w.agent_id, id)); });
  }
  add("command id as replica id", [&c, t, w, cmd = s.leased_command] {
    return StatusOf(c.TerminateReplica(t, w.agent_id, cmd));
  });
  ExpectRefused(f, cases);

  // The real ids behind the garbage work.
  CHECK(c.GetTenant(t).ok());
  CHECK(c.GetCommand(t, s.leased_command).ok());
  CHECK(c.GetRegistration(t, w.registration_id).ok());
  absl::StatusOr<Replica> failed = c.ReportReplicaStatus(t, w.registration_id, s.launching_replica,
                                                         ReplicaReport::kFailed, now, "capacity");
  REQUIRE_MESSAGE(failed.ok(), failed.status().ToString());
  CHECK(failed->state == ReplicaState::kFailed);
}

TEST_CASE_TEMPLATE("tokens that are not issued do not authenticate", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Scene s = BuildScene(f);
  Controller& c = f.controller();
  std::string flipped = s.token;
  flipped.back() = flipped.back() == 'a' ? 'b' : 'a';
  std::vector<Case> cases;
  for (std::string token :
       {std::string(), std::string("sot_"), std::string("Bearer ") + s.token, s.token + "x",
        s.token.substr(0, s.token.size() - 1), flipped, Upper(s.token), " " + s.token,
        std::string("sot_") + std::string(32, 'A'), std::string("\xff\xfe"),
        s.token + std::string(1, '\0'), std::string(10000, 'a')}) {
    cases.push_back({fmt::format("token of {} bytes", token.size()), StatusCode::kUnauthenticated,
                     [&c, token] { return StatusOf(c.Authenticate(token)); }});
  }
  ExpectRefused(f, cases);
  absl::StatusOr<Tenant> tenant = c.Authenticate(s.token);
  REQUIRE_MESSAGE(tenant.ok(), tenant.status().ToString());
  CHECK(tenant->id == s.tenant);
}

TEST_CASE_TEMPLATE("malformed values are InvalidArgument and store nothing", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Scene s = BuildScene(f);
  Controller& c = f.controller();
  const std::string& t = s.tenant;
  const AgentHandle& web = s.web;
  const AgentHandle& w = s.worker;
  const Time now = f.clock().Now();
  std::vector<Case> cases;
  const auto add = [&](std::string name, StatusCode want, std::function<absl::Status()> call) {
    cases.push_back({std::move(name), want, std::move(call)});
  };
  const auto invalid = [&](std::string name, std::function<absl::Status()> call) {
    add(std::move(name), StatusCode::kInvalidArgument, std::move(call));
  };
  const auto register_with = [&c, t](std::string name, std::function<void(RegisterRequest&)> edit,
                                     std::vector<Case>& out) {
    RegisterRequest request =
        ServiceFixture::MakeRegisterRequest("checkout-api-2", "i-0c3d4e5f67890123a");
    edit(request);
    out.push_back({"Register: " + std::move(name), StatusCode::kInvalidArgument,
                   [&c, t, request] { return StatusOf(c.Register(t, request)); }});
  };

  // Tenants.
  for (const std::string& name : BadShortStrings()) {
    invalid("CreateTenant name '" + name + "'",
            [&c, name] { return StatusOf(c.CreateTenant(name)); });
  }

  // Register (5.1): instance id and region are required; ids and short strings obey
  // section 1.6.
  for (const std::string& id : NotInstanceIds()) {
    register_with(
        "instance id '" + id + "'", [id](RegisterRequest& r) { r.instance_id = id; }, cases);
  }
  for (const std::string& value : BadShortStrings()) {
    register_with(
        "region '" + value + "'", [value](RegisterRequest& r) { r.region = value; }, cases);
  }
  for (const std::string& value : MalformedText()) {
    register_with(
        "logical id '" + value + "'", [value](RegisterRequest& r) { r.logical_id = value; }, cases);
    register_with(
        "hostname '" + value + "'", [value](RegisterRequest& r) { r.facts.hostname = value; },
        cases);
    register_with(
        "az '" + value + "'", [value](RegisterRequest& r) { r.facts.az = value; }, cases);
  }
  const std::string too_long(kMaxShortString + 1, 'a');
  register_with(
      "logical id of 256 bytes", [&](RegisterRequest& r) { r.logical_id = too_long; }, cases);
  register_with(
      "hostname of 256 bytes", [&](RegisterRequest& r) { r.facts.hostname = too_long; }, cases);
  register_with(
      "instance type of 256 bytes", [&](RegisterRequest& r) { r.facts.instance_type = too_long; },
      cases);
  register_with(
      "agent version of 256 bytes", [&](RegisterRequest& r) { r.facts.agent_version = too_long; },
      cases);

  // Heartbeat (5.2).
  invalid("Heartbeat: instance type of 256 bytes", [&c, t, w, too_long] {
    HeartbeatReport report;
    report.instance_type = too_long;
    return StatusOf(c.Heartbeat(t, w.registration_id, report));
  });
  invalid("Heartbeat: az not UTF-8", [&c, t, w] {
    HeartbeatReport report;
    report.az = "us-east-1\xff";
    return StatusOf(c.Heartbeat(t, w.registration_id, report));
  });

  // Config (5.3): UpdateConfig validates like ApplyPatch; a stale version is a guard.
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& [name, patch] : std::vector<std::pair<std::string, AgentConfigPatch>>{
           {"negative terminate wait", {.terminate_wait_seconds = -1}},
           {"risk 1.5", {.risk_threshold = 1.5}},
           {"NaN percent", {.min_savings_percent = kNan}},
           {"per-day > per-week", {.max_switches_per_day = 11}},
           {"valid + invalid", {.enabled = false, .risk_threshold = 1.5}},
       }) {
    invalid("UpdateConfig: " + name,
            [&c, t, web, patch] { return StatusOf(c.UpdateConfig(t, web.agent_id, patch)); });
  }
  for (int64_t version : {0, 2, 99}) {
    add(fmt::format("UpdateConfig: expected version {}", version), StatusCode::kFailedPrecondition,
        [&c, t, web, version] {
          return StatusOf(c.UpdateConfig(t, web.agent_id, {.enabled = false}, version));
        });
  }

  // EnqueueSwitch (6.1, 6.5): a spot target is a pool of the agent's instance type in
  // its region, and differs from the current placement.
  const auto switch_to = [](std::string pool) {
    SwitchRequest request;
    request.target_mode = Mode::kSpot;
    request.target_pool_id = std::move(pool);
    request.override_limits = true;
    return request;
  };
  std::vector<std::pair<std::string, SwitchRequest>> bad_switches = {
      {"spot without a pool", switch_to("")},
      {"pool of another instance type", switch_to("c5.large.us-east-1b")},
      {"pool in another region", switch_to("m5.large.eu-west-1a")},
      {"pool without a dot", switch_to("m5large")},
      {"pool without a type", switch_to(".us-east-1b")},
      {"pool without an az", switch_to("m5.large.")},
      {"pool with a newline", switch_to("m5.large.us-east-1b\n")},
      {"pool not UTF-8", switch_to("m5.large.us-east-1\xff")},
      {"pool of 256 bytes", switch_to(too_long)},
  };
  SwitchRequest zero_ttl = switch_to(PoolId("us-east-1b"));
  zero_ttl.ttl = absl::ZeroDuration();
  bad_switches.emplace_back("zero ttl", zero_ttl);
  SwitchRequest negative_ttl = switch_to(PoolId("us-east-1b"));
  negative_ttl.ttl = absl::Seconds(-60);
  bad_switches.emplace_back("negative ttl", negative_ttl);
  // Operator text is input, not an agent's free text: invalid UTF-8 is refused (1.6).
  SwitchRequest bad_reason = switch_to(PoolId("us-east-1b"));
  bad_reason.reason = "cheaper \xff pool";
  bad_switches.emplace_back("reason not UTF-8", bad_reason);
  for (const auto& [name, request] : bad_switches) {
    invalid("EnqueueSwitch: " + name,
            [&c, t, web, request] { return StatusOf(c.EnqueueSwitch(t, web.agent_id, request)); });
  }
  add("EnqueueSwitch: the current pool", StatusCode::kFailedPrecondition, [&c, t, web, switch_to] {
    return StatusOf(c.EnqueueSwitch(t, web.agent_id, switch_to(PoolId("us-east-1a"))));
  });

  // Replica requests name a pool of the agent's type, or none.
  for (const std::string& pool :
       {std::string("c5.large.us-east-1b"), std::string("m5large"), std::string("m5.large."),
        std::string("\xff\xfe.us-east-1b"), too_long}) {
    ReplicaRequest request;
    request.pool_id = pool;
    invalid("EnqueueCreateReplica: pool '" + pool + "'", [&c, t, web, request] {
      return StatusOf(c.EnqueueCreateReplica(t, web.agent_id, request));
    });
    invalid("RequestReplica: pool '" + pool + "'",
            [&c, t, web, request] { return StatusOf(c.RequestReplica(t, web.agent_id, request)); });
  }

  // PUT replica (5.9): a real instance id, status syncing or launching.
  for (const std::string& id : NotInstanceIds()) {
    invalid("ReportReplicaInstance: instance '" + id + "'",
            [&c, t, w, id, r = s.launching_replica] {
              return StatusOf(
                  c.ReportReplicaInstance(t, w.registration_id, r, id, ReplicaReport::kSyncing));
            });
  }
  for (ReplicaReport status :
       {ReplicaReport::kReady, ReplicaReport::kFailed, ReplicaReport::kTerminated}) {
    invalid(fmt::format("ReportReplicaInstance: status {}", static_cast<int>(status)),
            [&c, t, w, status, r = s.launching_replica] {
              return StatusOf(
                  c.ReportReplicaInstance(t, w.registration_id, r, "i-0d4c3b2a1f0e98765", status));
            });
  }

  // Replica status (5.10): the time stamps the transition; a posted `failed` from
  // LAUNCHING would be accepted with a valid time.
  for (const auto& [name, at] : OutOfRangeTimes()) {
    invalid("ReportReplicaStatus: at " + name, [&c, t, w, at, r = s.launching_replica] {
      return StatusOf(
          c.ReportReplicaStatus(t, w.registration_id, r, ReplicaReport::kFailed, at, "capacity"));
    });
  }

  // Signals (5.12-5.14).
  for (const auto& [name, at] : OutOfRangeTimes()) {
    invalid("RecordSignal: notice_time " + name, [&c, t, web, at] {
      SignalReport report;
      report.notice_time = at;
      return StatusOf(c.RecordSignal(t, web.registration_id, report));
    });
    invalid("RecordSignal: detected_at " + name, [&c, t, web, at, now] {
      SignalReport report;
      report.notice_time = now + kTerminationNoticeLead;
      report.detected_at = at;
      return StatusOf(c.RecordSignal(t, web.registration_id, report));
    });
    invalid("RecordSignal: rebalance detected_at " + name, [&c, t, web, at] {
      SignalReport report;
      report.signal = Signal::kRebalanceRecommendation;
      report.detected_at = at;
      return StatusOf(c.RecordSignal(t, web.registration_id, report));
    });
    invalid("Tick: now " + name, [&c, at] { return StatusOf(c.Tick(at)); });
  }
  for (const std::string& id : NotInstanceIds()) {
    if (id.empty()) continue;  // empty means the registration's own instance
    invalid("RecordSignal: instance '" + id + "'", [&c, t, web, id] {
      SignalReport report;
      report.signal = Signal::kRebalanceRecommendation;
      report.instance_id = id;
      return StatusOf(c.RecordSignal(t, web.registration_id, report));
    });
  }
  add("RecordSignal: another instance", StatusCode::kFailedPrecondition, [&c, t, web, w] {
    SignalReport report;
    report.signal = Signal::kRebalanceRecommendation;
    report.instance_id = w.instance_id;
    return StatusOf(c.RecordSignal(t, web.registration_id, report));
  });

  ExpectRefused(f, cases);
}

TEST_CASE_TEMPLATE("valid neighbours of the bad values are accepted", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Scene s = BuildScene(f);
  Controller& c = f.controller();
  const std::string& t = s.tenant;
  const Time now = f.clock().Now();

  SUBCASE("register: fallback identity, short instance id, UTF-8 and 255-byte fields") {
    RegisterRequest fallback = ServiceFixture::MakeRegisterRequest("", "i-0c3d4e5f");
    absl::StatusOr<RegisterResult> r = c.Register(t, fallback);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->created);
    CHECK(r->agent.logical_id == "i-0c3d4e5f");
    CHECK(r->agent.fallback_identity);

    RegisterRequest full = ServiceFixture::MakeRegisterRequest(
        "checkout-api-\xc3\xbc-\xf0\x9f\x9a\x80", "i-0c3d4e5f67890123a");
    full.facts.hostname = std::string(kMaxShortString, 'h');
    full.facts.instance_type.clear();  // unknown
    full.facts.az.clear();
    full.facts.mode.reset();
    r = c.Register(t, full);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->agent.logical_id == full.logical_id);
    CHECK(r->registration.registration.facts.hostname == full.facts.hostname);

    RegisterRequest longest = ServiceFixture::MakeRegisterRequest(std::string(kMaxShortString, 'x'),
                                                                  "i-0e5f67890123a4b5c");
    r = c.Register(t, longest);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->agent.logical_id.size() == kMaxShortString);
  }

  SUBCASE("config: zero terminate wait and the range edges, read back exactly") {
    const AgentConfigPatch patch{.terminate_wait_seconds = 0,
                                 .risk_threshold = 1.0,
                                 .max_switches_per_day = 10,
                                 .max_switches_per_week = 10};
    absl::StatusOr<AgentConfig> updated = c.UpdateConfig(t, s.web.agent_id, patch, 1);
    REQUIRE_MESSAGE(updated.ok(), updated.status().ToString());
    CHECK(updated->version == 2);
    CHECK(updated->terminate_wait_seconds == 0);
    absl::StatusOr<AgentConfig> read = c.GetConfig(t, s.web.agent_id);
    REQUIRE(read.ok());
    CHECK(*read == *updated);
  }

  SUBCASE("switch: another AZ, on-demand, a UTF-8 reason") {
    SwitchRequest request;
    request.target_mode = Mode::kSpot;
    request.target_pool_id = PoolId("us-east-1b");
    request.override_limits = true;
    request.reason = "cheaper pool \xe2\x86\x92 us-east-1b";
    absl::StatusOr<Command> spot = c.EnqueueSwitch(t, s.web.agent_id, request);
    REQUIRE_MESSAGE(spot.ok(), spot.status().ToString());
    CHECK(spot->target_pool_id == PoolId("us-east-1b"));
    CHECK(spot->reason == request.reason);
    request.target_mode = Mode::kOnDemand;
    request.target_pool_id.clear();
    absl::StatusOr<Command> ondemand = c.EnqueueSwitch(t, s.web.agent_id, request);
    REQUIRE_MESSAGE(ondemand.ok(), ondemand.status().ToString());
    CHECK(ondemand->target_mode == Mode::kOnDemand);
    CHECK_FALSE(ondemand->target_pool_id.has_value());
  }

  SUBCASE("replica: real instance id, in-range time, a message that is not UTF-8") {
    absl::StatusOr<Replica> syncing =
        c.ReportReplicaInstance(t, s.worker.registration_id, s.launching_replica,
                                "i-0d4c3b2a1f0e98765", ReplicaReport::kSyncing);
    REQUIRE_MESSAGE(syncing.ok(), syncing.status().ToString());
    CHECK(syncing->instance_id == "i-0d4c3b2a1f0e98765");
    absl::StatusOr<Replica> failed =
        c.ReportReplicaStatus(t, s.worker.registration_id, s.launching_replica,
                              ReplicaReport::kFailed, Utc(2000, 1, 1), "capacity \xc0\xaf");
    REQUIRE_MESSAGE(failed.ok(), failed.status().ToString());
    CHECK(failed->state == ReplicaState::kFailed);
    CHECK(IsValidUtf8(failed->error));
    absl::StatusOr<Command> acked = c.AckCommand(t, s.worker.registration_id, s.leased_command,
                                                 false, std::string(5000, '\xff'));
    REQUIRE_MESSAGE(acked.ok(), acked.status().ToString());
    CHECK(acked->state == CommandState::kFailed);
    CHECK(IsValidUtf8(acked->result_message));
    CHECK(acked->result_message.size() <= kMaxFreeText);
  }

  SUBCASE("signal and tick: in-range times, the registration's own instance") {
    SignalReport report;
    report.instance_id = s.web.instance_id;
    report.notice_time = now + kTerminationNoticeLead;
    report.detected_at = now - absl::Seconds(3);
    absl::StatusOr<SignalResult> signal = c.RecordSignal(t, s.web.registration_id, report);
    REQUIRE_MESSAGE(signal.ok(), signal.status().ToString());
    CHECK(signal->incident.instance_id == s.web.instance_id);
    CHECK_FALSE(signal->repeat);
    CHECK(c.Tick(Utc(2199, 12, 31)).ok());
  }
}

// Enum values outside their enumerators reach the library through casts from
// integers (the C ABI, bindings). They are input like any other and must be refused
// before anything stores them.
TEST_CASE_TEMPLATE("enum values outside their enumerators are InvalidArgument", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Scene s = BuildScene(f);
  Controller& c = f.controller();
  const std::string& t = s.tenant;
  const AgentHandle& web = s.web;
  const AgentHandle& w = s.worker;
  const Time now = f.clock().Now();
  const auto switch_request = [] {
    SwitchRequest request;
    request.target_mode = Mode::kSpot;
    request.target_pool_id = PoolId("us-east-1b");
    request.override_limits = true;
    return request;
  };
  std::vector<Case> cases;
  const auto invalid = [&](std::string name, std::function<absl::Status()> call) {
    cases.push_back({std::move(name), StatusCode::kInvalidArgument, std::move(call)});
  };
  invalid("Register: mode 7", [&c, t] {
    RegisterRequest request =
        ServiceFixture::MakeRegisterRequest("checkout-api-2", "i-0c3d4e5f67890123a");
    request.facts.mode = static_cast<Mode>(7);
    return StatusOf(c.Register(t, request));
  });
  invalid("Heartbeat: status 9", [&c, t, w] {
    HeartbeatReport report;
    report.status = static_cast<HeartbeatStatus>(9);
    return StatusOf(c.Heartbeat(t, w.registration_id, report));
  });
  invalid("EnqueueSwitch: priority 42", [&c, t, web, switch_request] {
    SwitchRequest request = switch_request();
    request.priority = static_cast<Priority>(42);
    return StatusOf(c.EnqueueSwitch(t, web.agent_id, request));
  });
  invalid("EnqueueSwitch: target mode 5", [&c, t, web, switch_request] {
    SwitchRequest request = switch_request();
    request.target_mode = static_cast<Mode>(5);
    return StatusOf(c.EnqueueSwitch(t, web.agent_id, request));
  });
  invalid("ReportReplicaInstance: status 42", [&c, t, w, r = s.launching_replica] {
    return StatusOf(c.ReportReplicaInstance(t, w.registration_id, r, "i-0d4c3b2a1f0e98765",
                                            static_cast<ReplicaReport>(42)));
  });
  invalid("ReportReplicaStatus: status 42", [&c, t, w, now, r = s.launching_replica] {
    return StatusOf(
        c.ReportReplicaStatus(t, w.registration_id, r, static_cast<ReplicaReport>(42), now, ""));
  });
  invalid("RecordSignal: signal 7", [&c, t, web] {
    SignalReport report;
    report.signal = static_cast<Signal>(7);
    return StatusOf(c.RecordSignal(t, web.registration_id, report));
  });
  ExpectRefused(f, cases);
}

// Runs `body` in a child process and returns its exit code, or minus the signal
// that ended it, so that a crash fails one check instead of ending the test run.
int RunInChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // doctest's crash handlers would report the child as a second test run.
    for (int signal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(signal, SIG_DFL);
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    std::_Exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

// An unchecked replica mode can reach a store's per-mode index, so the call runs in
// a child process with a store of its own (a SQLite connection must not cross a
// fork). Exit code: the status code, plus 32 if the store can no longer be read,
// plus 64 if it changed.
TEST_CASE_TEMPLATE("UpdateConfig refuses replica mode 7", S, SPOTOPT_ALL_STORES) {
  constexpr int kUnreadable = 32;
  constexpr int kChanged = 64;
  const int exit_code = RunInChild([] {
    ServiceFixture f(S::kKind);
    const Scene s = BuildScene(f);
    const std::string before = f.Dump();
    const absl::Status status = StatusOf(f.controller().UpdateConfig(
        s.tenant, s.web.agent_id, {.replica_mode = static_cast<ReplicaMode>(7)}));
    const absl::StatusOr<std::string> after = DumpStore(f.store());
    return static_cast<int>(status.code()) + (!after.ok()        ? kUnreadable
                                              : *after == before ? 0
                                                                 : kChanged);
  });
  INFO("child exit code ", exit_code,
       " (status code + 32 store unreadable + 64 store changed; negative: killed by signal)");
  CHECK(exit_code == static_cast<int>(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace spotopt::testing
