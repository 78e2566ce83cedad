// Shared set-up for the service tests: a Controller over a MemoryStore, a SqliteStore
// in a fresh temporary file or a PostgresStore in a fresh schema of the server ctest
// starts (tests/pg/pg_fixture.h), driven by a ManualClock, plus helpers that
// build tenants, agents, commands and replicas the way agent v4 would, through the
// public API only.
//
// Run a test on every store with doctest's template test cases:
//
//   TEST_CASE_TEMPLATE("heartbeat keeps an agent online", S, SPOTOPT_ALL_STORES) {
//     spotopt::testing::ServiceFixture f(S::kKind);
//     const std::string tenant = f.NewTenant("acme");
//     const auto agent = f.RegisterAgent(tenant, "checkout-api-1", InstanceId(1));
//     ...
//   }
//
// Helpers REQUIRE their own steps to succeed, so a broken set-up stops the test at
// the step that broke instead of failing later assertions for the wrong reason.
#ifndef SPOTOPT_TESTS_SERVICE_FIXTURE_H_
#define SPOTOPT_TESTS_SERVICE_FIXTURE_H_

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>
#include "spotopt/clock.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/memory_store.h"
#include "spotopt/store/postgres_store.h"
#include "spotopt/store/sqlite_store.h"
#include "spotopt/store/store.h"
#include "tests/pg/pg_fixture.h"

namespace spotopt::testing {

enum class StoreKind { kMemory, kSqlite, kPostgres };

inline std::string_view ToString(StoreKind kind) {
  switch (kind) {
    case StoreKind::kMemory:
      return "MemoryStore";
    case StoreKind::kSqlite:
      return "SqliteStore";
    case StoreKind::kPostgres:
      return "PostgresStore";
  }
  return "?";
}

// Type tags for TEST_CASE_TEMPLATE, so that one test body runs on every store.
struct OnMemoryStore {
  static constexpr StoreKind kKind = StoreKind::kMemory;
};
struct OnSqliteStore {
  static constexpr StoreKind kKind = StoreKind::kSqlite;
};
struct OnPostgresStore {
  static constexpr StoreKind kKind = StoreKind::kPostgres;
};
#define SPOTOPT_ALL_STORES                                          \
  spotopt::testing::OnMemoryStore, spotopt::testing::OnSqliteStore, \
      spotopt::testing::OnPostgresStore

// 2025-11-23T10:00:00Z, a Sunday: the ManualClock's start, well inside the accepted
// timestamp range.
inline Time TestEpoch() {
  return absl::FromCivil(absl::CivilSecond(2025, 11, 23, 10, 0, 0), absl::UTCTimeZone());
}

// A distinct, well-formed 17-digit instance id per n: InstanceId(1) is
// "i-0a1b2c3d4e0000001".
inline std::string InstanceId(uint32_t n) { return fmt::format("i-0a1b2c3d4e{:07x}", n); }

// The wire pool id of an m5.large pool in us-east-1: PoolId("us-east-1c") is
// "m5.large.us-east-1c".
inline std::string PoolId(std::string_view az) { return fmt::format("m5.large.{}", az); }

// The status of a Status or a StatusOr, so tables can hold either kind of call.
inline absl::Status StatusOf(const absl::Status& s) { return s; }
template <class T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// The ids an agent process works with.
struct AgentHandle {
  std::string tenant_id;
  std::string agent_id;         // the logical agent
  std::string registration_id;  // the wire `agent_id` of the registering instance
  std::string instance_id;
};

// A Controller over one store. A SQLite database lives in a temporary file that is
// removed (with its WAL and shared-memory files) when the fixture is destroyed.
class ServiceFixture {
 public:
  explicit ServiceFixture(StoreKind kind, ControllerOptions options = {})
      : kind_(kind), clock_(std::make_shared<ManualClock>(TestEpoch())) {
    if (kind == StoreKind::kMemory) {
      store_ = std::make_shared<MemoryStore>();
    } else if (kind == StoreKind::kPostgres) {
      schema_ = std::make_unique<PgSchema>();
      absl::StatusOr<std::unique_ptr<PostgresStore>> opened =
          PostgresStore::Open(schema_->conninfo());
      REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
      store_ = std::move(*opened);
    } else {
      db_path_ =
          (std::filesystem::temp_directory_path() / fmt::format("spotopt-{}.db", NewId())).string();
      absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(db_path_);
      REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
      sqlite_ = opened->get();
      store_ = std::move(*opened);
    }
    controller_ = std::make_unique<Controller>(store_, clock_, options);
  }

