// Controller use cases, each run on MemoryStore and on SqliteStore.
#include <doctest/doctest.h>

#include "fixture.h"

namespace spotopt {
namespace {

using testing::AgentHandle;
using testing::InstanceId;
using testing::PoolId;
using testing::ServiceFixture;

// ---- Tenants and tokens -------------------------------------------------------

TEST_CASE_TEMPLATE("a token is shown once, verified, rotated with a grace period", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  auto created = c.CreateTenant("acme");
  REQUIRE(created.ok());
  CHECK(created->token.rfind("sot_", 0) == 0);
  CHECK(f.Dump().find(created->token) == std::string::npos);  // only the hash is stored
  CHECK(c.Authenticate(created->token)->id == created->tenant.id);

  std::string wrong = created->token;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  CHECK(absl::IsUnauthenticated(c.Authenticate(wrong).status()));
  CHECK(absl::IsUnauthenticated(c.Authenticate("").status()));
  CHECK(absl::IsUnauthenticated(c.Authenticate("Bearer nonsense").status()));

  auto rotated = c.RotateToken(created->tenant.id);
  REQUIRE(rotated.ok());
  CHECK(c.Authenticate(*rotated).ok());
  CHECK(c.Authenticate(created->token).ok());  // still inside the grace period
  f.clock().Advance(c.options().token_grace + absl::Seconds(1));
  CHECK(absl::IsUnauthenticated(c.Authenticate(created->token).status()));
  CHECK(c.Authenticate(*rotated).ok());

  REQUIRE(c.SuspendTenant(created->tenant.id).ok());
  CHECK(absl::IsPermissionDenied(c.Authenticate(*rotated).status()));
  CHECK(absl::IsFailedPrecondition(c.SuspendTenant(created->tenant.id)));
  REQUIRE(c.ReactivateTenant(created->tenant.id).ok());
  CHECK(c.Authenticate(*rotated).ok());
  REQUIRE(c.DeleteTenant(created->tenant.id).ok());
  CHECK(absl::IsUnauthenticated(c.Authenticate(*rotated).status()));
  CHECK(absl::IsFailedPrecondition(c.ReactivateTenant(created->tenant.id)));
}

// ---- Registration (protocol section 3.3) ----------------------------------------

TEST_CASE_TEMPLATE("registering again from the same instance is idempotent", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const auto req = ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(1));
  auto first = f.controller().Register(t, req);
  REQUIRE(first.ok());
  CHECK(first->created);
  CHECK(first->registration.role == Role::kPrimary);
  CHECK(first->agent.placement.instance_id == InstanceId(1));
  CHECK(first->agent.config == AgentConfig{});
  auto second = f.controller().Register(t, req);
  REQUIRE(second.ok());
  CHECK_FALSE(second->created);
  CHECK(second->registration.registration.id == first->registration.registration.id);
  CHECK(second->agent.id == first->agent.id);
  auto agents = f.controller().ListAgents(t);
  REQUIRE(agents->size() == 1);
  CHECK(agents->front().registrations.size() == 1);
}

TEST_CASE_TEMPLATE("a second instance gets its own registration and does not move the placement", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  auto other = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(2)));
  REQUIRE(other.ok());
  CHECK(other->created);
  CHECK(other->registration.registration.id != a.registration_id);
  CHECK(other->agent.id == a.agent_id);
  CHECK(other->registration.role == Role::kOther);
  CHECK(other->agent.placement.instance_id == InstanceId(1));
  auto events = f.controller().ListEvents(t, a.agent_id);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  CHECK(events->front().kind == EventKind::kIdentityConflict);
  // A heartbeat from the non-primary instance never moves the placement either.
  REQUIRE(f.controller()
              .Heartbeat(t, other->registration.registration.id, {HeartbeatStatus::kOnline})
              .ok());
  CHECK(f.controller().GetAgent(t, a.agent_id)->agent.placement.instance_id == InstanceId(1));
}

