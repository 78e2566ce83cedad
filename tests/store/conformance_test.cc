// The Store contract (include/spotopt/store/store.h), checked the same way against
// every implementation: each TEST_CASE_TEMPLATE runs once per store fixture.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

#include <doctest/doctest.h>

#include "spotopt/store/memory_store.h"
#include "spotopt/store/postgres_store.h"
#include "spotopt/store/sqlite_store.h"
#include "spotopt/store/store.h"
#include "tests/pg/pg_fixture.h"

namespace spotopt {
namespace {

using absl::StatusCode;

// kSeqsRollBack: whether a rolled-back or refused insert gives its seq back (store.h).
struct MemoryFixture {
  static constexpr bool kSeqsRollBack = true;
  std::unique_ptr<Store> store = std::make_unique<MemoryStore>();
};

// A fresh database file per test, removed afterwards.
struct SqliteFixture {
  static constexpr bool kSeqsRollBack = true;
  SqliteFixture() {
    static std::atomic<int> counter{0};
    path = (std::filesystem::temp_directory_path() /
            ("spotopt_conformance_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
             ".db"))
               .string();
    RemoveFiles();
    absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(path);
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    store = std::move(*opened);
  }
  ~SqliteFixture() {
    store.reset();
    RemoveFiles();
  }
  SqliteFixture(const SqliteFixture&) = delete;
  SqliteFixture& operator=(const SqliteFixture&) = delete;

  void RemoveFiles() const {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path + suffix);
    }
  }

  std::string path;
  std::unique_ptr<Store> store;
};

// A fresh schema per test in the fixture server (tests/pg/pg_fixture.h).
// Its seqs come from sequences, which do not roll back.
struct PostgresFixture {
  static constexpr bool kSeqsRollBack = false;
  PostgresFixture() {
    absl::StatusOr<std::unique_ptr<PostgresStore>> opened = PostgresStore::Open(schema.conninfo());
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    store = std::move(*opened);
  }
  ~PostgresFixture() { store.reset(); }  // before the schema goes
  PostgresFixture(const PostgresFixture&) = delete;
  PostgresFixture& operator=(const PostgresFixture&) = delete;

  testing::PgSchema schema;
  std::unique_ptr<Store> store;
};

}  // namespace
}  // namespace spotopt

TYPE_TO_STRING(spotopt::MemoryFixture);
TYPE_TO_STRING(spotopt::SqliteFixture);
TYPE_TO_STRING(spotopt::PostgresFixture);

namespace spotopt {
namespace {

#define STORE_FIXTURES MemoryFixture, SqliteFixture, PostgresFixture

const Time kT0 = absl::FromUnixSeconds(1'750'000'000);
Time At(int64_t seconds) { return kT0 + absl::Seconds(seconds); }

// The seq an insert gets when `n` is next and `skipped` numbers before it went to
// inserts that were rolled back or refused: `n` again where seqs roll back, the
// number after them where they do not.
template <class F>
int64_t After(int64_t n, int64_t skipped) {
  return F::kSeqsRollBack ? n : n + skipped;
}

// Runs `body` in one write transaction and commits it.
void Write(Store& store, const std::function<void(Transaction&)>& body) {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kWrite);
  REQUIRE(tx.ok());
  body(**tx);
  absl::Status committed = (*tx)->Commit();
  REQUIRE_MESSAGE(committed.ok(), committed.ToString());
}

std::unique_ptr<Transaction> Read(Store& store) {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
  REQUIRE(tx.ok());
  return std::move(*tx);
}

#define CHECK_OK(expr)                               \
  do {                                               \
    absl::Status status_ = (expr);                   \
    CHECK_MESSAGE(status_.ok(), status_.ToString()); \
  } while (false)
#define REQUIRE_OK(expr)                               \
  do {                                                 \
    absl::Status status_ = (expr);                     \
    REQUIRE_MESSAGE(status_.ok(), status_.ToString()); \
  } while (false)

template <typename T>
StatusCode CodeOf(const absl::StatusOr<T>& r) {
  return r.status().code();
}
StatusCode CodeOf(const absl::Status& s) { return s.code(); }

template <typename T>
T Value(absl::StatusOr<T> r) {
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *std::move(r);
}

template <typename R>
std::vector<std::string> Ids(const std::vector<R>& records) {
  std::vector<std::string> ids;
  for (const R& r : records) ids.push_back(r.id);
  return ids;
}
using Strings = std::vector<std::string>;

// Every field of each record, for field-by-field comparison.
auto Fields(const Tenant& t) {
  return std::tie(t.id, t.name, t.state, t.created_at, t.updated_at, t.engine, t.previous_engine);
}
auto Fields(const ApiToken& t) {
  return std::tie(t.prefix, t.tenant_id, t.salt, t.hash, t.created_at, t.expires_at);
}
auto Fields(const Agent& a) {
  return std::tie(a.id, a.tenant_id, a.logical_id, a.lifecycle, a.placement, a.placement_since,
                  a.config, a.fallback_identity, a.created_at, a.updated_at);
}
auto Fields(const AgentAlias& a) {
  return std::tie(a.tenant_id, a.logical_id, a.agent_id, a.created_at);
}
auto Fields(const Registration& r) {
  return std::tie(r.id, r.tenant_id, r.agent_id, r.instance_id, r.facts, r.instance_state,
                  r.created_at, r.last_seen_at, r.last_status, r.last_cleanup_at);
}
auto Fields(const Command& c) {
  return std::tie(c.id, c.tenant_id, c.agent_id, c.seq, c.type, c.priority, c.state, c.target_mode,
                  c.target_pool_id, c.terminate_wait_seconds, c.reason, c.requested_by,
                  c.override_limits, c.issued_for_instance, c.dedup_key, c.replica_id, c.created_at,
                  c.expires_at, c.lease_holder, c.leased_at, c.lease_expires_at, c.closed_at,
                  c.result_message);
}
auto Fields(const Replica& r) {
  return std::tie(r.id, r.tenant_id, r.agent_id, r.state, r.instance_id, r.pool, r.replica_type,
                  r.launch_path, r.command_id, r.incident_id, r.lease_holder, r.lease_expires_at,
                  r.forced_promotion, r.error, r.created_at, r.updated_at, r.entered_at);
}
auto Fields(const Incident& i) {
  return std::tie(i.id, i.tenant_id, i.agent_id, i.instance_id, i.pool, i.signal, i.notice_time,
                  i.deadline, i.first_seen, i.last_seen, i.repeat_count, i.closed_at, i.detected_at,
                  i.decided_at, i.promoted_at, i.healthy_at, i.decision, i.replica_id,
                  i.command_id);
}
auto Fields(const decision::DecisionRecord& r) {
  return std::tie(r.seq, r.id, r.tenant_id, r.agent_id, r.decided_at, r.trigger, r.decision,
                  r.inputs, r.engine_asked, r.fallback, r.acted, r.command_id, r.replica_id,
                  r.outcome);
}

auto Fields(const AgentEvent& e) {
  return std::tie(e.id, e.tenant_id, e.agent_id, e.kind, e.instance_id, e.detail, e.at);
}

template <typename T>
void CheckField(size_t index, const T& got, const T& want) {
  INFO("field #", index);
  CHECK(got == want);
}

template <typename R>
void CheckSame(const R& got, const R& want) {
  auto a = Fields(got);
  auto b = Fields(want);
  [&]<size_t... I>(std::index_sequence<I...>) {
    (CheckField(I, std::get<I>(a), std::get<I>(b)), ...);
  }
  (std::make_index_sequence<std::tuple_size_v<decltype(a)>>());
}

// Minimal valid records; tests set what they look at.
Tenant MakeTenant(std::string id) {
  Tenant t;
  t.id = std::move(id);
  t.name = "name of " + t.id;
  t.created_at = kT0;
  t.updated_at = kT0;
  return t;
}

ApiToken MakeToken(std::string prefix, std::string tenant_id, Time created_at) {
  ApiToken t;
  t.prefix = std::move(prefix);
  t.tenant_id = std::move(tenant_id);
  t.salt = "00112233445566778899aabbccddeeff";
  t.hash = "ab";
  t.created_at = created_at;
  return t;
}

Agent MakeAgent(std::string id, std::string tenant_id, std::string logical_id) {
  Agent a;
  a.id = std::move(id);
  a.tenant_id = std::move(tenant_id);
  a.logical_id = std::move(logical_id);
  a.placement = {"i-0000000000000000a", "m5.large", "us-east-1", "us-east-1a", Mode::kSpot};
  a.created_at = kT0;
  a.updated_at = kT0;
  return a;
}

Registration MakeRegistration(std::string id, std::string agent_id, std::string instance_id,
                              Time created_at) {
  Registration r;
  r.id = std::move(id);
  r.tenant_id = "t1";
  r.agent_id = std::move(agent_id);
  r.instance_id = std::move(instance_id);
  r.created_at = created_at;
  r.last_seen_at = created_at;
  return r;
}

Command MakeCommand(std::string id, std::string agent_id, CommandType type, CommandState state,
                    Priority priority = Priority::kNormal, Time created_at = kT0) {
  Command c;
  c.id = std::move(id);
  c.tenant_id = "t1";
  c.agent_id = std::move(agent_id);
  c.type = type;
  c.priority = priority;
  c.state = state;
  c.issued_for_instance = "i-0000000000000000a";
  c.dedup_key = "dedup-" + c.id;
  c.created_at = created_at;
  c.expires_at = created_at + absl::Minutes(30);
  if (state == CommandState::kLeased) {
    c.lease_holder = "reg-1";
    c.leased_at = created_at;
    c.lease_expires_at = created_at + absl::Minutes(15);
  }
  return c;
}

Replica MakeReplica(std::string id, std::string agent_id, ReplicaState state,
                    Time created_at = kT0) {
  Replica r;
  r.id = std::move(id);
  r.tenant_id = "t1";
  r.agent_id = std::move(agent_id);
  r.state = state;
  r.pool = {"us-east-1", "us-east-1b", "m5.large"};
  r.replica_type = "standby";
  r.created_at = created_at;
  r.updated_at = created_at;
  return r;
}

Incident MakeIncident(std::string id, std::string agent_id, Time first_seen) {
  Incident i;
  i.id = std::move(id);
  i.tenant_id = "t1";
  i.agent_id = std::move(agent_id);
  i.instance_id = "i-0000000000000000a";
  i.notice_time = first_seen;
  i.first_seen = first_seen;
  i.last_seen = first_seen;
  return i;
}

decision::DecisionRecord MakeDecision(std::string id, std::string tenant_id, std::string agent_id,
                                      Time at, decision::Action action = decision::Action::kStay) {
  decision::DecisionRecord d;
  d.id = std::move(id);
  d.tenant_id = std::move(tenant_id);
  d.agent_id = std::move(agent_id);
  d.decided_at = at;
  d.decision.action = action;
  if (action == decision::Action::kSwitchSpot)
    d.decision.target = Pool{"us-east-1", "us-east-1b", "m5.large"};
  d.decision.engine = "rules";
  d.decision.engine_version = "1.0.0";
  return d;
}

AgentEvent MakeEvent(std::string id, std::string agent_id, Time at) {
  AgentEvent e;
  e.id = std::move(id);
  e.tenant_id = "t1";
  e.agent_id = std::move(agent_id);
  e.kind = EventKind::kRehome;
  e.detail = "detail";
  e.at = at;
  return e;
}

// Records with every field set to a non-default value.
Tenant FullTenant() {
  Tenant t = MakeTenant("t-full");
  t.name = "Full Tenant \xc3\xa9";
  t.state = TenantState::kSuspended;
  t.created_at = At(1) + absl::Microseconds(7);
  t.updated_at = At(2);
  t.engine = EngineRef{"model", "2026.12.0", std::string(64, 'c')};
  t.previous_engine = EngineRef{"rules", "1.0.0", std::string(64, 'd')};
  return t;
}

ApiToken FullToken() {
  ApiToken t = MakeToken("abcd1234", "t1", At(3) + absl::Microseconds(1));
  t.hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  t.expires_at = At(86'400);
  return t;
}

Agent FullAgent() {
  Agent a = MakeAgent("a-full", "t1", "logical-full");
  a.lifecycle = Lifecycle::kDeleted;
  a.placement = {"i-0123456789abcdef0", "c6i.xlarge", "eu-west-1", "eu-west-1c", Mode::kOnDemand};
  a.placement_since = At(3) + absl::Microseconds(42);
  a.config.version = 7;
  a.config.enabled = false;
  a.config.auto_switch = false;
  a.config.replica_mode = ReplicaMode::kManualStandby;
  a.config.auto_terminate = false;
  a.config.terminate_wait_seconds = 0;
  a.config.min_savings_percent = 12.5;
  a.config.ondemand_fallback_ratio = 0.65;
  a.config.ondemand_return_ratio = 0.55;
  a.config.risk_threshold = 0.125;
  a.config.max_switches_per_day = 9;
  a.config.max_switches_per_week = 40;
  a.config.min_pool_duration_hours = 0.75;
  a.config.compatible_instance_types = {"c6a.xlarge", "c5.xlarge"};
  a.fallback_identity = true;
  a.created_at = At(4) + absl::Microseconds(123'456);
  a.updated_at = At(5);
  return a;
}

AgentAlias FullAlias() { return AgentAlias{"t1", "i-0fedcba9876543210", "a-full", At(6)}; }

Registration FullRegistration() {
  Registration r = MakeRegistration("r-full", "a-full", "i-0123456789abcdef0", At(7));
  r.facts = {"host-1",   "c6i.xlarge", "eu-west-1c", "ami-0123",
             "10.0.0.1", "54.1.2.3",   "4.2.0",      Mode::kOnDemand};
  r.instance_state = InstanceState::kTerminating;
  r.last_seen_at = At(8);
  r.last_status = HeartbeatStatus::kDisabled;
  r.last_cleanup_at = At(24);
  return r;
}

Command FullCommand() {
  Command c = MakeCommand("c-full", "a-full", CommandType::kCreateReplica, CommandState::kFailed,
                          Priority::kEmergency, At(9));
  c.target_mode = Mode::kOnDemand;
  c.target_pool_id = "c6i.xlarge.eu-west-1a";
  c.terminate_wait_seconds = 301;
  c.reason = "risk above ceiling";
  c.requested_by = "operator@example.com";
  c.override_limits = true;
  c.issued_for_instance = "i-0123456789abcdef0";
  c.dedup_key = "create_replica:c6i.xlarge.eu-west-1a";
  c.replica_id = "p-full";
  c.expires_at = At(309);
  c.lease_holder = "r-full";
  c.leased_at = At(10);
  c.lease_expires_at = At(910);
  c.closed_at = At(11);
  c.result_message = "launch failed: InsufficientInstanceCapacity";
  return c;
}

Replica FullReplica() {
  Replica r = MakeReplica("p-full", "a-full", ReplicaState::kTerminating, At(12));
  r.instance_id = "i-0aaaaaaaaaaaaaaaa";
  r.pool = {"eu-west-1", "eu-west-1b", "c6i.xlarge"};
  r.replica_type = "automatic-termination";
  r.launch_path = LaunchPath::kCommand;
  r.command_id = "c-full";
  r.incident_id = "n-full";
  r.lease_holder = "r-full";
  r.lease_expires_at = At(13);
  r.forced_promotion = true;
  r.error = "sync timed out";
  r.updated_at = At(14);
  for (int s = 0; s < kReplicaStateCount; ++s) r.entered_at[s] = At(100 + s);
  return r;
}

Incident FullIncident() {
  Incident i = MakeIncident("n-full", "a-full", At(15));
  i.instance_id = "i-0123456789abcdef0";
  i.pool = {"eu-west-1", "eu-west-1c", "c6i.xlarge"};
  i.signal = Signal::kRebalanceRecommendation;
  i.notice_time = At(16);
  i.deadline = At(136);
  i.last_seen = At(17);
  i.repeat_count = 4;
  i.closed_at = At(18);
  i.detected_at = At(19);
  i.decided_at = At(20);
  i.promoted_at = At(21);
  i.healthy_at = At(22);
  i.decision = "promote replica p-full";
  i.replica_id = "p-full";
  i.command_id = "c-full";
  return i;
}

AgentEvent FullEvent() {
  AgentEvent e = MakeEvent("e-full", "a-full", At(23) + absl::Microseconds(999'999));
  e.kind = EventKind::kLateAck;
  e.instance_id = "i-0123456789abcdef0";
  e.detail = "ack for c-full after its lease expired \xe2\x9c\x93";
  return e;
}

decision::DecisionRecord FullDecision() {
  decision::DecisionRecord r = MakeDecision(
      "d-full", "t1", "a-full", At(24) + absl::Microseconds(3), decision::Action::kStay);
  r.trigger = decision::Trigger::kRebalance;
  decision::Decision& d = r.decision;
  d.reason = decision::Reason::kCheaperPool;
  d.message = "held \xe2\x9c\x93";
  d.risk = 0.123456789;
  d.expected_savings_micros = -42;
  d.confidence = 0.75;
  d.urgent = true;
  d.engine = "model";
  d.engine_version = "2026.12.0";
  d.guard = decision::Guard::kCooldown;
  d.held_action = decision::Action::kSwitchSpot;
  d.held_target = Pool{"eu-west-1", "eu-west-1b", "c6i.xlarge"};
  r.inputs = R"({"pools":[]})";
  r.engine_asked = "model 2026.12.0";
  r.fallback = "none";
  r.acted = true;
  r.command_id = "c-full";
  r.replica_id = "p-full";
  r.outcome = "switch c-full queued";
  return r;
}

// Tenants t1, t2 and agents a1, a2 (t1), b1 (t2): parents for the per-agent records.
void Seed(Store& store) {
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertTenant(MakeTenant("t1")));
    CHECK_OK(tx.InsertTenant(MakeTenant("t2")));
    CHECK_OK(tx.InsertAgent(MakeAgent("a1", "t1", "web-1")));
    CHECK_OK(tx.InsertAgent(MakeAgent("a2", "t1", "web-2")));
    CHECK_OK(tx.InsertAgent(MakeAgent("b1", "t2", "web-1")));
  });
}

TEST_CASE_TEMPLATE("tenants: insert, get, update, list", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertTenant(MakeTenant("t2")));
    CHECK_OK(tx.InsertTenant(MakeTenant("t1")));
    CHECK_OK(tx.InsertTenant(MakeTenant("t3")));
    CHECK(CodeOf(tx.InsertTenant(MakeTenant("t1"))) == StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.GetTenant("missing")) == StatusCode::kNotFound);
    CHECK(CodeOf(tx.UpdateTenant(MakeTenant("missing"))) == StatusCode::kNotFound);
    Tenant t = MakeTenant("t2");
    t.name = "renamed";
    CHECK_OK(tx.UpdateTenant(t));
  });
  auto tx = Read(store);
  CHECK(Value(tx->GetTenant("t2")).name == "renamed");
  CHECK(Value(tx->GetTenant("t1")).name == "name of t1");
  CHECK(Ids(Value(tx->ListTenants())) == Strings{"t1", "t2", "t3"});
  CHECK(CodeOf(tx->GetTenant("missing")) == StatusCode::kNotFound);
}