  ~ServiceFixture() {
    controller_.reset();
    sqlite_ = nullptr;
    store_.reset();
    if (!db_path_.empty()) {
      std::error_code ignored;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::filesystem::remove(db_path_ + suffix, ignored);
      }
    }
  }

  ServiceFixture(const ServiceFixture&) = delete;
  ServiceFixture& operator=(const ServiceFixture&) = delete;

  StoreKind kind() const { return kind_; }
  Controller& controller() { return *controller_; }
  ManualClock& clock() { return *clock_; }
  Store& store() { return *store_; }
  // The database file of a SqliteStore fixture; empty for a MemoryStore.
  const std::string& db_path() const { return db_path_; }

  // Every record of the store as canonical text; compare two dumps to prove that a
  // refused call changed nothing.
  std::string Dump() {
    absl::StatusOr<std::string> dump = DumpStore(*store_);
    REQUIRE_MESSAGE(dump.ok(), dump.status().ToString());
    return *std::move(dump);
  }

  // SQLite's integrity check of the database file; a MemoryStore has none.
  absl::Status CheckIntegrity() {
    return sqlite_ == nullptr ? absl::OkStatus() : sqlite_->CheckIntegrity();
  }

  // Creates an active tenant and returns its id.
  std::string NewTenant(std::string_view name) {
    absl::StatusOr<CreatedTenant> created = controller_->CreateTenant(name);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    return created->tenant.id;
  }

  // The register body agent v4 sends from an m5.large spot instance in us-east-1.
  static RegisterRequest MakeRegisterRequest(std::string_view logical_id,
                                             std::string_view instance_id,
                                             std::string_view az = "us-east-1a") {
    RegisterRequest request;
    request.logical_id = std::string(logical_id);
    request.instance_id = std::string(instance_id);
    request.region = "us-east-1";
    request.facts.hostname = "ip-10-0-3-17";
    request.facts.instance_type = "m5.large";
    request.facts.az = std::string(az);
    request.facts.ami_id = "ami-0c55b159cbfafe1f0";
    request.facts.private_ip = "10.0.3.17";
    request.facts.agent_version = "4.0.0";
    request.facts.mode = Mode::kSpot;
    return request;
  }

  AgentHandle RegisterAgent(std::string_view tenant_id, std::string_view logical_id,
                            std::string_view instance_id, std::string_view az = "us-east-1a") {
    absl::StatusOr<RegisterResult> result =
        controller_->Register(tenant_id, MakeRegisterRequest(logical_id, instance_id, az));
    REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    return AgentHandle{std::string(tenant_id), result->agent.id,
                       result->registration.registration.id, std::string(instance_id)};
  }

  // Applies a config patch and returns the new config.
  AgentConfig Configure(const AgentHandle& agent, const AgentConfigPatch& patch) {
    absl::StatusOr<AgentConfig> config =
        controller_->UpdateConfig(agent.tenant_id, agent.agent_id, patch);
    REQUIRE_MESSAGE(config.ok(), config.status().ToString());
    return *config;
  }