TEST_CASE_TEMPLATE("re-home: a new instance takes over from an offline primary", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Command pending = f.EnqueueSwitch(a, "us-east-1c");
  f.clock().Advance(absl::Seconds(121));
  auto moved = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(2), "us-east-1b"));
  REQUIRE(moved.ok());
  CHECK(moved->registration.role == Role::kPrimary);
  CHECK(moved->agent.placement.instance_id == InstanceId(2));
  CHECK(moved->agent.placement.az == "us-east-1b");
  CHECK(f.controller().GetCommand(t, pending.id)->state == CommandState::kCancelled);
  auto old = f.controller().GetRegistration(t, a.registration_id);
  CHECK(old->registration.instance_state == InstanceState::kLost);
  CHECK(old->role == Role::kOther);
  // A former primary never takes the placement back by registering again.
  f.clock().Advance(absl::Seconds(300));
  auto back = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(1)));
  REQUIRE(back.ok());
  CHECK(back->agent.placement.instance_id == InstanceId(2));
}

TEST_CASE_TEMPLATE("the expected successor of a delivered switch takes the placement", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Command sw = f.EnqueueSwitch(a, "us-east-1c");
  CHECK(sw.terminate_wait_seconds == 300);
  const Command delivered = f.PollExpectingCommand(a);
  CHECK(delivered.id == sw.id);

  // An instance in the wrong AZ is not the successor: a conflict, nothing moves.
  auto stranger = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(3), "us-east-1d"));
  REQUIRE(stranger.ok());
  CHECK(stranger->agent.placement.instance_id == InstanceId(1));

  auto successor = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(2), "us-east-1c"));
  REQUIRE(successor.ok());
  CHECK(successor->registration.role == Role::kPrimary);
  CHECK(successor->agent.placement.instance_id == InstanceId(2));
  CHECK(successor->agent.placement.az == "us-east-1c");
  const auto closed = f.controller().GetCommand(t, sw.id);
  CHECK(closed->state == CommandState::kSucceeded);
  CHECK(f.controller().GetRegistration(t, a.registration_id)->registration.instance_state ==
        InstanceState::kTerminating);
  // The ack the old instance may still send is a repeat: 200, nothing changes.
  const std::string before = f.Dump();
  auto ack = f.controller().AckCommand(t, a.registration_id, sw.id, true, "Switch completed");
  REQUIRE(ack.ok());
  CHECK(ack->state == CommandState::kSucceeded);
  CHECK(f.Dump() == before);
}

TEST_CASE_TEMPLATE("fallback identity follows a switch to the successor instance", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  // LOGICAL_AGENT_ID unset: the logical id is the instance id.
  const AgentHandle a = f.RegisterAgent(t, InstanceId(1), InstanceId(1));
  f.Configure(a, {.auto_terminate = false});  // keep the old instance
  f.EnqueueSwitch(a, "us-east-1c");
  f.PollExpectingCommand(a);
  auto successor = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest(InstanceId(2), InstanceId(2), "us-east-1c"));
  REQUIRE(successor.ok());
  CHECK(successor->agent.id == a.agent_id);
  CHECK(successor->agent.fallback_identity);
  CHECK(successor->registration.role == Role::kPrimary);
  CHECK_FALSE(successor->agent.config.auto_terminate);  // config survived
  CHECK(f.controller().GetRegistration(t, a.registration_id)->registration.instance_state ==
        InstanceState::kRetained);
  // The alias keeps working on the next restart.
  auto again = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest(InstanceId(2), InstanceId(2), "us-east-1c"));
  CHECK(again->registration.registration.id == successor->registration.registration.id);
  CHECK(f.controller().ListAgents(t)->size() == 1);
}

TEST_CASE_TEMPLATE("a restarted primary's unacknowledged command expires", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Command sw = f.EnqueueSwitch(a, "us-east-1c");
  f.PollExpectingCommand(a);
  f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const auto after = f.controller().GetCommand(t, sw.id);
  CHECK(after->state == CommandState::kExpired);
  CHECK(after->result_message == "agent restarted before acknowledging");
  // Expired is final: it is never delivered again.
  CHECK_FALSE(f.controller().PollCommand(t, a.registration_id)->has_value());
}