TEST_CASE_TEMPLATE("tokens: insert, get, update, list by created_at then prefix", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertToken(MakeToken("pppp0002", "t1", At(10))));
    CHECK_OK(tx.InsertToken(MakeToken("pppp0001", "t1", At(10))));
    CHECK_OK(tx.InsertToken(MakeToken("pppp0000", "t1", At(20))));
    CHECK_OK(tx.InsertToken(MakeToken("pppp0003", "t1", At(5))));
    CHECK_OK(tx.InsertToken(MakeToken("qqqq0000", "t2", At(1))));
    CHECK(CodeOf(tx.InsertToken(MakeToken("pppp0001", "t2", At(1)))) == StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateToken(MakeToken("missing1", "t1", At(1)))) == StatusCode::kNotFound);
    ApiToken rotated = MakeToken("pppp0002", "t1", At(10));
    rotated.expires_at = At(3600);
    CHECK_OK(tx.UpdateToken(rotated));
  });
  auto tx = Read(store);
  CHECK(Value(tx->GetToken("pppp0002")).expires_at == At(3600));
  CHECK(CodeOf(tx->GetToken("missing1")) == StatusCode::kNotFound);
  std::vector<std::string> prefixes;
  for (const ApiToken& t : Value(tx->ListTokens("t1"))) prefixes.push_back(t.prefix);
  CHECK(prefixes == Strings{"pppp0003", "pppp0001", "pppp0002", "pppp0000"});
  CHECK(Value(tx->ListTokens("t2")).size() == 1);
  CHECK(Value(tx->ListTokens("nobody")).empty());
}

TEST_CASE_TEMPLATE("agents: insert, get, find, update, list by id", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertAgent(MakeAgent("a0", "t1", "web-0")));
    CHECK(CodeOf(tx.InsertAgent(MakeAgent("a1", "t1", "other"))) == StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateAgent(MakeAgent("missing", "t1", "x"))) == StatusCode::kNotFound);
    Agent a = MakeAgent("a2", "t1", "web-2-renamed");
    a.config.version = 2;
    CHECK_OK(tx.UpdateAgent(a));
  });
  auto tx = Read(store);
  CHECK(Value(tx->GetAgent("a2")).config.version == 2);
  CHECK(Value(tx->FindAgent("t1", "web-2-renamed")).id == "a2");
  // The old logical id is free again after the update.
  CHECK(CodeOf(tx->FindAgent("t1", "web-2")) == StatusCode::kNotFound);
  CHECK(Value(tx->FindAgent("t2", "web-1")).id == "b1");
  CHECK(Value(tx->FindAgent("t1", "web-1")).id == "a1");
  CHECK(CodeOf(tx->FindAgent("t3", "web-1")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetAgent("missing")) == StatusCode::kNotFound);
  CHECK(Ids(Value(tx->ListAgents("t1"))) == Strings{"a0", "a1", "a2"});
  CHECK(Ids(Value(tx->ListAgents("t2"))) == Strings{"b1"});
  CHECK(Value(tx->ListAgents("nobody")).empty());
}

TEST_CASE_TEMPLATE("agents by replica mode: active agents of every tenant, by id", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);  // a1, a2, b1: default mode (emergency), active
  Write(store, [](Transaction& tx) {
    Agent off = MakeAgent("a3", "t1", "web-3");
    off.config.replica_mode = ReplicaMode::kOff;
    CHECK_OK(tx.InsertAgent(off));
    Agent standby = MakeAgent("a0", "t2", "web-0");
    standby.config.replica_mode = ReplicaMode::kManualStandby;
    CHECK_OK(tx.InsertAgent(standby));
    Agent deleted = MakeAgent("a4", "t1", "web-4");
    deleted.lifecycle = Lifecycle::kDeleted;
    CHECK_OK(tx.InsertAgent(deleted));
  });
  {
    auto tx = Read(store);
    CHECK(Ids(Value(tx->ListAgentsByReplicaMode(ReplicaMode::kEmergency))) ==
          Strings{"a1", "a2", "b1"});
    CHECK(Ids(Value(tx->ListAgentsByReplicaMode(ReplicaMode::kOff))) == Strings{"a3"});
    CHECK(Ids(Value(tx->ListAgentsByReplicaMode(ReplicaMode::kManualStandby))) == Strings{"a0"});
  }
  Write(store, [](Transaction& tx) {
    Agent a1 = Value(tx.GetAgent("a1"));
    a1.config.replica_mode = ReplicaMode::kOff;
    CHECK_OK(tx.UpdateAgent(a1));
    Agent b1 = Value(tx.GetAgent("b1"));
    b1.lifecycle = Lifecycle::kDeleted;
    CHECK_OK(tx.UpdateAgent(b1));
  });
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListAgentsByReplicaMode(ReplicaMode::kEmergency))) == Strings{"a2"});
  CHECK(Ids(Value(tx->ListAgentsByReplicaMode(ReplicaMode::kOff))) == Strings{"a1", "a3"});
}

TEST_CASE_TEMPLATE("aliases: insert, find, list by logical id", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertAlias({"t1", "i-0000000000000000c", "a1", At(1)}));
    CHECK_OK(tx.InsertAlias({"t1", "i-0000000000000000b", "a2", At(2)}));
    CHECK_OK(tx.InsertAlias({"t2", "i-0000000000000000c", "b1", At(3)}));
    CHECK(CodeOf(tx.InsertAlias({"t1", "i-0000000000000000c", "a2", At(4)})) ==
          StatusCode::kAlreadyExists);
  });
  auto tx = Read(store);
  CHECK(Value(tx->FindAlias("t1", "i-0000000000000000c")).agent_id == "a1");
  CHECK(Value(tx->FindAlias("t2", "i-0000000000000000c")).agent_id == "b1");
  CHECK(CodeOf(tx->FindAlias("t2", "i-0000000000000000b")) == StatusCode::kNotFound);
  std::vector<std::string> logical;
  for (const AgentAlias& a : Value(tx->ListAliases("t1"))) logical.push_back(a.logical_id);
  CHECK(logical == Strings{"i-0000000000000000b", "i-0000000000000000c"});
  CHECK(Value(tx->ListAliases("nobody")).empty());
}

TEST_CASE_TEMPLATE("registrations: insert, get, find, update, list by created_at then id", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r-b", "a1", "i-000000000000000b1", At(1))));
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r-a", "a1", "i-000000000000000a1", At(1))));
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r-c", "a1", "i-000000000000000c1", At(0))));
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r-d", "a2", "i-000000000000000b1", At(0))));
    CHECK(CodeOf(tx.InsertRegistration(MakeRegistration("r-a", "a2", "i-000000000000000ff",
                                                        At(0)))) == StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateRegistration(MakeRegistration("missing", "a1", "i-000000000000000ff",
                                                        At(0)))) == StatusCode::kNotFound);
    Registration r = MakeRegistration("r-b", "a1", "i-000000000000000b1", At(1));
    r.last_seen_at = At(60);
    CHECK_OK(tx.UpdateRegistration(r));
  });
  auto tx = Read(store);
  CHECK(Value(tx->GetRegistration("r-b")).last_seen_at == At(60));
  CHECK(Value(tx->FindRegistration("a1", "i-000000000000000b1")).id == "r-b");
  CHECK(Value(tx->FindRegistration("a2", "i-000000000000000b1")).id == "r-d");
  CHECK(CodeOf(tx->FindRegistration("a2", "i-000000000000000a1")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetRegistration("missing")) == StatusCode::kNotFound);
  CHECK(Ids(Value(tx->ListRegistrations("a1"))) == Strings{"r-c", "r-a", "r-b"});
  CHECK(Ids(Value(tx->ListRegistrations("a2"))) == Strings{"r-d"});
  CHECK(Value(tx->ListRegistrations("b1")).empty());
}

TEST_CASE_TEMPLATE("registrations: a touch renews last_seen_at, never backwards", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r-a", "a1", "i-000000000000000a1", At(1))));
  });
  const auto seen = [&store] {
    auto tx = Read(store);
    const Time got = Value(tx->GetRegistration("r-a")).last_seen_at;
    CHECK(Value(tx->FindRegistration("a1", "i-000000000000000a1")).last_seen_at == got);
    CHECK(Value(tx->ListRegistrations("a1")).at(0).last_seen_at == got);
    return got;
  };

  CHECK_OK(store.TouchRegistration("r-a", At(50)));
  CHECK(seen() == At(50));
  CHECK_OK(store.TouchRegistration("r-a", At(10)));
  CHECK(seen() == At(50));
  CHECK_OK(store.TouchRegistration("missing", At(5)));
  CHECK_OK(store.FlushHeld());
  CHECK(seen() == At(50));
  auto tx = Read(store);
  CHECK(CodeOf(tx->GetRegistration("missing")) == StatusCode::kNotFound);
  tx.reset();

  // A full write of the record wins over an older touch, held or not.
  Write(store, [](Transaction& tx) {
    Registration r = Value(tx.GetRegistration("r-a"));
    CHECK(r.last_seen_at == At(50));
    r.last_seen_at = At(80);
    r.instance_state = InstanceState::kTerminating;
    CHECK_OK(tx.UpdateRegistration(r));
  });
  CHECK_OK(store.TouchRegistration("r-a", At(70)));
  CHECK(seen() == At(80));
  CHECK_OK(store.FlushHeld());
  CHECK(seen() == At(80));
  CHECK_OK(store.TouchRegistration("r-a", At(90)));
  CHECK_OK(store.FlushHeld());
  CHECK(seen() == At(90));
  CHECK(Value(Read(store)->GetRegistration("r-a")).instance_state == InstanceState::kTerminating);
}