  // A PENDING operator switch (priority 75, limits overridden so that tests can
  // enqueue as many as they need) to the spot pool in `az`, or to on-demand.
  Command EnqueueSwitch(const AgentHandle& agent, std::optional<std::string_view> az) {
    SwitchRequest request;
    request.target_mode = az ? Mode::kSpot : Mode::kOnDemand;
    request.target_pool_id = az ? PoolId(*az) : "";
    request.priority = Priority::kManual;
    request.reason = "operator: move to a cheaper pool";
    request.requested_by = "ops@example.com";
    request.override_limits = true;
    absl::StatusOr<Command> command =
        controller_->EnqueueSwitch(agent.tenant_id, agent.agent_id, request);
    REQUIRE_MESSAGE(command.ok(), command.status().ToString());
    REQUIRE(command->state == CommandState::kPending);
    return *command;
  }

  // Polls as the agent's registration and expects a command.
  Command PollExpectingCommand(const AgentHandle& agent) {
    absl::StatusOr<std::optional<Command>> polled =
        controller_->PollCommand(agent.tenant_id, agent.registration_id);
    REQUIRE_MESSAGE(polled.ok(), polled.status().ToString());
    REQUIRE(polled->has_value());
    REQUIRE((*polled)->state == CommandState::kLeased);
    return **polled;
  }

  // A listing replica in `az`, launched by the primary's replica poll on `instance_id`
  // and reported up to `until` (SYNCING or READY).
  Replica MakeReplica(const AgentHandle& agent, std::string_view instance_id,
                      std::string_view az = "us-east-1c",
                      ReplicaState until = ReplicaState::kReady) {
    ReplicaRequest request;
    request.pool_id = PoolId(az);
    request.requested_by = "ops@example.com";
    absl::StatusOr<Replica> requested =
        controller_->RequestReplica(agent.tenant_id, agent.agent_id, request);
    REQUIRE_MESSAGE(requested.ok(), requested.status().ToString());
    REQUIRE(requested->state == ReplicaState::kRequested);

    absl::StatusOr<std::vector<Replica>> leased =
        controller_->LeaseReplicaLaunches(agent.tenant_id, agent.registration_id);
    REQUIRE_MESSAGE(leased.ok(), leased.status().ToString());
    REQUIRE(leased->size() == 1);
    REQUIRE(leased->front().id == requested->id);
    REQUIRE(leased->front().state == ReplicaState::kLaunching);

    absl::StatusOr<Replica> syncing =
        controller_->ReportReplicaInstance(agent.tenant_id, agent.registration_id, requested->id,
                                           instance_id, ReplicaReport::kSyncing);
    REQUIRE_MESSAGE(syncing.ok(), syncing.status().ToString());
    REQUIRE(syncing->state == ReplicaState::kSyncing);
    REQUIRE(syncing->instance_id == instance_id);
    if (until == ReplicaState::kSyncing) return *syncing;

    absl::StatusOr<Replica> ready =
        controller_->ReportReplicaStatus(agent.tenant_id, agent.registration_id, requested->id,
                                         ReplicaReport::kReady, clock_->Now(), "");
    REQUIRE_MESSAGE(ready.ok(), ready.status().ToString());
    REQUIRE(ready->state == ReplicaState::kReady);
    return *ready;
  }

 private:
  StoreKind kind_;
  std::shared_ptr<ManualClock> clock_;
  std::string db_path_;
  std::unique_ptr<PgSchema> schema_;  // a PostgresStore's; dropped once the store closed
  std::shared_ptr<Store> store_;
  SqliteStore* sqlite_ = nullptr;  // store_ when it is a SqliteStore
  std::unique_ptr<Controller> controller_;
};

}  // namespace spotopt::testing

// Names the template test cases "<name><MemoryStore>", "<name><SqliteStore>" and
// "<name><PostgresStore>".
TYPE_TO_STRING_AS("MemoryStore", spotopt::testing::OnMemoryStore);
TYPE_TO_STRING_AS("SqliteStore", spotopt::testing::OnSqliteStore);
TYPE_TO_STRING_AS("PostgresStore", spotopt::testing::OnPostgresStore);

#endif  // SPOTOPT_TESTS_SERVICE_FIXTURE_H_