TEST_CASE_TEMPLATE("a restarted primary's unconfirmed launch fails", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  ReplicaRequest request;
  request.pool_id = PoolId("us-east-1c");
  REQUIRE(f.controller().RequestReplica(t, a.agent_id, request).ok());
  const auto leased = f.controller().LeaseReplicaLaunches(t, a.registration_id);
  REQUIRE(leased.ok());
  REQUIRE(leased->size() == 1);
  f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const auto replicas = f.controller().ListReplicas(t, a.agent_id);
  REQUIRE(replicas.ok());
  REQUIRE(replicas->size() == 1);
  CHECK(replicas->front().state == ReplicaState::kFailed);
}

// After a server restart the whole fleet registers again; a registration that changes
// nothing only renews liveness, and anything else is still written (issue 14).
TEST_CASE_TEMPLATE("registering again renews liveness and keeps every change", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Replica standby = f.MakeReplica(a, InstanceId(9));
  const auto registration = [&] {
    return f.controller().GetRegistration(t, a.registration_id)->registration;
  };
  const auto again = [&](RegisterRequest request) {
    absl::StatusOr<RegisterResult> r = f.controller().Register(t, request);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK_FALSE(r->created);
    CHECK(r->agent.id == a.agent_id);
    return *r;
  };
  const RegisterRequest same = ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(1));

  f.clock().Advance(absl::Minutes(5));  // offline by now
  RegisterResult r = again(same);
  CHECK(r.registration.registration.id == a.registration_id);
  CHECK(r.registration.role == Role::kPrimary);
  CHECK(r.registration.liveness == Liveness::kOnline);
  CHECK(r.registration.registration.last_seen_at == f.clock().Now());
  CHECK(registration().last_seen_at == f.clock().Now());
  CHECK(f.controller().GetAgent(t, a.agent_id)->liveness == Liveness::kOnline);

  // New facts are kept.
  RegisterRequest upgraded = same;
  upgraded.facts.agent_version = "4.0.1";
  upgraded.facts.public_ip = "54.0.0.7";
  f.clock().Advance(absl::Seconds(30));
  again(upgraded);
  CHECK(registration().facts == upgraded.facts);
  CHECK(registration().last_seen_at == f.clock().Now());

  // A registration last seen going offline comes back online.
  REQUIRE(f.controller().Heartbeat(t, a.registration_id, {HeartbeatStatus::kOffline}).ok());
  again(upgraded);
  CHECK(registration().last_status == HeartbeatStatus::kOnline);

  // The standby registers again as the standby; nothing moves.
  const RegisterRequest replica_request =
      ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(9), "us-east-1c");
  const absl::StatusOr<RegisterResult> first = f.controller().Register(t, replica_request);
  REQUIRE(first.ok());
  CHECK(first->created);
  f.clock().Advance(absl::Seconds(30));
  const RegisterResult second = again(replica_request);
  CHECK(second.registration.registration.id == first->registration.registration.id);
  CHECK(second.registration.role == Role::kReplica);
  CHECK(second.registration.registration.last_seen_at == f.clock().Now());
  CHECK(second.agent.placement.instance_id == InstanceId(1));
  CHECK(f.controller().ListReplicas(t, a.agent_id)->front().state == standby.state);
  CHECK(f.controller().GetAgent(t, a.agent_id)->registrations.size() == 2);
}

// A second SqliteStore handle on a fixture's file, standing for another process: it
// sees what was written to the file, not what the fixture's store holds.
class OtherProcess {
 public:
  explicit OtherProcess(ServiceFixture& f) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(f.db_path());
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    store_ = *std::move(opened);
  }
  spotopt::Registration Registration(std::string_view id) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store_->Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    absl::StatusOr<spotopt::Registration> r = (*tx)->GetRegistration(id);
    REQUIRE(r.ok());
    return *r;
  }

 private:
  std::unique_ptr<SqliteStore> store_;
};

TEST_CASE("registering again unchanged is held like a renewing beat") {
  ServiceFixture f(testing::StoreKind::kSqlite);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  OtherProcess other(f);
  const auto stored = [&] { return other.Registration(a.registration_id); };
  f.clock().Advance(absl::Seconds(30));
  f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  CHECK(stored().last_seen_at == testing::TestEpoch());
  REQUIRE(f.controller().Tick(f.clock().Now()).ok());
  CHECK(stored().last_seen_at == testing::TestEpoch() + absl::Seconds(30));
}