TEST_CASE_TEMPLATE("commands: insert assigns increasing seq, get, update, not found", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  int64_t first = 0;
  int64_t second = 0;
  Write(store, [&](Transaction& tx) {
    Command c = MakeCommand("c1", "a1", CommandType::kSwitch, CommandState::kPending);
    c.seq = 999;  // ignored: the store assigns it
    first = Value(tx.InsertCommand(c));
    second = Value(tx.InsertCommand(
        MakeCommand("c2", "a2", CommandType::kCreateReplica, CommandState::kPending)));
    CHECK(second > first);
    CHECK(CodeOf(tx.InsertCommand(
              MakeCommand("c1", "a2", CommandType::kCreateReplica, CommandState::kPending))) ==
          StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateCommand(MakeCommand("missing", "a1", CommandType::kSwitch,
                                              CommandState::kPending))) == StatusCode::kNotFound);
    CHECK(Value(tx.GetCommand("c1")).seq == first);
  });
  int64_t third = 0;
  Write(store, [&](Transaction& tx) {
    Command c = Value(tx.GetCommand("c1"));
    c.state = CommandState::kLeased;
    c.lease_holder = "r-1";
    c.leased_at = At(1);
    c.lease_expires_at = At(901);
    CHECK_OK(tx.UpdateCommand(c));
    third = Value(tx.InsertCommand(
        MakeCommand("c3", "a1", CommandType::kCreateReplica, CommandState::kPending)));
  });
  CHECK(third > second);
  auto tx = Read(store);
  Command c1 = Value(tx->GetCommand("c1"));
  CHECK(c1.state == CommandState::kLeased);
  CHECK(c1.lease_expires_at == At(901));
  CHECK(c1.seq == first);
  CHECK(Value(tx->GetCommand("c2")).seq == second);
  CHECK(Value(tx->GetCommand("c3")).seq == third);
  CHECK(CodeOf(tx->GetCommand("missing")) == StatusCode::kNotFound);
}

TEST_CASE_TEMPLATE("commands: listed by priority desc, created asc, seq asc", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const CommandType kReplica = CommandType::kCreateReplica;
  Write(store, [&](Transaction& tx) {
    CHECK(Value(tx.InsertCommand(MakeCommand("c-z", "a1", kReplica, CommandState::kPending,
                                             Priority::kNormal, At(10)))) > 0);
    CHECK(tx.InsertCommand(MakeCommand("c-y", "a1", kReplica, CommandState::kPending,
                                       Priority::kEmergency, At(20)))
              .ok());
    CHECK(tx.InsertCommand(MakeCommand("c-x", "a1", kReplica, CommandState::kSucceeded,
                                       Priority::kNormal, At(5)))
              .ok());
    // Same priority and time as c-z: inserted later, so after it.
    CHECK(tx.InsertCommand(MakeCommand("c-a", "a1", kReplica, CommandState::kPending,
                                       Priority::kNormal, At(10)))
              .ok());
    CHECK(tx.InsertCommand(MakeCommand("c-w", "a1", CommandType::kSwitch, CommandState::kLeased,
                                       Priority::kScheduled, At(0)))
              .ok());
    CHECK(tx.InsertCommand(MakeCommand("c-v", "a2", kReplica, CommandState::kPending,
                                       Priority::kManual, At(0)))
              .ok());
  });
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListCommands("a1"))) == Strings{"c-y", "c-x", "c-z", "c-a", "c-w"});
  CHECK(Ids(Value(tx->ListOpenCommands("a1"))) == Strings{"c-y", "c-z", "c-a", "c-w"});
  CHECK(Ids(Value(tx->ListOpenCommands("a2"))) == Strings{"c-v"});
  CHECK(Value(tx->ListOpenCommands("b1")).empty());
  CHECK(Value(tx->ListCommands("b1")).empty());
}

TEST_CASE_TEMPLATE("commands: due are PENDING past TTL and LEASED past lease", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const Time now = At(1000);
  const CommandType kReplica = CommandType::kCreateReplica;
  Write(store, [&](Transaction& tx) {
    auto pending = [&](std::string id, std::string agent, Time expires, Priority p) {
      Command c =
          MakeCommand(std::move(id), std::move(agent), kReplica, CommandState::kPending, p, At(0));
      c.expires_at = expires;
      CHECK(tx.InsertCommand(c).ok());
    };
    auto leased = [&](std::string id, std::string agent, Time lease_end) {
      Command c = MakeCommand(std::move(id), std::move(agent), kReplica, CommandState::kLeased,
                              Priority::kNormal, At(0));
      c.expires_at = now - absl::Seconds(500);  // a lease is judged by its own expiry
      c.lease_expires_at = lease_end;
      CHECK(tx.InsertCommand(c).ok());
    };
    pending("p-past", "a1", now - absl::Seconds(1), Priority::kNormal);
    pending("p-now", "a1", now, Priority::kUrgent);
    pending("p-future", "a1", now + absl::Seconds(1), Priority::kNormal);
    leased("l-past", "a2", now - absl::Seconds(5));
    leased("l-future", "b1", now + absl::Seconds(5));
    Command closed = MakeCommand("x-closed", "a2", kReplica, CommandState::kExpired,
                                 Priority::kEmergency, At(0));
    closed.expires_at = now - absl::Seconds(100);
    closed.lease_expires_at = now - absl::Seconds(100);
    CHECK(tx.InsertCommand(closed).ok());
  });
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListDueCommands(now))) == Strings{"p-now", "p-past", "l-past"});
  CHECK(Ids(Value(tx->ListDueCommands(now + absl::Seconds(5)))) ==
        Strings{"p-now", "p-past", "p-future", "l-past", "l-future"});
  CHECK(Value(tx->ListDueCommands(At(-10'000))).empty());
}

TEST_CASE_TEMPLATE("replicas: insert, get, update, list, live replicas", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertReplica(MakeReplica("p-b", "a1", ReplicaState::kFailed, At(1))));
    CHECK_OK(tx.InsertReplica(MakeReplica("p-a", "a1", ReplicaState::kTerminated, At(1))));
    CHECK_OK(tx.InsertReplica(MakeReplica("p-c", "a1", ReplicaState::kSyncing, At(0))));
    CHECK_OK(tx.InsertReplica(MakeReplica("p-d", "a2", ReplicaState::kPromoted, At(0))));
    CHECK_OK(tx.InsertReplica(MakeReplica("p-e", "b1", ReplicaState::kRequested, At(0))));
    CHECK(CodeOf(tx.InsertReplica(MakeReplica("p-a", "a2", ReplicaState::kFailed))) ==
          StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateReplica(MakeReplica("missing", "a2", ReplicaState::kFailed))) ==
          StatusCode::kNotFound);
  });
  {
    auto tx = Read(store);
    CHECK(Ids(Value(tx->ListReplicas("a1"))) == Strings{"p-c", "p-a", "p-b"});
    CHECK(Ids(Value(tx->ListLiveReplicas())) == Strings{"p-c", "p-e"});
    CHECK(CodeOf(tx->GetReplica("missing")) == StatusCode::kNotFound);
  }
  Write(store, [](Transaction& tx) {
    Replica p = Value(tx.GetReplica("p-c"));
    p.state = ReplicaState::kReady;
    p.instance_id = "i-0000000000000000e";
    CHECK_OK(tx.UpdateReplica(p));
    Replica e = Value(tx.GetReplica("p-e"));
    e.state = ReplicaState::kFailed;
    CHECK_OK(tx.UpdateReplica(e));
    CHECK_OK(tx.InsertReplica(MakeReplica("p-f", "a2", ReplicaState::kLaunching, At(-1))));
  });
  auto tx = Read(store);
  CHECK(Value(tx->GetReplica("p-c")).state == ReplicaState::kReady);
  CHECK(Ids(Value(tx->ListLiveReplicas())) == Strings{"p-f", "p-c"});
  CHECK(Value(tx->ListReplicas("nobody")).empty());
}

TEST_CASE_TEMPLATE("incidents: insert, get, update, list, open incidents", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertIncident(MakeIncident("n-b", "a1", At(1))));
    CHECK_OK(tx.InsertIncident(MakeIncident("n-a", "a1", At(1))));
    Incident closed = MakeIncident("n-c", "a1", At(0));
    closed.closed_at = At(2);
    CHECK_OK(tx.InsertIncident(closed));
    CHECK_OK(tx.InsertIncident(MakeIncident("n-d", "b1", At(-5))));
    CHECK(CodeOf(tx.InsertIncident(MakeIncident("n-a", "a2", At(0)))) ==
          StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateIncident(MakeIncident("missing", "a2", At(0)))) == StatusCode::kNotFound);
  });
  {
    auto tx = Read(store);
    CHECK(Ids(Value(tx->ListIncidents("a1"))) == Strings{"n-c", "n-a", "n-b"});
    CHECK(Ids(Value(tx->ListOpenIncidents())) == Strings{"n-d", "n-a", "n-b"});
    CHECK(CodeOf(tx->GetIncident("missing")) == StatusCode::kNotFound);
  }
  Write(store, [](Transaction& tx) {
    Incident n = Value(tx.GetIncident("n-a"));
    n.repeat_count = 2;
    n.closed_at = At(50);
    CHECK_OK(tx.UpdateIncident(n));
  });
  auto tx = Read(store);
  CHECK(Value(tx->GetIncident("n-a")).repeat_count == 2);
  CHECK(Ids(Value(tx->ListOpenIncidents())) == Strings{"n-d", "n-b"});
  CHECK(Value(tx->ListIncidents("a2")).empty());
}

TEST_CASE_TEMPLATE("events: insert, duplicate, list by at then id", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertEvent(MakeEvent("e-b", "a1", At(1))));
    CHECK_OK(tx.InsertEvent(MakeEvent("e-a", "a1", At(1))));
    CHECK_OK(tx.InsertEvent(MakeEvent("e-c", "a1", At(0))));
    CHECK_OK(tx.InsertEvent(MakeEvent("e-d", "a2", At(0))));
    CHECK(CodeOf(tx.InsertEvent(MakeEvent("e-a", "a2", At(0)))) == StatusCode::kAlreadyExists);
  });
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListEvents("a1"))) == Strings{"e-c", "e-a", "e-b"});
  CHECK(Ids(Value(tx->ListEvents("a2"))) == Strings{"e-d"});
  CHECK(Value(tx->ListEvents("b1")).empty());
}

PriceObservation MakePrice(std::string tenant_id, std::string az, PriceKind kind, int64_t micros,
                           Time observed_at) {
  PriceObservation o;
  o.tenant_id = std::move(tenant_id);
  o.agent_id = "a1";
  o.registration_id = "r1";
  o.region = "us-east-1";
  o.az = std::move(az);
  o.instance_type = "m5.large";
  o.kind = kind;
  o.price = Money::FromMicros(micros);
  o.observed_at = observed_at;
  o.received_at = observed_at + absl::Seconds(1);
  return o;
}

std::vector<int64_t> Seqs(const std::vector<PriceObservation>& list) {
  std::vector<int64_t> out;
  for (const PriceObservation& o : list) out.push_back(o.seq);
  return out;
}

std::vector<int64_t> Prices(const std::vector<PriceObservation>& list) {
  std::vector<int64_t> out;
  for (const PriceObservation& o : list) out.push_back(o.price.micros());
  return out;
}

RunSegment MakeSegment(std::string id, std::string agent_id, std::string instance_id, RunRole role,
                       Time started_at, std::optional<Time> ended_at = std::nullopt) {
  RunSegment s;
  s.id = std::move(id);
  s.tenant_id = agent_id.starts_with("b") ? "t2" : "t1";
  s.agent_id = std::move(agent_id);
  s.instance_id = std::move(instance_id);
  s.role = role;
  s.placement = {s.instance_id, "m5.large", "us-east-1", "us-east-1a", Mode::kSpot};
  s.started_at = started_at;
  s.ended_at = ended_at;
  return s;
}

constexpr std::string_view kI1 = "i-00000000000000001";
constexpr std::string_view kI2 = "i-00000000000000002";

