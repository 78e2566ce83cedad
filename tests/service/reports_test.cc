// Agent reports and interruption reactions (protocol sections 5.6, 5.7, 5.11-5.15 and
// the time-driven rules of section 10), each run on MemoryStore and on SqliteStore.
#include <doctest/doctest.h>

#include <limits>

#include "fixture.h"

namespace spotopt {
namespace {

using testing::AgentHandle;
using testing::InstanceId;
using testing::PoolId;
using testing::ServiceFixture;

// The report agent v4 sends from us-east-1a: three spot pools and on-demand.
PricingReport MakePricing(std::optional<Time> collected_at) {
  PricingReport r;
  r.instance_type = "m5.large";
  r.on_demand_price = 0.096;
  r.current_spot_price = 0.0389;
  r.spot_pools = {{PoolId("us-east-1a"), "m5.large", "us-east-1a", 0.0389},
                  {PoolId("us-east-1b"), "m5.large", "us-east-1b", std::string("0.0411")},
                  {PoolId("us-east-1c"), "m5.large", "us-east-1c", 0.0342}};
  r.collected_at = collected_at;
  return r;
}

void ReportPrices(ServiceFixture& f, const AgentHandle& a) {
  auto accepted =
      f.controller().ReportPrices(a.tenant_id, a.registration_id, MakePricing(f.clock().Now()));
  REQUIRE_MESSAGE(accepted.ok(), accepted.status().ToString());
  REQUIRE(accepted->accepted == 4);
}

SignalReport Termination(ServiceFixture& f) {
  SignalReport s;
  s.signal = Signal::kTerminationNotice;
  s.notice_time = f.clock().Now() + absl::Seconds(120);
  s.detected_at = f.clock().Now();
  return s;
}

// ---- Pricing report (5.6) -------------------------------------------------------

TEST_CASE_TEMPLATE("a pricing report stores one observation per pool plus on-demand", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  const Time collected = f.clock().Now() - absl::Seconds(3);
  auto accepted = c.ReportPrices(a.tenant_id, a.registration_id, MakePricing(collected));
  REQUIRE(accepted.ok());
  CHECK(accepted->accepted == 4);
  CHECK(accepted->refused.empty());

  auto latest = c.ListLatestPrices(a.tenant_id, "us-east-1", "m5.large");
  REQUIRE(latest.ok());
  REQUIRE(latest->size() == 4);
  const PriceObservation& od = (*latest)[0];
  CHECK(od.kind == PriceKind::kOnDemand);
  CHECK(od.az.empty());
  CHECK(od.price == Money::FromMicros(96'000));
  CHECK((*latest)[1].az == "us-east-1a");
  CHECK((*latest)[1].price == Money::FromMicros(38'900));
  CHECK((*latest)[2].price == Money::FromMicros(41'100));
  CHECK((*latest)[3].price == Money::FromMicros(34'200));
  for (const PriceObservation& o : *latest) {
    CHECK(o.observed_at == collected);
    CHECK(o.received_at == f.clock().Now());
    CHECK_FALSE(o.server_received);
    CHECK(o.source == PriceSource::kPrimary);
    CHECK(o.registration_id == a.registration_id);
  }

  // A clock too far ahead, or no collected_at: the receive time, flagged.
  f.clock().Advance(absl::Seconds(10));
  REQUIRE(c.ReportPrices(a.tenant_id, a.registration_id,
                         MakePricing(f.clock().Now() + absl::Minutes(6)))
              .ok());
  latest = c.ListLatestPrices(a.tenant_id, "us-east-1", "m5.large");
  CHECK((*latest)[1].observed_at == f.clock().Now());
  CHECK((*latest)[1].server_received);

  // Another tenant sees none of it.
  const std::string other = f.NewTenant("other");
  CHECK(c.ListLatestPrices(other, "us-east-1", "m5.large")->empty());

  // A non-primary registration reports as a replica source.
  const auto second = f.RegisterAgent(a.tenant_id, "web-1", InstanceId(2), "us-east-1b");
  f.clock().Advance(absl::Seconds(10));
  REQUIRE(c.ReportPrices(a.tenant_id, second.registration_id, MakePricing(f.clock().Now())).ok());
  latest = c.ListLatestPrices(a.tenant_id, "us-east-1", "m5.large");
  CHECK((*latest)[2].source == PriceSource::kReplica);
}

TEST_CASE_TEMPLATE("a malformed pricing report is refused whole and stores nothing", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  const std::string before = f.Dump();
  const auto refused = [&](PricingReport r, std::string_view field) {
    absl::StatusOr<PriceIngest> result =
        f.controller().ReportPrices(a.tenant_id, a.registration_id, r);
    CHECK(absl::IsInvalidArgument(result.status()));
    CHECK_MESSAGE(result.status().message().find(std::string(field)) != std::string::npos,
                  result.status().ToString());
    CHECK(f.Dump() == before);
  };
  const Time now = f.clock().Now();
  PricingReport r = MakePricing(now);
  r.spot_pools[0].az = "us-east-1b";  // disagrees with its pool id
  refused(r, "pricing.spot_pools[0].pool_id");
  r = MakePricing(now);
  r.spot_pools[0].pool_id = "m5.large.eu-west-1a";  // not the agent's region
  refused(r, "pricing.spot_pools[0].pool_id");
  r = MakePricing(now);
  r.spot_pools.assign(kMaxSpotPools + 1, r.spot_pools[0]);
  refused(r, "pricing.spot_pools");
  r = MakePricing(now);
  r.spot_pools[1].price = std::string("cheap");
  r.spot_pools[0].pool_id = "";  // no pool id and no AZ: the report is malformed
  r.spot_pools[0].az = "";
  refused(r, "pricing.spot_pools[0].pool_id");
}

TEST_CASE_TEMPLATE("a bad price refuses only its own observation, with its reason", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  const Time now = f.clock().Now();
  struct Case {
    ReportedPrice price;
    PriceError reason;
  };
  const Case cases[] = {
      {0.0, PriceError::kZero},
      {-0.5, PriceError::kNegative},
      {std::string("-0.5"), PriceError::kNegative},
      {1001.0, PriceError::kAboveCeiling},
      {std::string("1000.000001"), PriceError::kAboveCeiling},
      {std::numeric_limits<double>::quiet_NaN(), PriceError::kNotANumber},
      {std::string("NaN"), PriceError::kNotANumber},
      {std::numeric_limits<double>::infinity(), PriceError::kNotFinite},
      {std::string("Infinity"), PriceError::kNotFinite},
      {std::string("cheap"), PriceError::kNotANumber},
      {std::string(""), PriceError::kNotANumber},
  };
  int64_t stored = 0;
  for (const Case& c : cases) {
    CAPTURE(ToString(c.reason));
    PricingReport r = MakePricing(now);
    r.spot_pools[1].price = c.price;
    absl::StatusOr<PriceIngest> result =
        f.controller().ReportPrices(a.tenant_id, a.registration_id, r);
    REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    CHECK(result->accepted == 3);
    REQUIRE(result->refused.size() == 1);
    CHECK(result->refused[0] == RefusedPrice{"pricing.spot_pools[1].price", c.reason});
    stored += 3;
  }
  // The good ones are stored; the refused pool has no observation at all.
  CHECK(f.controller()
            .ListPriceObservations(a.tenant_id, Pool{"us-east-1", "us-east-1b", "m5.large"},
                                   absl::InfinitePast(), absl::InfiniteFuture())
            ->empty());
  CHECK(static_cast<int64_t>(
            f.controller()
                .ListPriceObservations(a.tenant_id, Pool{"us-east-1", "us-east-1a", "m5.large"},
                                       absl::InfinitePast(), absl::InfiniteFuture())
                ->size()) == stored / 3);

  // A bad on-demand price keeps the spot prices; every price bad stores nothing.
  PricingReport r = MakePricing(now);
  r.on_demand_price = -1.0;
  r.current_spot_price = 0.0;
  absl::StatusOr<PriceIngest> result =
      f.controller().ReportPrices(a.tenant_id, a.registration_id, r);
  REQUIRE(result.ok());
  CHECK(result->accepted == 3);
  CHECK(result->refused ==
        std::vector<RefusedPrice>{{"pricing.on_demand_price", PriceError::kNegative},
                                  {"pricing.current_spot_price", PriceError::kZero}});
  const std::string before = f.Dump();
  for (SpotPoolPrice& p : r.spot_pools) p.price = std::string("n/a");
  result = f.controller().ReportPrices(a.tenant_id, a.registration_id, r);
  REQUIRE(result.ok());
  CHECK(result->accepted == 0);
  CHECK(result->refused.size() == 5);
  CHECK(f.Dump() == before);

  // Unknown (absent) prices are skipped, not refused.
  r = MakePricing(now);
  r.spot_pools[1].price = std::monostate();
  r.on_demand_price = std::monostate();
  result = f.controller().ReportPrices(a.tenant_id, a.registration_id, r);
  CHECK(result->accepted == 2);
  CHECK(result->refused.empty());
}

// ---- Switch report (5.7) --------------------------------------------------------

SwitchReport MakeSwitchReport(const AgentHandle& a, std::string_view new_instance,
                              std::string_view az, Time t) {
  SwitchReport r;
  r.old_instance = {a.instance_id,           "m5.large",  "us-east-1",         "us-east-1a",
                    "ami-0c55b159cbfafe1f0", Mode::kSpot, PoolId("us-east-1a")};
  r.new_instance = {std::string(new_instance), "m5.large",  "us-east-1", std::string(az),
                    "ami-0c55b159cbfafe1f0",   Mode::kSpot, PoolId(az)};
  r.on_demand_price = 0.096;
  r.old_spot_price = 0.0389;
  r.new_spot_price = std::string("0.0342");
  r.timings.initiated_at = t;
  r.timings.launched_at = t + absl::Seconds(2);
  r.timings.ready_at = t + absl::Seconds(34);
  r.timings.traffic_switched_at = t + absl::Seconds(36);
  r.trigger = "manual";
  return r;
}

TEST_CASE_TEMPLATE("a switch report from the primary moves the placement and closes the switch", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  const Command cmd = f.EnqueueSwitch(a, "us-east-1c");
  f.PollExpectingCommand(a);
  const Time t = f.clock().Now();
  f.clock().Advance(absl::Seconds(40));

  // The report must come from the old instance's own registration.
  SwitchReport wrong = MakeSwitchReport(a, InstanceId(2), "us-east-1c", t);
  wrong.old_instance.instance_id = InstanceId(9);
  const std::string before = f.Dump();
  CHECK(absl::IsFailedPrecondition(c.ReportSwitch(a.tenant_id, a.registration_id, wrong).status()));
  SwitchReport bad_price = MakeSwitchReport(a, InstanceId(2), "us-east-1c", t);
  bad_price.new_spot_price = std::string("NaN");
  CHECK(
      absl::IsInvalidArgument(c.ReportSwitch(a.tenant_id, a.registration_id, bad_price).status()));
  CHECK(f.Dump() == before);

  auto rec = c.ReportSwitch(a.tenant_id, a.registration_id,
                            MakeSwitchReport(a, InstanceId(2), "us-east-1c", t));
  REQUIRE_MESSAGE(rec.ok(), rec.status().ToString());
  CHECK(rec->command_id == cmd.id);
  CHECK(rec->reason == cmd.reason);
  CHECK(rec->requested_by == "ops@example.com");
  CHECK(rec->trigger == "manual");
  CHECK_FALSE(rec->unsolicited);
  CHECK(rec->from.instance_id == a.instance_id);
  CHECK(rec->to == Placement{InstanceId(2), "m5.large", "us-east-1", "us-east-1c", Mode::kSpot});
  CHECK(rec->on_demand_price == Money::FromMicros(96'000));
  CHECK(rec->old_spot_price == Money::FromMicros(38'900));
  CHECK(rec->new_spot_price == Money::FromMicros(34'200));
  CHECK(rec->timings.initiated_at == t);
  CHECK(rec->timings.ready_at == t + absl::Seconds(34));
  CHECK(rec->timings.traffic_switched_at == t + absl::Seconds(36));
  CHECK_FALSE(rec->timings.old_terminated_at.has_value());

  CHECK(c.GetCommand(a.tenant_id, cmd.id)->state == CommandState::kSucceeded);
  auto view = c.GetAgent(a.tenant_id, a.agent_id);
  CHECK(view->agent.placement.instance_id == InstanceId(2));
  CHECK(view->agent.placement.az == "us-east-1c");
  // The command's terminate wait was 300 s: the old instance is terminating.
  CHECK(c.GetRegistration(a.tenant_id, a.registration_id)->registration.instance_state ==
        InstanceState::kTerminating);
  // The ack that follows is a repeat.
  CHECK(c.AckCommand(a.tenant_id, a.registration_id, cmd.id, true, "Switch completed")->state ==
        CommandState::kSucceeded);
  CHECK(c.ListSwitches(a.tenant_id, a.agent_id)->size() == 1);
}

TEST_CASE_TEMPLATE("a successor registration creates the switch record; the report completes it", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  const Command cmd = f.EnqueueSwitch(a, "us-east-1c");
  f.PollExpectingCommand(a);
  const Time t = f.clock().Now();
  f.clock().Advance(absl::Seconds(60));
  const auto successor = f.RegisterAgent(a.tenant_id, "web-1", InstanceId(2), "us-east-1c");
  auto switches = c.ListSwitches(a.tenant_id, a.agent_id);
  REQUIRE(switches->size() == 1);
  CHECK(switches->front().command_id == cmd.id);
  CHECK_FALSE(switches->front().reported);
  CHECK(switches->front().to.instance_id == successor.instance_id);
  CHECK(c.GetCommand(a.tenant_id, cmd.id)->state == CommandState::kSucceeded);

  // The old process survived its wait and reports: merged, placement unchanged.
  f.clock().Advance(absl::Seconds(300));
  SwitchReport report = MakeSwitchReport(a, InstanceId(2), "us-east-1c", t);
  report.timings.old_terminated_at = f.clock().Now();
  auto rec = c.ReportSwitch(a.tenant_id, a.registration_id, report);
  REQUIRE_MESSAGE(rec.ok(), rec.status().ToString());
  CHECK(rec->id == switches->front().id);
  CHECK(rec->reported);
  CHECK(rec->command_id == cmd.id);
  CHECK(rec->new_spot_price == Money::FromMicros(34'200));
  CHECK(rec->timings.old_terminated_at == f.clock().Now());
  CHECK(c.ListSwitches(a.tenant_id, a.agent_id)->size() == 1);
  CHECK(c.GetAgent(a.tenant_id, a.agent_id)->agent.placement.instance_id == InstanceId(2));
}

TEST_CASE_TEMPLATE("an unsolicited switch report moves the placement only without open switches", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  f.EnqueueSwitch(a, "us-east-1b");  // PENDING: blocks an unsolicited move
  auto rec = c.ReportSwitch(a.tenant_id, a.registration_id,
                            MakeSwitchReport(a, InstanceId(2), "us-east-1c", f.clock().Now()));
  REQUIRE(rec.ok());
  CHECK(rec->unsolicited);
  CHECK(c.GetAgent(a.tenant_id, a.agent_id)->agent.placement.instance_id == a.instance_id);
  auto events = c.ListEvents(a.tenant_id, a.agent_id);
  CHECK(events->back().kind == EventKind::kIdentityConflict);
}

// ---- POST replicas (5.11) -------------------------------------------------------

TEST_CASE_TEMPLATE("POST replicas binds the replica reserved for a leased create_replica", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  ReplicaRequest req;
  req.pool_id = PoolId("us-east-1c");
  auto cmd = c.EnqueueCreateReplica(a.tenant_id, a.agent_id, req);
  REQUIRE(cmd.ok());
  f.PollExpectingCommand(a);
  ReplicaInstanceReport report;
  report.instance_id = InstanceId(7);
  report.parent_instance_id = a.instance_id;
  report.pool_id = PoolId("us-east-1c");
  auto bound = c.ReportReplicaLaunch(a.tenant_id, a.registration_id, report);
  REQUIRE_MESSAGE(bound.ok(), bound.status().ToString());
  CHECK(bound->created);
  CHECK(bound->replica.id == *cmd->replica_id);
  CHECK(bound->replica.state == ReplicaState::kLaunching);
  CHECK(bound->replica.instance_id == InstanceId(7));
  // The same instance again: same replica, no change.
  const std::string before = f.Dump();
  auto again = c.ReportReplicaLaunch(a.tenant_id, a.registration_id, report);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->replica.id == bound->replica.id);
  CHECK(f.Dump() == before);

  // Another instance while a live replica exists: refused, recorded as an orphan.
  report.instance_id = InstanceId(8);
  CHECK(absl::IsFailedPrecondition(
      c.ReportReplicaLaunch(a.tenant_id, a.registration_id, report).status()));
  auto events = c.ListEvents(a.tenant_id, a.agent_id);
  CHECK(events->back().kind == EventKind::kOrphanInstance);
  CHECK(events->back().instance_id == InstanceId(8));
  // A placeholder is bad input.
  report.instance_id = "replica-123";
  CHECK(absl::IsInvalidArgument(
      c.ReportReplicaLaunch(a.tenant_id, a.registration_id, report).status()));
}

TEST_CASE_TEMPLATE("POST replicas creates a manual standby; other modes record an orphan", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  ReplicaInstanceReport report;
  report.instance_id = InstanceId(7);
  report.status = ReplicaReport::kSyncing;
  CHECK(absl::IsFailedPrecondition(
      c.ReportReplicaLaunch(a.tenant_id, a.registration_id, report).status()));
  CHECK(c.ListReplicas(a.tenant_id, a.agent_id)->empty());
  CHECK(c.ListEvents(a.tenant_id, a.agent_id)->back().kind == EventKind::kOrphanInstance);

  AgentConfigPatch standby;
  standby.replica_mode = ReplicaMode::kManualStandby;
  f.Configure(a, standby);
  report.instance_id = InstanceId(8);
  auto created = c.ReportReplicaLaunch(a.tenant_id, a.registration_id, report);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(created->created);
  CHECK(created->replica.state == ReplicaState::kSyncing);
  CHECK(created->replica.pool.az == "us-east-1a");
}

// ---- create-emergency-replica (5.12) ----------------------------------------------

TEST_CASE_TEMPLATE("create-emergency-replica 50 times: one incident, one replica, one answer", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  ReportPrices(f, a);
  const SignalReport signal = Termination(f);
  std::optional<EmergencyReplicaResult> first;
  for (int k = 0; k < 50; ++k) {
    auto r = c.CreateEmergencyReplica(a.tenant_id, a.registration_id, signal);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->success);
    CHECK(r->created == (k == 0));
    CHECK(r->urgency == "critical");
    REQUIRE(r->replica.has_value());
    if (!first) {
      first = *r;
      continue;
    }
    CHECK(r->incident_id == first->incident_id);
    CHECK(r->replica->id == first->replica->id);
    CHECK(r->message == first->message);
    CHECK(r->error == first->error);
  }
  // The cheapest pool outside us-east-1a with a fresh price.
  CHECK(first->replica->pool.az == "us-east-1c");
  CHECK(first->replica->state == ReplicaState::kRequested);
  CHECK(first->replica->replica_type == "automatic-termination");
  CHECK(c.ListIncidents(a.tenant_id, a.agent_id)->size() == 1);
  CHECK(c.ListIncidents(a.tenant_id, a.agent_id)->front().repeat_count == 49);
  CHECK(c.ListReplicas(a.tenant_id, a.agent_id)->size() == 1);
}

TEST_CASE_TEMPLATE("create-emergency-replica refusals are answers, not errors", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  SignalReport rebalance;
  rebalance.signal = Signal::kRebalanceRecommendation;

  // No price at all, then only stale ones: no eligible pool.
  auto r = c.CreateEmergencyReplica(a.tenant_id, a.registration_id, rebalance);
  REQUIRE(r.ok());
  CHECK_FALSE(r->success);
  CHECK(r->error == "no eligible pool");
  CHECK(r->urgency == "high");
  CHECK(c.ListReplicas(a.tenant_id, a.agent_id)->empty());

  const auto b = f.RegisterAgent(a.tenant_id, "web-2", InstanceId(2));
  ReportPrices(f, b);
  f.clock().Advance(absl::Minutes(16));
  CHECK(c.CreateEmergencyReplica(b.tenant_id, b.registration_id, rebalance)->error ==
        "no eligible pool");

  AgentConfigPatch off;
  off.replica_mode = ReplicaMode::kOff;
  const auto d = f.RegisterAgent(a.tenant_id, "web-3", InstanceId(3));
  f.Configure(d, off);
  ReportPrices(f, d);
  r = c.CreateEmergencyReplica(d.tenant_id, d.registration_id, rebalance);
  CHECK_FALSE(r->success);
  CHECK(r->error == "replica mode is off for this agent");

  // Another instance's signal is a conflict (409), and changes nothing.
  SignalReport foreign = rebalance;
  foreign.instance_id = InstanceId(9);
  const std::string before = f.Dump();
  CHECK(absl::IsFailedPrecondition(
      c.CreateEmergencyReplica(d.tenant_id, d.registration_id, foreign).status()));
  CHECK(f.Dump() == before);
}

// ---- termination-imminent (5.13) ----------------------------------------------------

TEST_CASE_TEMPLATE("termination-imminent promotes a READY replica; repeats get the same answer", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  const Command pending = f.EnqueueSwitch(a, "us-east-1b");
  const Replica ready = f.MakeReplica(a, InstanceId(5));
  const SignalReport notice = Termination(f);
  REQUIRE(c.CreateEmergencyReplica(a.tenant_id, a.registration_id, notice)->success);
  f.clock().Advance(absl::Seconds(1));
  auto r = c.TerminationImminent(a.tenant_id, a.registration_id, notice);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->success);
  CHECK(r->action == "replica_promoted");
  CHECK(r->new_instance_id == InstanceId(5));
  CHECK(r->replica_id == ready.id);
  CHECK(r->deadline == notice.notice_time);
  CHECK_FALSE(r->forced);
  CHECK(c.GetAgent(a.tenant_id, a.agent_id)->agent.placement.instance_id == InstanceId(5));
  CHECK(c.GetCommand(a.tenant_id, pending.id)->state == CommandState::kCancelled);
  CHECK(c.GetRegistration(a.tenant_id, a.registration_id)->registration.instance_state ==
        InstanceState::kTerminating);
  auto incidents = c.ListIncidents(a.tenant_id, a.agent_id);
  REQUIRE(incidents->size() == 1);
  CHECK(incidents->front().detected_at == notice.detected_at);
  CHECK(incidents->front().decided_at.has_value());
  CHECK(incidents->front().promoted_at == f.clock().Now());

  f.clock().Advance(absl::Seconds(1));
  auto again = c.TerminationImminent(a.tenant_id, a.registration_id, notice);
  REQUIRE(again.ok());
  CHECK(again->success);
  CHECK(again->message == r->message);
  CHECK(again->new_instance_id == r->new_instance_id);
  CHECK(again->incident_id == r->incident_id);

  // The promoted instance's first heartbeat marks the incident healthy.
  const auto promoted = f.RegisterAgent(a.tenant_id, "web-1", InstanceId(5), "us-east-1c");
  REQUIRE(c.Heartbeat(a.tenant_id, promoted.registration_id, HeartbeatReport{}).ok());
  CHECK(c.ListIncidents(a.tenant_id, a.agent_id)->front().healthy_at == f.clock().Now());
}

TEST_CASE_TEMPLATE("termination-imminent force-promotes SYNCING, else answers success false", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  auto none = c.TerminationImminent(a.tenant_id, a.registration_id, Termination(f));
  REQUIRE(none.ok());
  CHECK_FALSE(none->success);
  CHECK(none->action == "none");
  // Nothing protects it and no pool has a price: the decision layer moves it to
  // on-demand, queued to expire at the deadline.
  CHECK(none->error.starts_with("no ready replica to promote; switch "));
  const std::vector<Command> queued = *c.ListCommands(a.tenant_id, a.agent_id);
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].priority == Priority::kEmergency);
  CHECK(queued[0].target_mode == Mode::kOnDemand);

  const auto b = f.RegisterAgent(a.tenant_id, "web-2", InstanceId(2));
  f.MakeReplica(b, InstanceId(6), "us-east-1c", ReplicaState::kSyncing);
  auto forced = c.TerminationImminent(b.tenant_id, b.registration_id, Termination(f));
  REQUIRE(forced.ok());
  CHECK(forced->success);
  CHECK(forced->forced);
  CHECK(forced->new_instance_id == InstanceId(6));
}

// ---- rebalance-recommendation (5.14) ------------------------------------------------

TEST_CASE_TEMPLATE("rebalance-recommendation: replica, else a priority-100 switch, else monitor", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  Controller& c = f.controller();
  SignalReport rebalance;
  rebalance.signal = Signal::kRebalanceRecommendation;

  const auto a = f.RegisterAgent(t, "web-1", InstanceId(1));
  ReportPrices(f, a);
  REQUIRE(c.CreateEmergencyReplica(t, a.registration_id, rebalance)->success);
  auto r = c.RebalanceRecommendation(t, a.registration_id, rebalance);
  REQUIRE(r.ok());
  CHECK(r->action == "replica");
  CHECK(c.ListIncidents(t, a.agent_id)->size() == 1);

  AgentConfigPatch off;
  off.replica_mode = ReplicaMode::kOff;
  const auto b = f.RegisterAgent(t, "web-2", InstanceId(2));
  f.Configure(b, off);
  r = c.RebalanceRecommendation(t, b.registration_id, rebalance);
  REQUIRE(r.ok());
  CHECK(r->action == "switch");
  REQUIRE(r->command.has_value());
  CHECK(r->command->priority == Priority::kEmergency);
  CHECK(r->command->state == CommandState::kPending);
  CHECK(r->command->target_pool_id == PoolId("us-east-1c"));
  auto repeat = c.RebalanceRecommendation(t, b.registration_id, rebalance);
  CHECK(repeat->action == "switch");
  CHECK(repeat->command->id == r->command->id);
  CHECK(c.ListCommands(t, b.agent_id)->size() == 1);

  AgentConfigPatch manual_only = off;
  manual_only.auto_switch = false;
  const auto d = f.RegisterAgent(t, "web-3", InstanceId(3));
  f.Configure(d, manual_only);
  r = c.RebalanceRecommendation(t, d.registration_id, rebalance);
  CHECK(r->action == "monitor");
  CHECK(c.ListCommands(t, d.agent_id)->empty());
}

// ---- cleanup-report (5.15) ------------------------------------------------------------

TEST_CASE_TEMPLATE("cleanup reports are recorded, error variants included", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  CleanupReport report;
  report.timestamp = f.clock().Now() - absl::Seconds(4);
  report.snapshots = CleanupSection{{"snap-0a1b2c3d4e5f67890"},
                                    {},
                                    {{"snap-0b2c3d4e5f6789012", "InvalidSnapshot.InUse"}},
                                    f.clock().Now() - absl::Hours(24 * 7),
                                    ""};
  report.amis = CleanupSection{
      {}, {}, {}, std::nullopt, "can't compare offset-naive and offset-aware datetimes"};
  auto r = c.ReportCleanup(a.tenant_id, a.registration_id, report);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->deleted_snapshots == 1);
  CHECK(r->deleted_amis == 0);
  CHECK(r->failed == 1);
  CHECK(c.GetRegistration(a.tenant_id, a.registration_id)->registration.last_cleanup_at ==
        report.timestamp);

  // Both sections as errors, no timestamp: the receive time.
  CleanupReport errors;
  errors.snapshots = CleanupSection{{}, {}, {}, std::nullopt, "boom"};
  errors.amis = errors.snapshots;
  f.clock().Advance(absl::Seconds(1));
  r = c.ReportCleanup(a.tenant_id, a.registration_id, errors);
  REQUIRE(r.ok());
  CHECK(r->log.reported_at == f.clock().Now());
  auto logs = c.ListCleanupLogs(a.tenant_id, a.agent_id);
  REQUIRE(logs->size() == 2);
  CHECK(logs->back().snapshots->error == "boom");

  CleanupReport too_many;
  too_many.snapshots = CleanupSection{};
  too_many.snapshots->deleted_snapshots.assign(kMaxCleanupIds + 1, "snap-1");
  const std::string before = f.Dump();
  CHECK(
      absl::IsInvalidArgument(c.ReportCleanup(a.tenant_id, a.registration_id, too_many).status()));
  CHECK(f.Dump() == before);
}

// ---- Time-driven recovery (section 10) --------------------------------------------------

TEST_CASE_TEMPLATE(
    "after the deadline the tick promotes a READY replica and retires the old primary", S,
    SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const auto a = f.RegisterAgent(f.NewTenant("acme"), "web-1", InstanceId(1));
  Controller& c = f.controller();
  ReportPrices(f, a);
  const SignalReport notice = Termination(f);
  auto emergency = c.CreateEmergencyReplica(a.tenant_id, a.registration_id, notice);
  REQUIRE(emergency->success);
  CHECK_FALSE(c.TerminationImminent(a.tenant_id, a.registration_id, notice)->success);
  // The dying primary's replica poll still launches it.
  auto leased = c.LeaseReplicaLaunches(a.tenant_id, a.registration_id);
  REQUIRE(leased->size() == 1);
  REQUIRE(c.ReportReplicaInstance(a.tenant_id, a.registration_id, leased->front().id, InstanceId(5),
                                  ReplicaReport::kSyncing)
              .ok());
  f.clock().Advance(absl::Seconds(130));
  REQUIRE(c.ReportReplicaStatus(a.tenant_id, a.registration_id, leased->front().id,
                                ReplicaReport::kReady, std::nullopt, "")
              .ok());
  // Past the deadline the old primary still beats: promoted, not yet terminated.
  REQUIRE(c.Heartbeat(a.tenant_id, a.registration_id, HeartbeatReport{}).ok());
  auto tick = c.Tick(f.clock().Now());
  REQUIRE_MESSAGE(tick.ok(), tick.status().ToString());
  CHECK(tick->replicas_promoted == 1);
  CHECK(tick->instances_terminated == 0);
  CHECK(c.GetAgent(a.tenant_id, a.agent_id)->agent.placement.instance_id == InstanceId(5));
  CHECK(c.ListIncidents(a.tenant_id, a.agent_id)->front().promoted_at == f.clock().Now());

  // The old primary goes quiet: terminated, and the incident closes.
  f.clock().Advance(absl::Seconds(121));
  tick = c.Tick(f.clock().Now());
  REQUIRE(tick.ok());
  CHECK(tick->instances_terminated == 1);
  CHECK(tick->terminations_closed == 1);
  CHECK(c.GetRegistration(a.tenant_id, a.registration_id)->registration.instance_state ==
        InstanceState::kTerminated);
  CHECK(*c.Tick(f.clock().Now()) == TickReport{});
}

}  // namespace
}  // namespace spotopt