TEST_CASE_TEMPLATE("deleted is final", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Command sw = f.EnqueueSwitch(a, "us-east-1c");
  const Replica standby = f.MakeReplica(a, InstanceId(9));
  REQUIRE(f.controller().DeleteAgent(t, a.agent_id).ok());
  CHECK(f.controller().GetCommand(t, sw.id)->state == CommandState::kCancelled);
  auto replicas = f.controller().ListReplicas(t, a.agent_id);
  REQUIRE(replicas->size() == 1);
  CHECK(replicas->front().id == standby.id);
  CHECK(replicas->front().state == ReplicaState::kTerminating);
  CHECK(absl::IsNotFound(
      f.controller().Heartbeat(t, a.registration_id, {HeartbeatStatus::kOnline}).status()));
  CHECK(absl::IsNotFound(f.controller().PollCommand(t, a.registration_id).status()));
  const std::string before = f.Dump();
  auto again = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(1)));
  CHECK(absl::IsFailedPrecondition(again.status()));
  CHECK(f.Dump() == before);
  CHECK(absl::IsNotFound(f.controller().DeleteAgent(t, a.agent_id)));
}

// ---- Liveness and config -----------------------------------------------------------

TEST_CASE_TEMPLATE("liveness moves with the clock and an offline beat", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const auto liveness = [&] { return f.controller().GetAgent(t, a.agent_id)->liveness; };
  CHECK(liveness() == Liveness::kOnline);
  f.clock().Advance(absl::Seconds(60));
  CHECK(liveness() == Liveness::kOnline);
  f.clock().Advance(absl::Seconds(1));
  CHECK(liveness() == Liveness::kStale);
  f.clock().Advance(absl::Seconds(60));
  CHECK(liveness() == Liveness::kOffline);
  REQUIRE(f.controller().Heartbeat(t, a.registration_id, {HeartbeatStatus::kOnline}).ok());
  CHECK(liveness() == Liveness::kOnline);
  REQUIRE(f.controller().Heartbeat(t, a.registration_id, {HeartbeatStatus::kOffline}).ok());
  CHECK(liveness() == Liveness::kOffline);
}

TEST_CASE("a beat that only renews liveness may be held; a status change is written at once") {
  ServiceFixture f(testing::StoreKind::kSqlite);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  OtherProcess other(f);
  const auto stored = [&] { return other.Registration(a.registration_id); };
  const auto here = [&] {
    return f.controller().GetRegistration(t, a.registration_id)->registration.last_seen_at;
  };

  f.clock().Advance(absl::Seconds(30));
  REQUIRE(f.controller().Heartbeat(t, a.registration_id, {HeartbeatStatus::kOnline}).ok());
  CHECK(here() == testing::TestEpoch() + absl::Seconds(30));
  CHECK(stored().last_seen_at == testing::TestEpoch());
  REQUIRE(f.controller().Tick(f.clock().Now()).ok());
  CHECK(stored().last_seen_at == testing::TestEpoch() + absl::Seconds(30));

  f.clock().Advance(absl::Seconds(30));
  REQUIRE(f.controller().Heartbeat(t, a.registration_id, {HeartbeatStatus::kDisabled}).ok());
  CHECK(stored().last_status == HeartbeatStatus::kDisabled);
  CHECK(stored().last_seen_at == testing::TestEpoch() + absl::Seconds(60));

  // New facts are written at once as well.
  f.clock().Advance(absl::Seconds(30));
  HeartbeatReport moved{HeartbeatStatus::kDisabled};
  moved.az = "us-east-1b";
  REQUIRE(f.controller().Heartbeat(t, a.registration_id, moved).ok());
  CHECK(stored().facts.az == "us-east-1b");
}

TEST_CASE_TEMPLATE("config: read-after-write is exact, versions guard concurrent writers", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  auto patch = ParseConfigPatchJson(
      R"({"enabled": false, "replica_mode": "manual_standby", "risk_threshold": 0.123456789,
          "min_pool_duration_hours": 0.5})");
  REQUIRE(patch.ok());
  auto written = f.controller().UpdateConfig(t, a.agent_id, *patch, 1);
  REQUIRE(written.ok());
  CHECK(written->version == 2);
  const auto read = f.controller().GetConfigForRegistration(t, a.registration_id);
  REQUIRE(read.ok());
  CHECK(read->config == *written);
  CHECK(read->config.risk_threshold == 0.123456789);
  CHECK_FALSE(read->config.enabled);
  CHECK(read->live_replicas == 0);
  const std::string before = f.Dump();
  CHECK(absl::IsFailedPrecondition(f.controller().UpdateConfig(t, a.agent_id, *patch, 1).status()));
  CHECK(f.Dump() == before);
}