TEST_CASE_TEMPLATE("price observations: seq, per-pool ranges, latest per pool", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  PriceObservation full = MakePrice("t1", "us-east-1b", PriceKind::kSpot, 41'100, At(10));
  full.server_received = true;
  full.source = PriceSource::kReplica;
  Write(store, [&](Transaction& tx) {
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 38'900, At(0)))) == 1);
    CHECK(Value(tx.InsertPriceObservation(full)) == 2);
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "", PriceKind::kOnDemand, 96'000, At(0)))) == 3);
    // Same observed_at as seq 1: seq breaks the tie, so this one is newest.
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 39'000, At(0)))) == 4);
    // Older, inserted later.
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1b", PriceKind::kSpot, 40'000, At(-300)))) == 5);
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t2", "us-east-1a", PriceKind::kSpot, 1, At(5)))) == 6);
  });
  {
    // A rolled-back insert may give its number back.
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(Value(rolled_back->InsertPriceObservation(
              MakePrice("t1", "us-east-1c", PriceKind::kSpot, 1, At(0)))) == 7);
  }
  const int64_t seven = After<F>(7, 1);
  Write(store, [&](Transaction& tx) {
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1c", PriceKind::kSpot, 34'200, At(20)))) == seven);
  });
  auto tx = Read(store);
  const Pool a{"us-east-1", "us-east-1a", "m5.large"};
  const Pool b{"us-east-1", "us-east-1b", "m5.large"};
  CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(0), At(1)))) ==
        std::vector<int64_t>{1, 4});
  CHECK(Seqs(Value(tx->ListPriceObservations("t1", b, At(-300), At(10)))) ==
        std::vector<int64_t>{5});
  CHECK(Seqs(Value(tx->ListPriceObservations("t1", b, At(-300), At(11)))) ==
        std::vector<int64_t>{5, 2});
  CHECK(Seqs(Value(tx->ListPriceObservations("t1", {"us-east-1", "", "m5.large"}, At(0), At(1)))) ==
        std::vector<int64_t>{3});
  CHECK(Value(tx->ListPriceObservations("t2", b, At(-300), At(11))).empty());
  CHECK(Seqs(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"))) ==
        std::vector<int64_t>{3, 4, 2, seven});
  CHECK(Seqs(Value(tx->ListLatestPrices("t2", "us-east-1", "m5.large"))) ==
        std::vector<int64_t>{6});
  CHECK(Value(tx->ListLatestPrices("t1", "us-east-1", "c6i.xlarge")).empty());
  CHECK(Seqs(Value(tx->ListTenantPriceObservations("t1"))) ==
        std::vector<int64_t>{1, 2, 3, 4, 5, seven});
  std::vector<PriceObservation> latest = Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"));
  const PriceObservation& got = latest[2];
  full.seq = 2;
  CHECK(std::tie(got.seq, got.tenant_id, got.agent_id, got.registration_id, got.region, got.az,
                 got.instance_type, got.kind, got.price, got.observed_at, got.received_at,
                 got.server_received, got.source) ==
        std::tie(full.seq, full.tenant_id, full.agent_id, full.registration_id, full.region,
                 full.az, full.instance_type, full.kind, full.price, full.observed_at,
                 full.received_at, full.server_received, full.source));
}