// ---- Commands (protocol section 6) ---------------------------------------------------

TEST_CASE_TEMPLATE("delivery is at most once, by priority then creation order", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  f.Configure(a, {.replica_mode = ReplicaMode::kManualStandby});
  auto replica_cmd =
      f.controller().EnqueueCreateReplica(t, a.agent_id, {.pool_id = PoolId("us-east-1b")});
  REQUIRE(replica_cmd.ok());
  f.clock().Advance(absl::Seconds(1));
  SwitchRequest emergency{.target_mode = Mode::kOnDemand, .priority = Priority::kEmergency};
  emergency.reason = "termination risk";
  auto urgent = f.controller().EnqueueSwitch(t, a.agent_id, emergency);
  REQUIRE(urgent.ok());

  const Command first = f.PollExpectingCommand(a);
  CHECK(first.id == urgent->id);  // priority 100 before 75, though created later
  CHECK(first.target_pool_id == std::nullopt);
  // While it is leased nothing else is delivered.
  CHECK_FALSE(f.controller().PollCommand(t, a.registration_id)->has_value());
  auto acked = f.controller().AckCommand(t, a.registration_id, first.id, false, "Switch failed");
  REQUIRE(acked.ok());
  CHECK(acked->state == CommandState::kFailed);
  const Command second = f.PollExpectingCommand(a);
  CHECK(second.id == replica_cmd->id);
  CHECK(second.type == CommandType::kCreateReplica);
  CHECK(second.terminate_wait_seconds == 0);
  // A delivered command is never delivered again, even without an ack and after
  // its lease expired.
  f.clock().Advance(absl::Hours(2));
  REQUIRE(f.controller().Tick(f.clock().Now()).ok());
  CHECK(f.controller().GetCommand(t, second.id)->state == CommandState::kExpired);
  CHECK_FALSE(f.controller().PollCommand(t, a.registration_id)->has_value());
}

TEST_CASE_TEMPLATE("acks name the lease; repeats change nothing", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const AgentHandle other = f.RegisterAgent(t, "checkout-api-1", InstanceId(2));
  const Command sw = f.EnqueueSwitch(a, "us-east-1c");

  std::string before = f.Dump();
  CHECK(absl::IsFailedPrecondition(
      f.controller().AckCommand(t, a.registration_id, sw.id, true, "never delivered").status()));
  CHECK(f.Dump() == before);

  f.PollExpectingCommand(a);
  before = f.Dump();
  CHECK(absl::IsFailedPrecondition(
      f.controller().AckCommand(t, other.registration_id, sw.id, true, "not mine").status()));
  CHECK(f.Dump() == before);

  auto ok = f.controller().AckCommand(t, a.registration_id, sw.id, true, "Switch completed");
  REQUIRE(ok.ok());
  CHECK(ok->state == CommandState::kSucceeded);
  CHECK(ok->result_message == "Switch completed");
  before = f.Dump();
  CHECK(f.controller().AckCommand(t, a.registration_id, sw.id, true, "again")->state ==
        CommandState::kSucceeded);
  CHECK(f.Dump() == before);
  // A contradicting late ack is flagged for the operator, the outcome stays.
  CHECK(f.controller().AckCommand(t, a.registration_id, sw.id, false, "Switch failed")->state ==
        CommandState::kSucceeded);
  const auto events = f.controller().ListEvents(t, a.agent_id);
  CHECK(std::count_if(events->begin(), events->end(),
                      [](const AgentEvent& e) { return e.kind == EventKind::kLateAck; }) == 1);
}

TEST_CASE_TEMPLATE("enqueue guards: one placement command, dedup, priorities, TTL", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  Controller& c = f.controller();

  const Command first = f.EnqueueSwitch(a, "us-east-1c");
  const Command dup = f.EnqueueSwitch(a, "us-east-1c");
  CHECK(dup.id == first.id);  // dedup key: the identical pending command

  // A lower priority cannot replace it; an equal or higher one supersedes it.
  SwitchRequest scheduled{.target_mode = Mode::kSpot,
                          .target_pool_id = PoolId("us-east-1b"),
                          .priority = Priority::kEmergency};
  f.Configure(a, {.max_switches_per_day = 5});
  CHECK(c.EnqueueSwitch(t, a.agent_id, scheduled).ok());
  CHECK(c.GetCommand(t, first.id)->state == CommandState::kCancelled);
  SwitchRequest lower{
      .target_mode = Mode::kOnDemand, .priority = Priority::kManual, .override_limits = true};
  CHECK(absl::IsFailedPrecondition(c.EnqueueSwitch(t, a.agent_id, lower).status()));

  // Automatic switches need auto_switch, the caps and the decision's numbers.
  SwitchRequest automatic{.target_mode = Mode::kSpot,
                          .target_pool_id = PoolId("us-east-1d"),
                          .priority = Priority::kNormal};
  automatic.expected_savings_percent = 10;
  automatic.target_risk = 0.1;
  CHECK(absl::IsFailedPrecondition(c.EnqueueSwitch(t, a.agent_id, automatic).status()));

  // TTL: a pending command past it is never delivered and ends EXPIRED.
  f.clock().Advance(DefaultTtl(Priority::kEmergency) + absl::Seconds(1));
  CHECK_FALSE(c.PollCommand(t, a.registration_id)->has_value());
  auto tick = c.Tick(f.clock().Now());
  REQUIRE(tick.ok());
  CHECK(tick->commands_expired == 1);
  CHECK(c.Tick(f.clock().Now())->commands_expired == 0);  // idempotent

  // Nothing for a disabled agent.
  f.EnqueueSwitch(a, "us-east-1c");
  REQUIRE(c.SetEnabled(t, a.agent_id, false).ok());
  CHECK_FALSE(c.PollCommand(t, a.registration_id)->has_value());
  CHECK(absl::IsFailedPrecondition(c.EnqueueSwitch(t, a.agent_id, lower).status()));
}

TEST_CASE_TEMPLATE("terminate wait on the wire follows the config", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  f.Configure(a, {.terminate_wait_seconds = 0});
  CHECK(f.EnqueueSwitch(a, "us-east-1c").terminate_wait_seconds == 1);
  f.Configure(a, {.auto_terminate = false});
  CHECK(f.EnqueueSwitch(a, "us-east-1b").terminate_wait_seconds == 0);
}

// ---- Replicas (protocol section 7) ------------------------------------------------------

TEST_CASE_TEMPLATE("replica lifecycle: listing lease, instance, ready, promotion", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Command old_cmd = f.EnqueueSwitch(a, "us-east-1b");
  const Replica ready = f.MakeReplica(a, InstanceId(7), "us-east-1c");
  CHECK(ready.entered_at[static_cast<size_t>(ReplicaState::kReady)].has_value());
  // The listing leases once: a second poll gets nothing.
  CHECK(f.controller().LeaseReplicaLaunches(t, a.registration_id)->empty());
  // At most one live replica.
  CHECK(absl::IsFailedPrecondition(f.controller().RequestReplica(t, a.agent_id, {}).status()));
  // ready -> syncing is refused and changes nothing.
  const std::string before = f.Dump();
  CHECK(absl::IsFailedPrecondition(
      f.controller()
          .ReportReplicaStatus(t, a.registration_id, ready.id, ReplicaReport::kSyncing, {}, "")
          .status()));
  CHECK(f.Dump() == before);
  // The replica's own agent registers: role replica, the placement stays.
  auto standby_reg = f.controller().Register(
      t, ServiceFixture::MakeRegisterRequest("checkout-api-1", InstanceId(7), "us-east-1c"));
  REQUIRE(standby_reg.ok());
  CHECK(standby_reg->registration.role == Role::kReplica);
  CHECK(standby_reg->agent.placement.instance_id == InstanceId(1));

  auto promoted = f.controller().PromoteReplica(t, a.agent_id, ready.id);
  REQUIRE(promoted.ok());
  CHECK(promoted->state == ReplicaState::kPromoted);
  const auto agent = f.controller().GetAgent(t, a.agent_id);
  CHECK(agent->agent.placement.instance_id == InstanceId(7));
  CHECK(agent->agent.placement.az == "us-east-1c");
  CHECK(f.controller().GetCommand(t, old_cmd.id)->state == CommandState::kCancelled);
  // The same registration is primary now and receives commands without re-registering.
  CHECK(f.controller().GetRegistration(t, standby_reg->registration.registration.id)->role ==
        Role::kPrimary);
  const AgentHandle promoted_handle{t, a.agent_id, standby_reg->registration.registration.id,
                                    InstanceId(7)};
  f.EnqueueSwitch(promoted_handle, "us-east-1b");
  CHECK(f.controller().PollCommand(t, a.registration_id)->has_value() == false);
  f.PollExpectingCommand(promoted_handle);
}