// Many rows of one pool inserted out of order (AWS history arrives newest-first):
// every other slot in order, the gaps between them newest-first, then repeats in
// random order; checked against a sorted model through ranges, the latest,
// rollbacks and deletions.
TEST_CASE_TEMPLATE("price observations inserted out of order", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const Pool pool{"us-east-1", "us-east-1a", "m5.large"};
  std::mt19937 rng(7);
  std::vector<int64_t> times;  // observed_at in seconds, some repeated: seq breaks ties
  for (int i = 0; i < 1200; i += 2) times.push_back(300 * i);
  for (int i = 1199; i > 0; i -= 2) times.push_back(300 * i);
  for (int i = 0; i < 300; ++i) times.push_back(300 * (i * 7 % 1200));
  std::shuffle(times.begin() + 1200, times.end(), rng);
  std::set<std::pair<int64_t, int64_t>> model;  // (observed_at, seq)
  Write(store, [&](Transaction& tx) {
    for (int64_t t : times) {
      const int64_t seq = Value(
          tx.InsertPriceObservation(MakePrice("t1", pool.az, PriceKind::kSpot, 1 + t, At(t))));
      model.emplace(t, seq);
    }
  });
  auto expect_range = [&](int64_t from, int64_t to) {
    std::vector<int64_t> want;
    for (auto it = model.lower_bound({from, 0}); it != model.lower_bound({to, 0}); ++it) {
      want.push_back(it->second);
    }
    auto tx = Read(store);
    CHECK(Seqs(Value(tx->ListPriceObservations("t1", pool, At(from), At(to)))) == want);
  };
  auto check_all = [&] {
    expect_range(-1, 400'000);
    expect_range(300 * 100, 300 * 101);
    expect_range(300 * 250 + 1, 300 * 900);
    auto tx = Read(store);
    CHECK(Seqs(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"))) ==
          std::vector<int64_t>{model.rbegin()->second});
  };
  check_all();
  {
    // Rolled back: older and newer rows than any stored, and one in the middle.
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    for (int64_t t : {-600, 300 * 600 + 1, 500'000}) {
      CHECK_OK(
          rolled_back->InsertPriceObservation(MakePrice("t1", pool.az, PriceKind::kSpot, 1, At(t)))
              .status());
    }
  }
  check_all();
  std::vector<int64_t> doomed;
  for (const auto& [t, seq] : model) {
    if (seq % 3 == 0) doomed.push_back(seq);
  }
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK_OK(rolled_back->DeletePriceObservations(doomed));
  }
  check_all();
  Write(store, [&](Transaction& tx) { CHECK_OK(tx.DeletePriceObservations(doomed)); });
  std::erase_if(model, [](const auto& row) { return row.second % 3 == 0; });
  check_all();
}

SwitchRecord FullSwitch() {
  SwitchRecord s;
  s.id = "s-full";
  s.tenant_id = "t1";
  s.agent_id = "a1";
  s.from = {"i-0000000000000000a", "m5.large", "us-east-1", "us-east-1a", Mode::kSpot};
  s.to = {"i-0000000000000000b", "m5.large", "us-east-1", "", Mode::kOnDemand};
  s.command_id = "c1";
  s.reason = "operator";
  s.requested_by = "ops@example.com";
  s.trigger = "manual";
  s.timings.initiated_at = At(1);
  s.timings.launched_at = At(2);
  s.timings.ready_at = At(3);
  s.timings.traffic_switched_at = At(4);
  s.timings.old_terminated_at = At(5);
  s.timings.ami_created_at = At(6);
  s.on_demand_price = Money::FromMicros(96'000);
  s.old_spot_price = Money::FromMicros(38'900);
  s.new_spot_price = Money::FromMicros(34'200);
  s.unsolicited = true;
  s.reported = true;
  s.created_at = At(7);
  s.updated_at = At(8);
  return s;
}

auto SwitchFields(const SwitchRecord& s) {
  return std::tie(s.id, s.tenant_id, s.agent_id, s.from, s.to, s.command_id, s.reason,
                  s.requested_by, s.trigger, s.timings.initiated_at, s.timings.launched_at,
                  s.timings.ready_at, s.timings.traffic_switched_at, s.timings.old_terminated_at,
                  s.timings.ami_created_at, s.on_demand_price, s.old_spot_price, s.new_spot_price,
                  s.unsolicited, s.reported, s.created_at, s.updated_at);
}

TEST_CASE_TEMPLATE("switches and cleanup logs: insert, get, update, list", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  SwitchRecord plain;
  plain.id = "s-a";
  plain.tenant_id = "t1";
  plain.agent_id = "a1";
  plain.created_at = At(7);
  CleanupLog log;
  log.id = "l-full";
  log.tenant_id = "t1";
  log.agent_id = "a1";
  log.registration_id = "r1";
  log.snapshots = CleanupSection{{"snap-1"}, {}, {{"snap-2", "InvalidSnapshot.InUse"}}, At(-7), ""};
  log.amis = CleanupSection{{}, {}, {}, std::nullopt, "can't compare offset-naive"};
  log.reported_at = At(1);
  log.received_at = At(2);
  CleanupLog bare;
  bare.id = "l-bare";
  bare.tenant_id = "t1";
  bare.agent_id = "a1";
  bare.received_at = At(1);
  Write(store, [&](Transaction& tx) {
    CHECK_OK(tx.InsertSwitch(FullSwitch()));
    CHECK_OK(tx.InsertSwitch(plain));
    CHECK(CodeOf(tx.InsertSwitch(plain)) == StatusCode::kAlreadyExists);
    CHECK(CodeOf(tx.UpdateSwitch(FullSwitch())) == StatusCode::kOk);
    SwitchRecord missing = plain;
    missing.id = "missing";
    CHECK(CodeOf(tx.UpdateSwitch(missing)) == StatusCode::kNotFound);
    CHECK_OK(tx.InsertCleanupLog(log));
    CHECK_OK(tx.InsertCleanupLog(bare));
    CHECK(CodeOf(tx.InsertCleanupLog(bare)) == StatusCode::kAlreadyExists);
  });
  auto tx = Read(store);
  CHECK(SwitchFields(Value(tx->GetSwitch("s-full"))) == SwitchFields(FullSwitch()));
  CHECK(Ids(Value(tx->ListSwitches("a1"))) == Strings{"s-a", "s-full"});  // same created_at
  CHECK(Value(tx->ListSwitches("a2")).empty());
  CHECK(CodeOf(tx->GetSwitch("missing")) == StatusCode::kNotFound);
  std::vector<CleanupLog> logs = Value(tx->ListCleanupLogs("a1"));
  CHECK(Ids(logs) == Strings{"l-bare", "l-full"});
  CHECK(logs[1].snapshots == log.snapshots);
  CHECK(logs[1].amis == log.amis);
  CHECK(logs[1].reported_at == log.reported_at);
  CHECK(!logs[0].snapshots.has_value());
  CHECK(logs[1].deleted_snapshots() == 1);
  CHECK(logs[1].failed() == 1);
  CHECK(Value(tx->ListCleanupLogs("a2")).empty());
}

TEST_CASE_TEMPLATE("updates refuse to change a record's identity", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [&](Transaction& tx) {
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r1", "a1", "i-00000000000000001", At(0))));
    CHECK_OK(tx.InsertCommand(MakeCommand("c1", "a1", CommandType::kSwitch, CommandState::kPending))
                 .status());
  });
  const std::string before = Value(DumpStore(store));
  Write(store, [&](Transaction& tx) {
    Registration moved = MakeRegistration("r1", "a2", "i-00000000000000001", At(0));
    CHECK(CodeOf(tx.UpdateRegistration(moved)) == StatusCode::kFailedPrecondition);
    Registration reborn = MakeRegistration("r1", "a1", "i-00000000000000001", At(5));
    CHECK(CodeOf(tx.UpdateRegistration(reborn)) == StatusCode::kFailedPrecondition);
    Command retyped = MakeCommand("c1", "a1", CommandType::kCreateReplica, CommandState::kPending);
    CHECK(CodeOf(tx.UpdateCommand(retyped)) == StatusCode::kFailedPrecondition);
    Command missing = MakeCommand("c9", "a1", CommandType::kSwitch, CommandState::kPending);
    CHECK(CodeOf(tx.UpdateCommand(missing)) == StatusCode::kNotFound);
  });
  CHECK(Value(DumpStore(store)) == before);
}

TEST_CASE_TEMPLATE("every field round-trips through insert and update", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  int64_t seq = 0;
  Write(store, [&](Transaction& tx) {
    CHECK_OK(tx.InsertTenant(FullTenant()));
    CHECK_OK(tx.InsertToken(FullToken()));
    CHECK_OK(tx.InsertAgent(FullAgent()));
    CHECK_OK(tx.InsertAlias(FullAlias()));
    CHECK_OK(tx.InsertRegistration(FullRegistration()));
    seq = Value(tx.InsertCommand(FullCommand()));
    CHECK_OK(tx.InsertReplica(FullReplica()));
    CHECK_OK(tx.InsertIncident(FullIncident()));
    CHECK_OK(tx.InsertEvent(FullEvent()));
    CHECK(Value(tx.InsertDecision(FullDecision())) == 1);
  });
  Command command = FullCommand();
  command.seq = seq;
  {
    auto tx = Read(store);
    CheckSame(Value(tx->GetTenant("t-full")), FullTenant());
    CheckSame(Value(tx->GetToken("abcd1234")), FullToken());
    CheckSame(Value(tx->GetAgent("a-full")), FullAgent());
    CheckSame(Value(tx->FindAlias("t1", FullAlias().logical_id)), FullAlias());
    CheckSame(Value(tx->GetRegistration("r-full")), FullRegistration());
    CheckSame(Value(tx->GetCommand("c-full")), command);
    CheckSame(Value(tx->GetReplica("p-full")), FullReplica());
    CheckSame(Value(tx->GetIncident("n-full")), FullIncident());
    std::vector<AgentEvent> events = Value(tx->ListEvents("a-full"));
    REQUIRE(events.size() == 1);
    CheckSame(events[0], FullEvent());
    std::vector<decision::DecisionRecord> decisions = Value(tx->ListDecisions("a-full", 0, 10));
    REQUIRE(decisions.size() == 1);
    decision::DecisionRecord full = FullDecision();
    full.seq = 1;
    CheckSame(decisions[0], full);
  }

  // Update back to mostly defaults: optional fields cleared, other enum values.
  Tenant tenant = MakeTenant("t-full");
  ApiToken token = MakeToken("abcd1234", "t1", At(0));
  Agent agent = MakeAgent("a-full", "t1", "logical-full");
  Registration registration = MakeRegistration("r-full", "a-full", "i-0123456789abcdef0", At(0));
  registration.facts.mode = Mode::kSpot;
  Command plain = MakeCommand("c-full", "a-full", CommandType::kSwitch, CommandState::kCancelled);
  plain.seq = seq;
  Replica replica = MakeReplica("p-full", "a-full", ReplicaState::kPromoted);
  replica.entered_at[3] = At(-3);
  Incident incident = MakeIncident("n-full", "a-full", At(0));
  // Updates never change identity (store.h): keep what the full records were born with.
  agent.tenant_id = FullAgent().tenant_id;
  agent.created_at = FullAgent().created_at;
  registration.tenant_id = FullRegistration().tenant_id;
  registration.created_at = FullRegistration().created_at;
  registration.instance_id = FullRegistration().instance_id;
  plain.tenant_id = FullCommand().tenant_id;
  plain.type = FullCommand().type;
  plain.created_at = FullCommand().created_at;
  replica.tenant_id = FullReplica().tenant_id;
  replica.created_at = FullReplica().created_at;
  Write(store, [&](Transaction& tx) {
    CHECK_OK(tx.UpdateTenant(tenant));
    CHECK_OK(tx.UpdateToken(token));
    CHECK_OK(tx.UpdateAgent(agent));
    CHECK_OK(tx.UpdateRegistration(registration));
    CHECK_OK(tx.UpdateCommand(plain));
    CHECK_OK(tx.UpdateReplica(replica));
    CHECK_OK(tx.UpdateIncident(incident));
  });
  auto tx = Read(store);
  CheckSame(Value(tx->GetTenant("t-full")), tenant);
  CheckSame(Value(tx->GetToken("abcd1234")), token);
  CheckSame(Value(tx->GetAgent("a-full")), agent);
  CheckSame(Value(tx->GetRegistration("r-full")), registration);
  CheckSame(Value(tx->GetCommand("c-full")), plain);
  CheckSame(Value(tx->GetReplica("p-full")), replica);
  CheckSame(Value(tx->GetIncident("n-full")), incident);
}

TEST_CASE_TEMPLATE("storage constraints are refused with FailedPrecondition", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const StatusCode kRefused = StatusCode::kFailedPrecondition;
  const CommandType kReplica = CommandType::kCreateReplica;
  const CommandType kSwitch = CommandType::kSwitch;

  SUBCASE("one agent per (tenant, logical id)") {
    Write(store, [&](Transaction& tx) {
      CHECK(CodeOf(tx.InsertAgent(MakeAgent("a9", "t1", "web-1"))) == kRefused);
      CHECK(CodeOf(tx.UpdateAgent(MakeAgent("a2", "t1", "web-1"))) == kRefused);
      CHECK_OK(tx.InsertAgent(MakeAgent("a8", "t2", "web-2")));
    });
    auto tx = Read(store);
    CHECK(CodeOf(tx->GetAgent("a9")) == StatusCode::kNotFound);
    CHECK(Value(tx->GetAgent("a2")).logical_id == "web-2");
    CHECK(Value(tx->FindAgent("t1", "web-1")).id == "a1");
    CHECK(Value(tx->FindAgent("t2", "web-2")).id == "a8");
  }

  SUBCASE("one registration per (agent, instance)") {
    Write(store, [&](Transaction& tx) {
      CHECK_OK(tx.InsertRegistration(MakeRegistration("r1", "a1", "i-00000000000000001", At(0))));
      CHECK_OK(tx.InsertRegistration(MakeRegistration("r2", "a1", "i-00000000000000002", At(0))));
      CHECK(CodeOf(tx.InsertRegistration(
                MakeRegistration("r3", "a1", "i-00000000000000001", At(0)))) == kRefused);
      CHECK(CodeOf(tx.UpdateRegistration(
                MakeRegistration("r2", "a1", "i-00000000000000001", At(0)))) == kRefused);
      // The same instance under another agent is a different key.
      CHECK_OK(tx.InsertRegistration(MakeRegistration("r4", "a2", "i-00000000000000001", At(0))));
    });
    auto tx = Read(store);
    CHECK(CodeOf(tx->GetRegistration("r3")) == StatusCode::kNotFound);
    CHECK(Value(tx->GetRegistration("r2")).instance_id == "i-00000000000000002");
    CHECK(Ids(Value(tx->ListRegistrations("a1"))) == Strings{"r1", "r2"});
  }

  SUBCASE("at most one LEASED command per agent") {
    Write(store, [&](Transaction& tx) {
      CHECK(tx.InsertCommand(MakeCommand("c1", "a1", kReplica, CommandState::kLeased)).ok());
      CHECK(tx.InsertCommand(MakeCommand("c2", "a1", kReplica, CommandState::kPending)).ok());
      CHECK(CodeOf(tx.InsertCommand(MakeCommand("c3", "a1", kSwitch, CommandState::kLeased))) ==
            kRefused);
      Command c2 = Value(tx.GetCommand("c2"));
      c2.state = CommandState::kLeased;
      CHECK(CodeOf(tx.UpdateCommand(c2)) == kRefused);
      // Another agent has its own lease.
      CHECK(tx.InsertCommand(MakeCommand("c4", "a2", kReplica, CommandState::kLeased)).ok());
    });
    {
      auto tx = Read(store);
      CHECK(CodeOf(tx->GetCommand("c3")) == StatusCode::kNotFound);
      CHECK(Value(tx->GetCommand("c2")).state == CommandState::kPending);
      CHECK(Ids(Value(tx->ListOpenCommands("a1"))) == Strings{"c1", "c2"});
    }
    // Once the lease is closed, the next command may be leased.
    Write(store, [&](Transaction& tx) {
      Command c1 = Value(tx.GetCommand("c1"));
      c1.state = CommandState::kSucceeded;
      CHECK_OK(tx.UpdateCommand(c1));
      Command c2 = Value(tx.GetCommand("c2"));
      c2.state = CommandState::kLeased;
      CHECK_OK(tx.UpdateCommand(c2));
    });
  }

  SUBCASE("at most one placement command PENDING or LEASED per agent") {
    Write(store, [&](Transaction& tx) {
      CHECK(tx.InsertCommand(MakeCommand("s1", "a1", kSwitch, CommandState::kPending)).ok());
      CHECK(CodeOf(tx.InsertCommand(MakeCommand("s2", "a1", kSwitch, CommandState::kPending))) ==
            kRefused);
      CHECK(CodeOf(tx.InsertCommand(MakeCommand("s3", "a1", kSwitch, CommandState::kLeased))) ==
            kRefused);
      // Closed switches and other command types do not count.
      CHECK(tx.InsertCommand(MakeCommand("s4", "a1", kSwitch, CommandState::kCancelled)).ok());
      CHECK(tx.InsertCommand(MakeCommand("s5", "a1", kReplica, CommandState::kPending)).ok());
      CHECK(tx.InsertCommand(MakeCommand("s6", "a2", kSwitch, CommandState::kPending)).ok());
      Command s4 = Value(tx.GetCommand("s4"));
      s4.state = CommandState::kPending;
      CHECK(CodeOf(tx.UpdateCommand(s4)) == kRefused);
    });
    {
      auto tx = Read(store);
      CHECK(CodeOf(tx->GetCommand("s2")) == StatusCode::kNotFound);
      CHECK(CodeOf(tx->GetCommand("s3")) == StatusCode::kNotFound);
      CHECK(Value(tx->GetCommand("s4")).state == CommandState::kCancelled);
    }
    Write(store, [&](Transaction& tx) {
      Command s1 = Value(tx.GetCommand("s1"));
      s1.state = CommandState::kCancelled;
      CHECK_OK(tx.UpdateCommand(s1));
      CHECK(tx.InsertCommand(MakeCommand("s2", "a1", kSwitch, CommandState::kPending)).ok());
    });
  }

  SUBCASE("at most one open run segment per (agent, instance, role)") {
    const std::string i1(kI1);
    const std::string i2(kI2);
    Write(store, [&](Transaction& tx) {
      CHECK_OK(tx.InsertRunSegment(MakeSegment("g1", "a1", i1, RunRole::kPrimary, At(0))));
      CHECK(CodeOf(tx.InsertRunSegment(MakeSegment("g2", "a1", i1, RunRole::kPrimary, At(5)))) ==
            kRefused);
      // Another role, instance or agent is another key; a closed segment does not count.
      CHECK_OK(tx.InsertRunSegment(MakeSegment("g3", "a1", i1, RunRole::kReplica, At(0))));
      CHECK_OK(tx.InsertRunSegment(MakeSegment("g4", "a1", i2, RunRole::kPrimary, At(0))));
      CHECK_OK(tx.InsertRunSegment(MakeSegment("g5", "a2", i1, RunRole::kPrimary, At(0))));
      CHECK_OK(tx.InsertRunSegment(MakeSegment("g6", "a1", i1, RunRole::kPrimary, At(-10), At(0))));
      // Reopening a closed segment while another is open is refused too.
      CHECK(CodeOf(tx.UpdateRunSegment(MakeSegment("g6", "a1", i1, RunRole::kPrimary, At(-10)))) ==
            kRefused);
    });
    {
      auto tx = Read(store);
      CHECK(CodeOf(tx->FindOpenRunSegment("a9", i1)) == StatusCode::kNotFound);
      CHECK(Ids(Value(tx->ListRunSegments("a1"))) == Strings{"g6", "g1", "g3", "g4"});
      CHECK(Value(tx->ListRunSegments("a1"))[0].ended_at == At(0));
    }
    // Once the open one is closed, the next may open.
    Write(store, [&](Transaction& tx) {
      CHECK_OK(tx.UpdateRunSegment(MakeSegment("g1", "a1", i1, RunRole::kPrimary, At(0), At(5))));
      CHECK_OK(tx.InsertRunSegment(MakeSegment("g2", "a1", i1, RunRole::kPrimary, At(5))));
      CHECK(Value(tx.FindOpenRunSegment("a1", i1)).id == "g2");
    });
  }

  SUBCASE("at most one live replica per agent") {
    Write(store, [&](Transaction& tx) {
      CHECK_OK(tx.InsertReplica(MakeReplica("p1", "a1", ReplicaState::kReady)));
      CHECK(CodeOf(tx.InsertReplica(MakeReplica("p2", "a1", ReplicaState::kRequested))) ==
            kRefused);
      CHECK(CodeOf(tx.InsertReplica(MakeReplica("p3", "a1", ReplicaState::kTerminating))) ==
            kRefused);
      CHECK_OK(tx.InsertReplica(MakeReplica("p4", "a1", ReplicaState::kFailed)));
      CHECK_OK(tx.InsertReplica(MakeReplica("p5", "a2", ReplicaState::kSyncing)));
      Replica p4 = Value(tx.GetReplica("p4"));
      p4.state = ReplicaState::kLaunching;
      CHECK(CodeOf(tx.UpdateReplica(p4)) == kRefused);
    });
    {
      auto tx = Read(store);
      CHECK(CodeOf(tx->GetReplica("p2")) == StatusCode::kNotFound);
      CHECK(CodeOf(tx->GetReplica("p3")) == StatusCode::kNotFound);
      CHECK(Value(tx->GetReplica("p4")).state == ReplicaState::kFailed);
      CHECK(Ids(Value(tx->ListLiveReplicas())) == Strings{"p1", "p5"});
    }
    Write(store, [&](Transaction& tx) {
      Replica p1 = Value(tx.GetReplica("p1"));
      p1.state = ReplicaState::kPromoted;
      CHECK_OK(tx.UpdateReplica(p1));
      CHECK_OK(tx.InsertReplica(MakeReplica("p2", "a1", ReplicaState::kRequested)));
    });
  }
}

TEST_CASE_TEMPLATE("a transaction destroyed without commit leaves nothing behind", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK(tx.InsertCommand(MakeCommand("c1", "a1", CommandType::kSwitch, CommandState::kPending))
              .ok());
    CHECK_OK(tx.InsertReplica(MakeReplica("p1", "a1", ReplicaState::kReady)));
  });
  const std::string before = Value(DumpStore(store));
  {
    auto tx = Value(store.Begin(TxMode::kWrite));
    CHECK_OK(tx->InsertTenant(MakeTenant("t9")));
    CHECK_OK(tx->InsertToken(MakeToken("zzzz0000", "t9", At(0))));
    CHECK_OK(tx->InsertAgent(MakeAgent("a9", "t9", "web-9")));
    CHECK_OK(tx->InsertAlias({"t9", "i-00000000000000009", "a9", At(0)}));
    CHECK_OK(tx->InsertRegistration(MakeRegistration("r9", "a9", "i-00000000000000009", At(0))));
    Agent a1 = Value(tx->GetAgent("a1"));
    a1.logical_id = "web-1-renamed";
    a1.config.replica_mode = ReplicaMode::kOff;
    CHECK_OK(tx->UpdateAgent(a1));
    Command c1 = Value(tx->GetCommand("c1"));
    c1.state = CommandState::kCancelled;
    CHECK_OK(tx->UpdateCommand(c1));
    CHECK(tx->InsertCommand(MakeCommand("c9", "a1", CommandType::kSwitch, CommandState::kLeased))
              .ok());
    Replica p1 = Value(tx->GetReplica("p1"));
    p1.state = ReplicaState::kFailed;
    CHECK_OK(tx->UpdateReplica(p1));
    CHECK_OK(tx->InsertReplica(MakeReplica("p9", "a1", ReplicaState::kRequested)));
    CHECK_OK(tx->InsertIncident(MakeIncident("n9", "a1", At(0))));
    CHECK_OK(tx->InsertEvent(MakeEvent("e9", "a1", At(0))));
    // The transaction sees its own writes.
    CHECK(Value(tx->FindAgent("t1", "web-1-renamed")).id == "a1");
    CHECK(Ids(Value(tx->ListOpenCommands("a1"))) == Strings{"c9"});
  }
  CHECK(Value(DumpStore(store)) == before);
  auto tx = Read(store);
  CHECK(CodeOf(tx->GetTenant("t9")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetToken("zzzz0000")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetAgent("a9")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->FindAlias("t9", "i-00000000000000009")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetRegistration("r9")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetCommand("c9")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetReplica("p9")) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->GetIncident("n9")) == StatusCode::kNotFound);
  CHECK(Value(tx->ListEvents("a1")).empty());
  CHECK(Value(tx->FindAgent("t1", "web-1")).id == "a1");
  CHECK(CodeOf(tx->FindAgent("t1", "web-1-renamed")) == StatusCode::kNotFound);
  CHECK(Ids(Value(tx->ListAgentsByReplicaMode(ReplicaMode::kEmergency))) ==
        Strings{"a1", "a2", "b1"});
  CHECK(Value(tx->GetCommand("c1")).state == CommandState::kPending);
  CHECK(Ids(Value(tx->ListOpenCommands("a1"))) == Strings{"c1"});
  CHECK(Ids(Value(tx->ListLiveReplicas())) == Strings{"p1"});
  CHECK(Value(tx->ListOpenIncidents()).empty());
}

TEST_CASE_TEMPLATE("readers never see another transaction's uncommitted writes", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);

  SUBCASE("a reader running while a writer commits") {
    auto reader = Read(store);
    CHECK(CodeOf(reader->GetTenant("t9")) == StatusCode::kNotFound);
    // A store may make the writer wait for the reader, so the writer runs on its own
    // thread and is joined once the reader is done.
    std::thread writer([&] {
      Write(store, [](Transaction& tx) { CHECK_OK(tx.InsertTenant(MakeTenant("t9"))); });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(CodeOf(reader->GetTenant("t9")) == StatusCode::kNotFound);
    CHECK(Ids(Value(reader->ListTenants())) == Strings{"t1", "t2"});
    reader.reset();
    writer.join();
    CHECK(Value(Read(store)->GetTenant("t9")).id == "t9");
  }

  SUBCASE("a reader starting while a writer is open, which then rolls back") {
    auto writer = Value(store.Begin(TxMode::kWrite));
    CHECK_OK(writer->InsertTenant(MakeTenant("t9")));
    Agent a1 = Value(writer->GetAgent("a1"));
    a1.logical_id = "uncommitted";
    CHECK_OK(writer->UpdateAgent(a1));
    absl::StatusCode tenant_code = StatusCode::kOk;
    std::string logical_id;
    std::thread reader([&] {
      auto tx = Read(store);
      tenant_code = CodeOf(tx->GetTenant("t9"));
      logical_id = Value(tx->GetAgent("a1")).logical_id;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    writer.reset();
    reader.join();
    CHECK(tenant_code == StatusCode::kNotFound);
    CHECK(logical_id == "web-1");
  }
}

auto PriceFields(const PriceObservation& o) {
  return std::tie(o.seq, o.tenant_id, o.agent_id, o.registration_id, o.region, o.az,
                  o.instance_type, o.kind, o.price, o.observed_at, o.received_at, o.server_received,
                  o.source);
}

PriceObservation CatalogPrice(std::string tenant_id, std::string az, PriceKind kind, int64_t micros,
                              Time observed_at) {
  PriceObservation o = MakePrice(std::move(tenant_id), std::move(az), kind, micros, observed_at);
  o.agent_id.clear();
  o.registration_id.clear();
  o.source = PriceSource::kCatalog;
  return o;
}

TEST_CASE_TEMPLATE("price observations: every source round-trips, catalog without an agent", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  std::vector<PriceObservation> inserted = {
      CatalogPrice("t1", "us-east-1a", PriceKind::kSpot, 35'000, At(0)),
      CatalogPrice("t1", "", PriceKind::kOnDemand, 96'000, At(1)),
      MakePrice("t1", "us-east-1a", PriceKind::kSpot, 38'900, At(2)),
      MakePrice("t1", "us-east-1a", PriceKind::kSpot, 39'100, At(3)),
  };
  inserted[1].server_received = true;
  inserted[3].source = PriceSource::kReplica;
  inserted[3].agent_id = "a2";
  inserted[3].registration_id = "r2";
  Write(store, [&](Transaction& tx) {
    for (PriceObservation& o : inserted) o.seq = Value(tx.InsertPriceObservation(o));
  });
  auto tx = Read(store);
  std::vector<PriceObservation> all = Value(tx->ListTenantPriceObservations("t1"));
  REQUIRE(all.size() == inserted.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    CHECK(PriceFields(all[i]) == PriceFields(inserted[i]));
  }
  std::vector<PriceObservation> on_demand =
      Value(tx->ListPriceObservations("t1", {"us-east-1", "", "m5.large"}, At(0), At(9)));
  REQUIRE(on_demand.size() == 1);
  CHECK(PriceFields(on_demand[0]) == PriceFields(inserted[1]));
  CHECK(on_demand[0].source == PriceSource::kCatalog);
  CHECK(on_demand[0].agent_id.empty());
  CHECK(on_demand[0].registration_id.empty());
  std::vector<PriceObservation> latest = Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"));
  REQUIRE(latest.size() == 2);
  CHECK(PriceFields(latest[0]) == PriceFields(inserted[1]));
  CHECK(PriceFields(latest[1]) == PriceFields(inserted[3]));
}

TEST_CASE_TEMPLATE("price series: one pool per (region, AZ, type), by region, type, AZ", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  auto price = [](std::string tenant, std::string region, std::string az, std::string type) {
    PriceObservation o =
        MakePrice(std::move(tenant), std::move(az), PriceKind::kSpot, 10'000, At(0));
    o.region = std::move(region);
    o.instance_type = std::move(type);
    if (o.az.empty()) o.kind = PriceKind::kOnDemand;
    return o;
  };
  Write(store, [&](Transaction& tx) {
    CHECK(tx.InsertPriceObservation(price("t1", "us-west-2", "us-west-2a", "m5.large")).ok());
    CHECK(tx.InsertPriceObservation(price("t1", "us-east-1", "us-east-1b", "m5.large")).ok());
    CHECK(tx.InsertPriceObservation(price("t1", "us-east-1", "", "m5.large")).ok());
    CHECK(tx.InsertPriceObservation(price("t1", "us-east-1", "us-east-1a", "m5.large")).ok());
    CHECK(tx.InsertPriceObservation(price("t1", "us-east-1", "us-east-1a", "c6i.xlarge")).ok());
    // A second observation of a series, and a spot price without an AZ: still one pool each.
    CHECK(tx.InsertPriceObservation(price("t1", "us-east-1", "us-east-1a", "m5.large")).ok());
    PriceObservation spot_without_az = price("t1", "us-east-1", "", "m5.large");
    spot_without_az.kind = PriceKind::kSpot;
    CHECK(tx.InsertPriceObservation(spot_without_az).ok());
    CHECK(tx.InsertPriceObservation(price("t2", "eu-west-1", "eu-west-1a", "m5.large")).ok());
  });
  std::vector<Pool> want = {
      {"us-east-1", "us-east-1a", "c6i.xlarge"}, {"us-east-1", "", "m5.large"},
      {"us-east-1", "us-east-1a", "m5.large"},   {"us-east-1", "us-east-1b", "m5.large"},
      {"us-west-2", "us-west-2a", "m5.large"},
  };
  {
    auto tx = Read(store);
    CHECK(Value(tx->ListPriceSeries("t1")) == want);
    CHECK(Value(tx->ListPriceSeries("t2")) ==
          std::vector<Pool>{{"eu-west-1", "eu-west-1a", "m5.large"}});
    CHECK(Value(tx->ListPriceSeries("t9")).empty());
  }
  // A series whose observations are all deleted, or only ever rolled back, is not listed.
  Write(store, [&](Transaction& tx) {
    std::vector<int64_t> west;
    for (const PriceObservation& o : Value(tx.ListTenantPriceObservations("t1"))) {
      if (o.region == "us-west-2") west.push_back(o.seq);
    }
    CHECK(west.size() == 1);
    CHECK_OK(tx.DeletePriceObservations(west));
  });
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(rolled_back->InsertPriceObservation(price("t1", "ap-south-1", "ap-south-1a", "m5.large"))
              .ok());
    CHECK(rolled_back->InsertPriceObservation(price("t2", "us-east-1", "us-east-1a", "m5.large"))
              .ok());
    CHECK(Value(rolled_back->ListPriceSeries("t1")).front().region == "ap-south-1");
  }
  want.pop_back();
  auto tx = Read(store);
  CHECK(Value(tx->ListPriceSeries("t1")) == want);
  CHECK(Value(tx->ListPriceSeries("t2")) ==
        std::vector<Pool>{{"eu-west-1", "eu-west-1a", "m5.large"}});
}

// Many observations of one pool in shuffled time order (with ties), checked against a
// plain sorted model: ranges, bounds and the newest price.
TEST_CASE_TEMPLATE("price observations: shuffled inserts list in (observed_at, seq) order", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  std::mt19937 rng(20251123);
  std::uniform_int_distribution<int64_t> offset(0, 400);
  std::vector<std::pair<Time, int64_t>> model;  // (observed_at, seq) of pool a, spot
  int64_t last_on_demand_seq = 0;
  Write(store, [&](Transaction& tx) {
    for (int i = 0; i < 1500; ++i) {
      // Mostly in time order, like agents' reports; every fifth is late.
      const Time at = i % 5 == 4 ? At(offset(rng)) : At(i);
      const int64_t seq =
          Value(tx.InsertPriceObservation(MakePrice("t1", "us-east-1a", PriceKind::kSpot, i, at)));
      model.emplace_back(at, seq);
      if (i % 100 == 0) {
        // The same AZ with the other kind is a separate (AZ, kind) for ListLatestPrices but
        // part of the pool's range.
        last_on_demand_seq = Value(
            tx.InsertPriceObservation(MakePrice("t1", "us-east-1a", PriceKind::kOnDemand, i, at)));
        model.emplace_back(at, last_on_demand_seq);
      }
    }
  });
  std::sort(model.begin(), model.end());
  auto expected = [&](Time from, Time to) {
    std::vector<int64_t> seqs;
    for (const auto& [at, seq] : model) {
      if (at >= from && at < to) seqs.push_back(seq);
    }
    return seqs;
  };
  const Pool a{"us-east-1", "us-east-1a", "m5.large"};
  auto tx = Read(store);
  CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(-1), At(2000)))) ==
        expected(At(-1), At(2000)));
  for (auto [from, to] : std::vector<std::pair<int, int>>{
           {0, 1}, {100, 101}, {37, 350}, {399, 401}, {1499, 1500}, {5, 5}, {9, 3}}) {
    CAPTURE(from);
    CAPTURE(to);
    CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(from), At(to)))) ==
          expected(At(from), At(to)));
  }
  std::vector<PriceObservation> latest = Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"));
  REQUIRE(latest.size() == 2);
  CHECK(latest[0].kind == PriceKind::kOnDemand);
  CHECK(latest[0].seq == last_on_demand_seq);
  CHECK(latest[1].kind == PriceKind::kSpot);
  CHECK(latest[1].observed_at == At(1498));
}

TEST_CASE_TEMPLATE("price observations: deletion by seq, never reusing a number", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const Pool a{"us-east-1", "us-east-1a", "m5.large"};
  Write(store, [&](Transaction& tx) {
    for (int i = 1; i <= 10; ++i) {
      CHECK(Value(tx.InsertPriceObservation(MakePrice(i % 2 == 0 ? "t1" : "t2", "us-east-1a",
                                                      PriceKind::kSpot, i, At(i)))) == i);
    }
  });
  // Unknown, repeated and out-of-range seqs are ignored.
  Write(store, [&](Transaction& tx) {
    CHECK_OK(tx.DeletePriceObservations({2, 3, 3, 10, 999, 0, -1}));
    CHECK_OK(tx.DeletePriceObservations({}));
    CHECK(Seqs(Value(tx.ListTenantPriceObservations("t1"))) == std::vector<int64_t>{4, 6, 8});
  });
  {
    auto tx = Read(store);
    CHECK(Seqs(Value(tx->ListTenantPriceObservations("t1"))) == std::vector<int64_t>{4, 6, 8});
    CHECK(Seqs(Value(tx->ListTenantPriceObservations("t2"))) == std::vector<int64_t>{1, 5, 7, 9});
    CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(0), At(11)))) ==
          std::vector<int64_t>{4, 6, 8});
    CHECK(Seqs(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"))) ==
          std::vector<int64_t>{8});
  }
  const std::string before = Value(DumpStore(store));
  {
    // Rolled back: a deletion, an insert, and the deletion of that insert.
    auto tx = Value(store.Begin(TxMode::kWrite));
    CHECK_OK(tx->DeletePriceObservations({4, 8, 9}));
    CHECK(Value(tx->InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 11, At(5)))) == 11);
    CHECK_OK(tx->DeletePriceObservations({11, 6}));
    CHECK(Value(tx->ListTenantPriceObservations("t1")).empty());
    CHECK(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large")).empty());
  }
  CHECK(Value(DumpStore(store)) == before);
  {
    // Restored in time order, not appended.
    auto tx = Read(store);
    CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(0), At(11)))) ==
          std::vector<int64_t>{4, 6, 8});
    CHECK(Seqs(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"))) ==
          std::vector<int64_t>{8});
  }
  const int64_t eleven = After<F>(11, 1);
  Write(store, [&](Transaction& tx) {
    // The newest number was deleted, yet the next insert does not reuse it.
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 11, At(5)))) == eleven);
    CHECK_OK(tx.DeletePriceObservations({eleven}));
  });
  Write(store, [&](Transaction& tx) {
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 12, At(5)))) == eleven + 1);
  });
  auto tx = Read(store);
  CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(0), At(11)))) ==
        std::vector<int64_t>{4, eleven + 1, 6, 8});
  CHECK(CodeOf(tx->DeletePriceObservations({4})) == StatusCode::kFailedPrecondition);
}

TEST_CASE_TEMPLATE("price observations: a rolled-back insert leaves no trace", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const Pool a{"us-east-1", "us-east-1a", "m5.large"};
  Write(store, [&](Transaction& tx) {
    for (int i = 0; i < 600; ++i) {
      CHECK(tx.InsertPriceObservation(MakePrice("t1", "us-east-1a", PriceKind::kSpot, i, At(i)))
                .ok());
    }
  });
  const std::string before = Value(DumpStore(store));
  const std::vector<int64_t> range_before =
      Seqs(Value(Read(store)->ListPriceObservations("t1", a, At(0), At(1000))));
  {
    auto tx = Value(store.Begin(TxMode::kWrite));
    // Newest, in the middle of existing rows, in a new series and a new tenant.
    CHECK(Value(tx->InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 1, At(900)))) == 601);
    CHECK(Value(tx->InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 2, At(250)))) == 602);
    CHECK(Value(tx->InsertPriceObservation(
              MakePrice("t1", "us-east-1c", PriceKind::kSpot, 3, At(1)))) == 603);
    CHECK(Value(tx->InsertPriceObservation(MakePrice("t2", "", PriceKind::kOnDemand, 4, At(1)))) ==
          604);
    CHECK(Value(tx->ListPriceObservations("t1", a, At(250), At(251))).size() == 2);
  }
  CHECK(Value(DumpStore(store)) == before);
  {
    auto tx = Read(store);
    CHECK(Seqs(Value(tx->ListPriceObservations("t1", a, At(0), At(1000)))) == range_before);
    CHECK(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large")).back().seq == 600);
    CHECK(Value(tx->ListPriceSeries("t1")) == std::vector<Pool>{a});
    CHECK(Value(tx->ListTenantPriceObservations("t2")).empty());
  }
  Write(store, [&](Transaction& tx) {
    CHECK(Value(tx.InsertPriceObservation(
              MakePrice("t1", "us-east-1a", PriceKind::kSpot, 5, At(250)))) == After<F>(601, 4));
  });
  CHECK(Seqs(Value(Read(store)->ListPriceObservations("t1", a, At(250), At(251)))) ==
        std::vector<int64_t>{251, After<F>(601, 4)});
}