TEST_CASE_TEMPLATE("promotion guards: instance id, SYNCING only with force in a deadline", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  auto requested = f.controller().RequestReplica(t, a.agent_id, {.pool_id = PoolId("us-east-1c")});
  REQUIRE(requested.ok());
  CHECK(absl::IsFailedPrecondition(
      f.controller().PromoteReplica(t, a.agent_id, requested->id, true).status()));
  auto cancelled = f.controller().TerminateReplica(t, a.agent_id, requested->id);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state == ReplicaState::kFailed);  // never launched: nothing to wait for

  const Replica syncing = f.MakeReplica(a, InstanceId(8), "us-east-1c", ReplicaState::kSyncing);
  CHECK(absl::IsFailedPrecondition(
      f.controller().PromoteReplica(t, a.agent_id, syncing.id).status()));
  CHECK(absl::IsFailedPrecondition(
      f.controller().PromoteReplica(t, a.agent_id, syncing.id, true).status()));
  SignalReport notice{.signal = Signal::kTerminationNotice,
                      .notice_time = f.clock().Now() + absl::Seconds(120)};
  REQUIRE(f.controller().RecordSignal(t, a.registration_id, notice).ok());
  auto forced = f.controller().PromoteReplica(t, a.agent_id, syncing.id, true);
  REQUIRE(forced.ok());
  CHECK(forced->forced_promotion);
  CHECK(f.controller().GetAgent(t, a.agent_id)->agent.placement.instance_id == InstanceId(8));
}

TEST_CASE_TEMPLATE("a PUT for a replica that does not take it records an orphan", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Replica r = f.MakeReplica(a, InstanceId(7));
  auto again = f.controller().ReportReplicaInstance(t, a.registration_id, r.id, InstanceId(7),
                                                    ReplicaReport::kSyncing);
  CHECK(again.ok());  // the same instance again: no change
  auto second = f.controller().ReportReplicaInstance(t, a.registration_id, r.id, InstanceId(8),
                                                     ReplicaReport::kSyncing);
  CHECK(absl::IsFailedPrecondition(second.status()));
  const auto events = f.controller().ListEvents(t, a.agent_id);
  REQUIRE(events.ok());
  CHECK(std::any_of(events->begin(), events->end(), [](const AgentEvent& e) {
    return e.kind == EventKind::kOrphanInstance && e.instance_id == InstanceId(8);
  }));
  CHECK(f.controller().ListReplicas(t, a.agent_id)->front().instance_id == InstanceId(7));
}

TEST_CASE_TEMPLATE("tick times out replica launches and syncs", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  auto r = f.controller().RequestReplica(t, a.agent_id, {.pool_id = PoolId("us-east-1c")});
  REQUIRE(f.controller().LeaseReplicaLaunches(t, a.registration_id)->size() == 1);
  f.clock().Advance(f.controller().options().replica_launch_timeout);
  auto tick = f.controller().Tick(f.clock().Now());
  REQUIRE(tick.ok());
  CHECK(tick->replicas_failed == 1);
  auto failed = f.controller().ListReplicas(t, a.agent_id)->front();
  CHECK(failed.state == ReplicaState::kFailed);
  CHECK(failed.error == "launch not confirmed");

  const Replica syncing = f.MakeReplica(a, InstanceId(5), "us-east-1c", ReplicaState::kSyncing);
  f.clock().Advance(f.controller().options().replica_sync_timeout);
  CHECK(f.controller().Tick(f.clock().Now())->replicas_failed == 1);
  const auto events = f.controller().ListEvents(t, a.agent_id);
  CHECK(std::any_of(events->begin(), events->end(), [](const AgentEvent& e) {
    return e.kind == EventKind::kOrphanInstance && e.instance_id == InstanceId(5);
  }));
}