TEST_CASE_TEMPLATE("run segments: insert, find open, list by started_at then id", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  RunSegment full = MakeSegment("g-full", "a1", std::string(kI2), RunRole::kReplica, At(-50));
  full.placement = {std::string(kI2), "c6i.xlarge", "us-west-2", "", Mode::kOnDemand};
  Write(store, [&](Transaction& tx) {
    CHECK_OK(tx.InsertRunSegment(
        MakeSegment("g3", "a1", std::string(kI1), RunRole::kPrimary, At(0), At(100))));
    CHECK_OK(
        tx.InsertRunSegment(MakeSegment("g2", "a1", std::string(kI1), RunRole::kReplica, At(100))));
    CHECK_OK(
        tx.InsertRunSegment(MakeSegment("g1", "a1", std::string(kI1), RunRole::kPrimary, At(100))));
    CHECK_OK(tx.InsertRunSegment(full));
    CHECK_OK(tx.InsertRunSegment(
        MakeSegment("g4", "a2", std::string(kI1), RunRole::kPrimary, At(-100))));
    CHECK_OK(
        tx.InsertRunSegment(MakeSegment("g5", "b1", std::string(kI1), RunRole::kPrimary, At(0))));
    CHECK(CodeOf(tx.InsertRunSegment(MakeSegment("g1", "a2", std::string(kI2), RunRole::kReplica,
                                                 At(0), At(1)))) == StatusCode::kAlreadyExists);
    // A duplicate id that would also break the one-open rule is still AlreadyExists.
    CHECK(CodeOf(tx.InsertRunSegment(MakeSegment("g1", "a1", std::string(kI1), RunRole::kPrimary,
                                                 At(100)))) == StatusCode::kAlreadyExists);
  });
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListRunSegments("a1"))) == Strings{"g-full", "g3", "g1", "g2"});
  CHECK(Ids(Value(tx->ListRunSegments("a2"))) == Strings{"g4"});
  CHECK(Value(tx->ListRunSegments("a9")).empty());
  CHECK(Ids(Value(tx->ListTenantRunSegments("t1"))) == Strings{"g4", "g-full", "g3", "g1", "g2"});
  CHECK(Ids(Value(tx->ListTenantRunSegments("t2"))) == Strings{"g5"});
  CHECK(Value(tx->ListTenantRunSegments("t9")).empty());
  // Both roles open on one instance: the primary comes first.
  CHECK(Value(tx->FindOpenRunSegment("a1", kI1)).id == "g1");
  CHECK(Value(tx->FindOpenRunSegment("a1", kI2)) == full);
  CHECK(Value(tx->FindOpenRunSegment("b1", kI1)).id == "g5");
  CHECK(CodeOf(tx->FindOpenRunSegment("a2", kI2)) == StatusCode::kNotFound);
  CHECK(CodeOf(tx->FindOpenRunSegment("a9", kI1)) == StatusCode::kNotFound);
  const std::vector<RunSegment> listed = Value(tx->ListRunSegments("a1"));
  CHECK(listed[0] == full);
  CHECK(listed[1] == MakeSegment("g3", "a1", std::string(kI1), RunRole::kPrimary, At(0), At(100)));
  CHECK(CodeOf(tx->InsertRunSegment(MakeSegment("g9", "a1", std::string(kI2), RunRole::kPrimary,
                                                At(0)))) == StatusCode::kFailedPrecondition);
}

TEST_CASE_TEMPLATE("run segments: an update may set ended_at and nothing else", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const RunSegment open = MakeSegment("g1", "a1", std::string(kI1), RunRole::kPrimary, At(0));
  Write(store, [&](Transaction& tx) { CHECK_OK(tx.InsertRunSegment(open)); });
  std::vector<std::pair<std::string, std::function<void(RunSegment&)>>> changes = {
      {"tenant", [](RunSegment& s) { s.tenant_id = "t2"; }},
      {"agent", [](RunSegment& s) { s.agent_id = "a2"; }},
      {"instance", [](RunSegment& s) { s.instance_id = std::string(kI2); }},
      {"role", [](RunSegment& s) { s.role = RunRole::kReplica; }},
      {"placement mode", [](RunSegment& s) { s.placement.mode = Mode::kOnDemand; }},
      {"placement az", [](RunSegment& s) { s.placement.az = "us-east-1b"; }},
      {"placement type", [](RunSegment& s) { s.placement.instance_type = "m5.xlarge"; }},
      {"placement region", [](RunSegment& s) { s.placement.region = "us-west-2"; }},
      {"placement instance", [](RunSegment& s) { s.placement.instance_id = std::string(kI2); }},
      {"started_at", [](RunSegment& s) { s.started_at = At(1); }},
  };
  Write(store, [&](Transaction& tx) {
    for (const auto& [name, change] : changes) {
      CAPTURE(name);
      RunSegment changed = open;
      changed.ended_at = At(60);
      change(changed);
      CHECK(CodeOf(tx.UpdateRunSegment(changed)) == StatusCode::kFailedPrecondition);
    }
    CHECK(CodeOf(tx.UpdateRunSegment(MakeSegment("g9", "a1", std::string(kI1), RunRole::kPrimary,
                                                 At(0), At(60)))) == StatusCode::kNotFound);
    CHECK(Value(tx.FindOpenRunSegment("a1", kI1)) == open);
    RunSegment closed = open;
    closed.ended_at = At(60);
    CHECK_OK(tx.UpdateRunSegment(closed));
    CHECK(CodeOf(tx.FindOpenRunSegment("a1", kI1)) == StatusCode::kNotFound);
  });
  auto tx = Read(store);
  std::vector<RunSegment> listed = Value(tx->ListRunSegments("a1"));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].ended_at == At(60));
  listed[0].ended_at.reset();
  CHECK(listed[0] == open);
}

TEST_CASE_TEMPLATE("run segments: rolled-back inserts and updates leave nothing behind", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const RunSegment open = MakeSegment("g1", "a1", std::string(kI1), RunRole::kPrimary, At(0));
  Write(store, [&](Transaction& tx) { CHECK_OK(tx.InsertRunSegment(open)); });
  const std::string before = Value(DumpStore(store));
  {
    auto tx = Value(store.Begin(TxMode::kWrite));
    RunSegment closed = open;
    closed.ended_at = At(10);
    CHECK_OK(tx->UpdateRunSegment(closed));
    CHECK_OK(
        tx->InsertRunSegment(MakeSegment("g2", "a1", std::string(kI1), RunRole::kPrimary, At(10))));
    CHECK_OK(
        tx->InsertRunSegment(MakeSegment("g3", "a2", std::string(kI2), RunRole::kReplica, At(10))));
    CHECK(Value(tx->FindOpenRunSegment("a1", kI1)).id == "g2");
  }
  CHECK(Value(DumpStore(store)) == before);
  auto tx = Read(store);
  CHECK(Value(tx->FindOpenRunSegment("a1", kI1)) == open);
  CHECK(CodeOf(tx->FindOpenRunSegment("a2", kI2)) == StatusCode::kNotFound);
  CHECK(Ids(Value(tx->ListTenantRunSegments("t1"))) == Strings{"g1"});
}

// The same writes, including refused and rolled-back ones, applied to a store.
void Scenario(Store& store) {
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.InsertTenant(FullTenant()));
    CHECK_OK(tx.InsertToken(FullToken()));
    CHECK_OK(tx.InsertToken(MakeToken("pppp0001", "t1", At(-1))));
    CHECK_OK(tx.InsertAgent(FullAgent()));
    CHECK_OK(tx.InsertAlias(FullAlias()));
    CHECK_OK(tx.InsertRegistration(FullRegistration()));
    CHECK_OK(tx.InsertRegistration(MakeRegistration("r1", "a1", "i-00000000000000001", At(1))));
    CHECK(tx.InsertCommand(FullCommand()).ok());
    CHECK(tx.InsertCommand(MakeCommand("c1", "a1", CommandType::kSwitch, CommandState::kLeased,
                                       Priority::kManual, At(2)))
              .ok());
    CHECK(CodeOf(tx.InsertCommand(
              MakeCommand("c2", "a1", CommandType::kSwitch, CommandState::kPending))) ==
          StatusCode::kFailedPrecondition);
    CHECK_OK(tx.InsertReplica(FullReplica()));
    CHECK_OK(tx.InsertReplica(MakeReplica("p1", "a1", ReplicaState::kSyncing, At(3))));
    CHECK_OK(tx.InsertIncident(FullIncident()));
    CHECK_OK(tx.InsertIncident(MakeIncident("n1", "a1", At(4))));
    CHECK_OK(tx.InsertEvent(FullEvent()));
    CHECK_OK(tx.InsertEvent(MakeEvent("e1", "a1", At(5))));
    CHECK(
        tx.InsertPriceObservation(MakePrice("t1", "us-east-1a", PriceKind::kSpot, 7, At(6))).ok());
    CHECK_OK(tx.InsertSwitch(FullSwitch()));
    CHECK(tx.InsertDecision(FullDecision()).ok());
    CHECK(tx.InsertDecision(MakeDecision("d1", "t1", "a1", At(8))).ok());
  });
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(rolled_back->InsertDecision(MakeDecision("d-gone", "t1", "a1", At(9))).ok());
    CHECK_OK(rolled_back->InsertTenant(MakeTenant("t-gone")));
    // A rolled-back insert leaves no gap in the sequence either.
    CHECK(rolled_back
              ->InsertCommand(
                  MakeCommand("c-gone", "a2", CommandType::kCreateReplica, CommandState::kPending))
              .ok());
    Replica p1 = Value(rolled_back->GetReplica("p1"));
    p1.state = ReplicaState::kFailed;
    CHECK_OK(rolled_back->UpdateReplica(p1));
    CHECK(rolled_back->InsertPriceObservation(MakePrice("t1", "", PriceKind::kOnDemand, 9, At(7)))
              .ok());
  }
  Write(store, [](Transaction& tx) {
    Command c1 = Value(tx.GetCommand("c1"));
    c1.state = CommandState::kSucceeded;
    c1.closed_at = At(30);
    CHECK_OK(tx.UpdateCommand(c1));
    CHECK(tx.InsertCommand(MakeCommand("c3", "a2", CommandType::kCreateReplica,
                                       CommandState::kPending, Priority::kUrgent, At(31)))
              .ok());
    Agent a2 = Value(tx.GetAgent("a2"));
    a2.config = FullAgent().config;
    a2.placement = FullAgent().placement;
    CHECK_OK(tx.UpdateAgent(a2));
    Incident n1 = Value(tx.GetIncident("n1"));
    n1.closed_at = At(40);
    n1.decision = "promoted";
    CHECK_OK(tx.UpdateIncident(n1));
    CHECK(tx.InsertPriceObservation(MakePrice("t2", "", PriceKind::kOnDemand, 8, At(8))).ok());
    CHECK(tx.InsertPriceObservation(CatalogPrice("t1", "us-east-1b", PriceKind::kSpot, 9, At(9)))
              .ok());
    CHECK(tx.InsertPriceObservation(CatalogPrice("t1", "", PriceKind::kOnDemand, 10, At(9))).ok());
    CHECK_OK(tx.InsertRunSegment(
        MakeSegment("g1", "a1", "i-00000000000000001", RunRole::kPrimary, At(1), At(30))));
    CHECK_OK(tx.InsertRunSegment(
        MakeSegment("g2", "a1", "i-00000000000000001", RunRole::kReplica, At(3))));
    CHECK_OK(tx.InsertRunSegment(
        MakeSegment("g3", "a2", "i-00000000000000002", RunRole::kPrimary, At(2))));
  });
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK_OK(rolled_back->DeletePriceObservations({1, 3}));
    CHECK_OK(rolled_back->UpdateRunSegment(
        MakeSegment("g3", "a2", "i-00000000000000002", RunRole::kPrimary, At(2), At(4))));
  }
  Write(store, [](Transaction& tx) {
    CHECK_OK(tx.DeletePriceObservations({3}));
    CHECK_OK(tx.UpdateRunSegment(
        MakeSegment("g2", "a1", "i-00000000000000001", RunRole::kReplica, At(3), At(40))));
  });
}

TEST_CASE_TEMPLATE("decision log: seq, pages newest first, latest keys, retention", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK(Value(tx.InsertDecision(MakeDecision("d1", "t1", "a1", At(1)))) == 1);
    CHECK(Value(tx.InsertDecision(MakeDecision("d2", "t1", "a2", At(2)))) == 2);
    CHECK(Value(tx.InsertDecision(
              MakeDecision("d3", "t1", "a1", At(3), decision::Action::kSwitchSpot))) == 3);
    CHECK(Value(tx.InsertDecision(MakeDecision("d4", "t2", "b1", At(4)))) == 4);
    CHECK(CodeOf(tx.InsertDecision(MakeDecision("d1", "t1", "a1", At(5)))) ==
          StatusCode::kAlreadyExists);
  });
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(Value(rolled_back->InsertDecision(MakeDecision("d-gone", "t1", "a1", At(6)))) ==
          After<F>(5, 1));
  }
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListDecisions("a1", 0, 10))) == Strings{"d3", "d1"});
  CHECK(Ids(Value(tx->ListDecisions("a1", 3, 10))) == Strings{"d1"});
  CHECK(Ids(Value(tx->ListDecisions("a1", 0, 1))) == Strings{"d3"});
  CHECK(Ids(Value(tx->ListTenantDecisions("t1", 0, 10))) == Strings{"d3", "d2", "d1"});
  CHECK(Ids(Value(tx->ListTenantDecisions("t2", 0, 10))) == Strings{"d4"});
  CHECK(Value(tx->ListDecisions("missing", 0, 10)).empty());
  const std::vector<Transaction::DecisionHead> heads = Value(tx->ListLatestDecisionKeys());
  REQUIRE(heads.size() == 3);
  CHECK(heads[0].agent_id == "a1");
  CHECK(heads[0].seq == 3);
  CHECK(heads[0].key ==
        decision::DecisionKey(
            MakeDecision("x", "t1", "a1", At(0), decision::Action::kSwitchSpot).decision));
  CHECK(heads[1].agent_id == "a2");
  CHECK(heads[2].agent_id == "b1");
  tx.reset();

  // The refused and the rolled-back insert's numbers are handed out again where
  // seqs roll back.
  Write(store, [](Transaction& tx) {
    CHECK(Value(tx.InsertDecision(MakeDecision("d5", "t1", "a1", At(7)))) == After<F>(5, 2));
  });
  // Retention keeps every agent's latest entry, however old.
  Write(store, [](Transaction& tx) { CHECK(Value(tx.DeleteDecisionsBefore(At(100))) == 2); });
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(Value(rolled_back->DeleteDecisionsBefore(At(100))) == 0);
  }
  tx = Read(store);
  CHECK(Ids(Value(tx->ListTenantDecisions("t1", 0, 10))) == Strings{"d5", "d2"});
  CHECK(Ids(Value(tx->ListTenantDecisions("t2", 0, 10))) == Strings{"d4"});
}