TEST_CASE_TEMPLATE("manual standby upkeep requests one standby, within its budget", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  f.Configure(a, {.replica_mode = ReplicaMode::kManualStandby});
  CHECK(f.controller().Tick(f.clock().Now())->replicas_requested == 1);
  CHECK(f.controller().Tick(f.clock().Now())->replicas_requested == 0);
  // Each request fails unpicked; after three in an hour the budget stops upkeep.
  for (int i = 0; i < 3; ++i) {
    f.clock().Advance(f.controller().options().replica_requested_timeout);
    REQUIRE(f.controller().Tick(f.clock().Now()).ok());
  }
  const auto replicas = f.controller().ListReplicas(t, a.agent_id);
  CHECK(replicas->size() == 3);
  CHECK(std::none_of(replicas->begin(), replicas->end(),
                     [](const Replica& r) { return IsLive(r.state); }));
}

// ---- Incidents (protocol section 8) -----------------------------------------------------

TEST_CASE_TEMPLATE("a repeated signal updates the same incident", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Time termination = f.clock().Now() + absl::Seconds(118);
  SignalReport notice{.signal = Signal::kTerminationNotice, .notice_time = termination};
  auto first = f.controller().RecordSignal(t, a.registration_id, notice);
  REQUIRE(first.ok());
  CHECK_FALSE(first->repeat);
  CHECK(first->incident.deadline == termination);
  for (int i = 0; i < 49; ++i) {
    f.clock().Advance(absl::Milliseconds(100));
    auto again = f.controller().RecordSignal(t, a.registration_id, notice);
    REQUIRE(again.ok());
    CHECK(again->repeat);
    CHECK(again->incident.id == first->incident.id);
  }
  auto incidents = f.controller().ListIncidents(t, a.agent_id);
  REQUIRE(incidents->size() == 1);
  CHECK(incidents->front().repeat_count == 49);

  // A rebalance recommendation without a time: the open incident absorbs repeats
  // until it has been quiet for two hours.
  SignalReport rebalance{.signal = Signal::kRebalanceRecommendation};
  auto r1 = f.controller().RecordSignal(t, a.registration_id, rebalance);
  auto r2 = f.controller().RecordSignal(t, a.registration_id, rebalance);
  CHECK(r1->incident.id == r2->incident.id);
  f.clock().Advance(absl::Hours(2));
  CHECK(f.controller().Tick(f.clock().Now())->incidents_closed == 1);
  auto r3 = f.controller().RecordSignal(t, a.registration_id, rebalance);
  CHECK(r3->incident.id != r1->incident.id);
  // Another instance's signal cannot be reported by this registration.
  rebalance.instance_id = InstanceId(4);
  CHECK(absl::IsFailedPrecondition(
      f.controller().RecordSignal(t, a.registration_id, rebalance).status()));
}

TEST_CASE_TEMPLATE("a signal from the standby marks the standby lost", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string t = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(t, "checkout-api-1", InstanceId(1));
  const Replica r = f.MakeReplica(a, InstanceId(7));
  const AgentHandle standby = f.RegisterAgent(t, "checkout-api-1", InstanceId(7), "us-east-1c");
  auto result = f.controller().RecordSignal(t, standby.registration_id,
                                            {.signal = Signal::kTerminationNotice});
  REQUIRE(result.ok());
  CHECK(result->incident.replica_id == r.id);
  CHECK(result->incident.deadline == f.clock().Now() + kTerminationNoticeLead);
  CHECK(f.controller().ListReplicas(t, a.agent_id)->front().state == ReplicaState::kFailed);
  CHECK(f.controller().GetAgent(t, a.agent_id)->agent.placement.instance_id == InstanceId(1));
}

}  // namespace
}  // namespace spotopt