TEST_CASE_TEMPLATE("decision log: a rolled-back deletion and insert restore the latest keys", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK(tx.InsertDecision(MakeDecision("d1", "t1", "a1", At(1))).ok());
    CHECK(tx.InsertDecision(MakeDecision("d2", "t1", "a1", At(2))).ok());
  });
  {
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(Value(rolled_back->DeleteDecisionsBefore(At(100))) == 1);
    CHECK(rolled_back
              ->InsertDecision(MakeDecision("d3", "t1", "a1", At(3), decision::Action::kSwitchSpot))
              .ok());
  }
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListDecisions("a1", 0, 10))) == Strings{"d2", "d1"});
  const std::vector<Transaction::DecisionHead> heads = Value(tx->ListLatestDecisionKeys());
  REQUIRE(heads.size() == 1);
  CHECK(heads[0].seq == 2);
  CHECK(heads[0].key == decision::DecisionKey(MakeDecision("x", "t1", "a1", At(0)).decision));
}

TEST_CASE_TEMPLATE("the fleet run's bulk reads: commands since, a tenant's recent incidents", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  Write(store, [](Transaction& tx) {
    CHECK(tx.InsertCommand(MakeCommand("c-old", "a1", CommandType::kSwitch, CommandState::kFailed,
                                       Priority::kNormal, At(-10)))
              .ok());
    CHECK(tx.InsertCommand(MakeCommand("c-new", "a2", CommandType::kSwitch, CommandState::kPending,
                                       Priority::kNormal, At(5)))
              .ok());
    CHECK(tx.InsertCommand(MakeCommand("c-mid", "b1", CommandType::kCreateReplica,
                                       CommandState::kSucceeded, Priority::kManual, At(0)))
              .ok());
    Incident i = MakeIncident("n1", "a1", At(2));
    i.pool = {"us-east-1", "us-east-1a", "m5.large"};
    CHECK_OK(tx.InsertIncident(i));
    CHECK_OK(tx.InsertIncident(MakeIncident("n0", "a2", At(-1))));
    Incident other = MakeIncident("n2", "b1", At(3));
    other.tenant_id = "t2";
    CHECK_OK(tx.InsertIncident(other));
  });
  auto tx = Read(store);
  CHECK(Ids(Value(tx->ListCommandsSince(At(0)))) == Strings{"c-new", "c-mid"});  // by seq
  CHECK(Ids(Value(tx->ListCommandsSince(At(-100)))) == Strings{"c-old", "c-new", "c-mid"});
  const std::vector<Incident> recent = Value(tx->ListTenantIncidentsSince("t1", At(0)));
  CHECK(Ids(recent) == Strings{"n1"});
  CHECK(recent[0].pool.az == "us-east-1a");
  CHECK(Ids(Value(tx->ListTenantIncidentsSince("t2", At(0)))) == Strings{"n2"});
}

TEST_CASE("DumpStore gives the same text for MemoryStore and SqliteStore") {
  MemoryFixture memory;
  SqliteFixture sqlite;
  Scenario(*memory.store);
  Scenario(*sqlite.store);
  std::string memory_dump = Value(DumpStore(*memory.store));
  std::string sqlite_dump = Value(DumpStore(*sqlite.store));
  CHECK(!memory_dump.empty());
  CHECK(memory_dump == sqlite_dump);
}

// Random inserts (many out of time order) and deletions in committed and rolled-back
// transactions, the same on both stores: every view of the prices must agree.
void RandomPrices(Store& store, unsigned seed) {
  Seed(store);
  std::mt19937 rng(seed);
  const std::vector<std::string> azs = {"us-east-1a", "us-east-1b", ""};
  std::vector<int64_t> seqs;
  for (int round = 0; round < 30; ++round) {
    auto tx = Value(store.Begin(TxMode::kWrite));
    const int ops = std::uniform_int_distribution<int>(1, 400)(rng);
    for (int i = 0; i < ops; ++i) {
      if (!seqs.empty() && rng() % 4 == 0) {
        std::vector<int64_t> doomed;
        for (int k = 0; k < 8; ++k) doomed.push_back(seqs[rng() % seqs.size()]);
        CHECK_OK(tx->DeletePriceObservations(doomed));
        continue;
      }
      const std::string& az = azs[rng() % azs.size()];
      PriceObservation o = MakePrice(rng() % 2 == 0 ? "t1" : "t2", az,
                                     az.empty() ? PriceKind::kOnDemand : PriceKind::kSpot,
                                     static_cast<int64_t>(rng() % 100'000),
                                     At(round * 400 + i - static_cast<int>(rng() % 3) * 200));
      seqs.push_back(Value(tx->InsertPriceObservation(o)));
    }
    if (rng() % 3 == 0) continue;  // rolled back
    CHECK_OK(tx->Commit());
  }
}

TEST_CASE("price observations: random inserts, deletions and rollbacks agree across stores") {
  const unsigned seed = std::random_device()();
  CAPTURE(seed);
  MemoryFixture memory;
  SqliteFixture sqlite;
  RandomPrices(*memory.store, seed);
  RandomPrices(*sqlite.store, seed);
  CHECK(Value(DumpStore(*memory.store)) == Value(DumpStore(*sqlite.store)));
  auto m = Read(*memory.store);
  auto q = Read(*sqlite.store);
  for (const std::string tenant : {"t1", "t2"}) {
    CAPTURE(tenant);
    const std::vector<Pool> pools = Value(m->ListPriceSeries(tenant));
    CHECK(pools == Value(q->ListPriceSeries(tenant)));
    CHECK(Seqs(Value(m->ListLatestPrices(tenant, "us-east-1", "m5.large"))) ==
          Seqs(Value(q->ListLatestPrices(tenant, "us-east-1", "m5.large"))));
    for (const Pool& pool : pools) {
      for (auto [from, to] : std::vector<std::pair<int, int>>{{-1000, 20000}, {1000, 5000}}) {
        CHECK(Seqs(Value(m->ListPriceObservations(tenant, pool, At(from), At(to)))) ==
              Seqs(Value(q->ListPriceObservations(tenant, pool, At(from), At(to)))));
      }
    }
  }
}

// Store::AddPriceObservations: a store may hold them (SqliteStore does, for
// SqliteOptions::price_hold), but whatever begins afterwards reads them as written,
// in the order they were added, each once.
TEST_CASE_TEMPLATE("added price observations: read as written, in order, each once", F,
                   STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  const Pool a{"us-east-1", "us-east-1a", "m5.large"};
  REQUIRE_OK(
      store.AddPriceObservations({MakePrice("t1", "us-east-1a", PriceKind::kSpot, 38'900, At(0)),
                                  MakePrice("t1", "", PriceKind::kOnDemand, 96'000, At(0))}));
  {
    // A reader that began afterwards, and its later snapshot reads, see them.
    auto tx = Read(store);
    CHECK(Value(tx->GetTenant("t1")).id == "t1");
    CHECK(Prices(Value(tx->ListPriceObservations("t1", a, At(0), At(1)))) ==
          std::vector<int64_t>{38'900});
    CHECK(Prices(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"))) ==
          std::vector<int64_t>{96'000, 38'900});
  }
  // A writer inserts after them: seq follows the order of arrival.
  REQUIRE_OK(
      store.AddPriceObservations({MakePrice("t1", "us-east-1a", PriceKind::kSpot, 39'000, At(0))}));
  Write(store, [&](Transaction& tx) {
    CHECK_OK(
        tx.InsertPriceObservation(MakePrice("t1", "us-east-1a", PriceKind::kSpot, 39'100, At(0)))
            .status());
  });
  {
    // A writer rolled back after reading them: they are still there, once.
    REQUIRE_OK(store.AddPriceObservations(
        {MakePrice("t1", "us-east-1a", PriceKind::kSpot, 39'200, At(0))}));
    auto rolled_back = Value(store.Begin(TxMode::kWrite));
    CHECK(Value(rolled_back->ListTenantPriceObservations("t1")).size() == 5);
  }
  REQUIRE_OK(store.FlushHeld());
  auto tx = Read(store);
  const std::vector<PriceObservation> all = Value(tx->ListTenantPriceObservations("t1"));
  CHECK(Prices(all) == std::vector<int64_t>{38'900, 96'000, 39'000, 39'100, 39'200});
  CHECK(std::is_sorted(all.begin(), all.end(),
                       [](const auto& x, const auto& y) { return x.seq < y.seq; }));
  // The same observed_at: seq orders them, so the last added is the newest.
  CHECK(Prices(Value(tx->ListLatestPrices("t1", "us-east-1", "m5.large"))) ==
        std::vector<int64_t>{96'000, 39'200});
}

// Reports added from several threads while others read: after each add returns,
// a transaction begun on that thread reads it; in the end each observation is
// stored once, and each thread's in the order it added them.
TEST_CASE_TEMPLATE("added price observations: concurrent adds and reads", F, STORE_FIXTURES) {
  F fx;
  Store& store = *fx.store;
  Seed(store);
  constexpr int kThreads = 4;
  constexpr int kReports = 150;
  const auto price = [](int thread, int report) { return 1'000'000 * (thread + 1) + report; };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string az = "us-east-1" + std::string(1, static_cast<char>('a' + t));
      const Pool pool{"us-east-1", az, "m5.large"};
      for (int r = 0; r < kReports; ++r) {
        // No REQUIRE off the main thread: doctest would end the process.
        CHECK_OK(store.AddPriceObservations(
            {MakePrice("t1", az, PriceKind::kSpot, price(t, r), At(r))}));
        if (r % 10 != 0) continue;
        // Alternately in a read and a write transaction.
        absl::StatusOr<std::unique_ptr<Transaction>> tx =
            store.Begin(r % 20 == 0 ? TxMode::kRead : TxMode::kWrite);
        CHECK_OK(tx.status());
        if (!tx.ok()) continue;
        absl::StatusOr<std::vector<PriceObservation>> seen =
            (*tx)->ListPriceObservations("t1", pool, At(r), At(r + 1));
        CHECK_OK(seen.status());
        if (seen.ok()) CHECK(Prices(*seen) == std::vector<int64_t>{price(t, r)});
      }
    });
  }
  for (std::thread& th : threads) th.join();
  REQUIRE_OK(store.FlushHeld());
  const std::vector<PriceObservation> all = Value(Read(store)->ListTenantPriceObservations("t1"));
  CHECK(all.size() == size_t{kThreads * kReports});
  std::vector<int> next(kThreads, 0);
  for (const PriceObservation& o : all) {
    const int t = o.az.back() - 'a';
    REQUIRE(t >= 0);
    REQUIRE(t < kThreads);
    CHECK(o.price.micros() == price(t, next[t]));
    ++next[t];
  }
}

TEST_CASE("MemoryStore: concurrent write transactions serialize") {
  MemoryStore store;
  Seed(store);
  Write(store,
        [](Transaction& tx) { CHECK_OK(tx.InsertIncident(MakeIncident("n1", "a1", At(0)))); });
  constexpr int kPerThread = 1000;
  auto increment = [&] {
    for (int i = 0; i < kPerThread; ++i) {
      auto tx = Value(store.Begin(TxMode::kWrite));
      Incident n = Value(tx->GetIncident("n1"));
      ++n.repeat_count;
      CHECK_OK(tx->UpdateIncident(n));
      CHECK_OK(tx->Commit());
    }
  };
  std::thread first(increment);
  std::thread second(increment);
  first.join();
  second.join();
  CHECK(Value(Read(store)->GetIncident("n1")).repeat_count == 2 * kPerThread);
}

TEST_CASE("MemoryStore: read-only and finished transactions refuse work") {
  MemoryStore store;
  auto reader = Read(store);
  CHECK(CodeOf(reader->InsertTenant(MakeTenant("t1"))) == StatusCode::kFailedPrecondition);
  CHECK(CodeOf(reader->InsertCommand(
            MakeCommand("c1", "a1", CommandType::kSwitch, CommandState::kPending))) ==
        StatusCode::kFailedPrecondition);
  CHECK_OK(reader->Commit());
  CHECK(CodeOf(reader->ListTenants()) == StatusCode::kFailedPrecondition);
  CHECK(CodeOf(reader->Commit()) == StatusCode::kFailedPrecondition);

  auto writer = Value(store.Begin(TxMode::kWrite));
  CHECK_OK(writer->InsertTenant(MakeTenant("t1")));
  CHECK_OK(writer->Commit());
  CHECK(CodeOf(writer->InsertTenant(MakeTenant("t2"))) == StatusCode::kFailedPrecondition);
  CHECK(Ids(Value(Read(store)->ListTenants())) == Strings{"t1"});
}

}  // namespace
}  // namespace spotopt
