// Command leases hold across processes that share one store, a SQLite file or a
// PostgreSQL database: processes polling the same agent at the same moment never
// both receive a command, and processes running the fleet's decisions at once queue
// one switch per agent.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fixture.h"
#include "spotopt/store/open.h"
#include "tests/pg/pg_fixture.h"

namespace spotopt {
namespace {

// Forks `n` children that each run `child` (which must _exit) after a start byte,
// releases them at once, and returns their exit codes.
template <class Child>
std::vector<int> RunTogether(int n, Child child) {
  int start[2];
  REQUIRE(pipe(start) == 0);
  std::vector<pid_t> children;
  for (int i = 0; i < n; ++i) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(start[1]);
      child(start[0]);
    }
    children.push_back(pid);
  }
  close(start[0]);
  const std::string go(static_cast<size_t>(n), 'g');
  REQUIRE(write(start[1], go.data(), go.size()) == static_cast<ssize_t>(go.size()));
  close(start[1]);
  std::vector<int> codes;
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    codes.push_back(WEXITSTATUS(status));
  }
  return codes;
}

// A store every process opens by its URI: a new SQLite file, or a new schema in the
// PostgreSQL server ctest starts. Store handles must not cross fork(): the parent
// closes its own before forking, and each child opens the store anew.
class SharedStore {
 public:
  static SharedStore Sqlite() {
    return SharedStore(
        (std::filesystem::temp_directory_path() / fmt::format("spotopt-mp-{}.db", NewId()))
            .string());
  }
  static SharedStore Postgres() { return SharedStore(std::make_unique<testing::PgSchema>()); }
  ~SharedStore() {
    if (schema_ != nullptr) return;  // the schema drops itself
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_ + suffix, ignored);
  }
  SharedStore(SharedStore&&) = default;

  std::string uri() const {
    return schema_ != nullptr ? "postgresql:" + schema_->conninfo() : "sqlite:" + path_;
  }
  std::unique_ptr<Controller> Open(std::shared_ptr<const Clock> clock) const {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(uri());
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::make_unique<Controller>(std::move(*store), std::move(clock));
  }

 private:
  explicit SharedStore(std::string path) : path_(std::move(path)) {}
  explicit SharedStore(std::unique_ptr<testing::PgSchema> schema) : schema_(std::move(schema)) {}
  std::string path_;
  std::unique_ptr<testing::PgSchema> schema_;
};

// In a child process: open the shared store, wait for the start byte, poll once.
// Exit code 10 = received a command, 11 = nothing, anything else = error.
[[noreturn]] void PollInChild(const std::string& uri, const testing::AgentHandle& agent,
                              int start_fd) {
  auto store = OpenStore(uri);
  if (!store.ok()) _exit(2);
  Controller controller(std::move(*store), std::make_shared<SystemClock>());
  char go;
  if (read(start_fd, &go, 1) != 1) _exit(3);
  auto polled = controller.PollCommand(agent.tenant_id, agent.registration_id);
  if (!polled.ok()) {
    fprintf(stderr, "child: %s\n", polled.status().ToString().c_str());
    _exit(4);
  }
  _exit(polled->has_value() ? 10 : 11);
}

// `processes` poll one agent's one command at once, `rounds` times over.
void LeaseRace(const SharedStore& shared, int processes, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    testing::AgentHandle agent;
    {
      std::unique_ptr<Controller> opened = shared.Open(std::make_shared<SystemClock>());
      Controller& c = *opened;
      auto tenant = c.CreateTenant("acme");
      REQUIRE(tenant.ok());
      auto reg = c.Register(tenant->tenant.id, testing::ServiceFixture::MakeRegisterRequest(
                                                   "api", testing::InstanceId(round + 1)));
      REQUIRE(reg.ok());
      agent = {tenant->tenant.id, reg->agent.id, reg->registration.registration.id,
               testing::InstanceId(round + 1)};
      SwitchRequest sw{
          .target_mode = Mode::kOnDemand, .priority = Priority::kManual, .override_limits = true};
      REQUIRE(c.EnqueueSwitch(agent.tenant_id, agent.agent_id, sw).ok());
    }  // closed before forking

    int received = 0;
    for (const int code :
         RunTogether(processes, [&](int start) { PollInChild(shared.uri(), agent, start); })) {
      REQUIRE_MESSAGE((code == 10 || code == 11), "child failed with ", code);
      received += code == 10;
    }
    CHECK(received == 1);
  }
}

// In a child process: wait for the start byte, then open the store, which creates its
// schema. Exit code 0 = opened, 1 = refused.
[[noreturn]] void OpenInChild(const std::string& uri, int start_fd) {
  char go;
  if (read(start_fd, &go, 1) != 1) _exit(3);
  auto store = OpenStore(uri);
  if (!store.ok()) fprintf(stderr, "child: %s\n", store.status().ToString().c_str());
  _exit(store.ok() ? 0 : 1);
}

TEST_CASE("four processes opening a new PostgreSQL schema at once: one migrates, all open") {
  const SharedStore shared = SharedStore::Postgres();
  for (const int code : RunTogether(4, [&](int start) { OpenInChild(shared.uri(), start); })) {
    CHECK(code == 0);
  }
  std::unique_ptr<Controller> c = shared.Open(std::make_shared<SystemClock>());
  CHECK(c->CreateTenant("acme").ok());
}

TEST_CASE("two processes polling one command on SQLite: exactly one receives it") {
  LeaseRace(SharedStore::Sqlite(), 2, 15);
}

TEST_CASE("four processes polling one command on PostgreSQL: exactly one receives it") {
  LeaseRace(SharedStore::Postgres(), 4, 15);
}

// In a child process: open the shared store, wait for the start byte, run the fleet's
// decisions once at `now`. Exit code = switches it queued (0..100), 200+ = error.
[[noreturn]] void DecideInChild(const std::string& uri, Time now, int start_fd) {
  auto store = OpenStore(uri);
  if (!store.ok()) _exit(201);
  Controller controller(std::move(*store), std::make_shared<SystemClock>());
  char go;
  if (read(start_fd, &go, 1) != 1) _exit(202);
  auto report = controller.RunDecisions(now);
  if (!report.ok()) {
    fprintf(stderr, "child: %s\n", report.status().ToString().c_str());
    _exit(203);
  }
  _exit(report->acted);
}

// `processes` run the fleet's decisions at once over 40 agents that should all switch.
void DecisionRace(const SharedStore& shared, int processes) {
  constexpr int kAgents = 40;
  const Time now = absl::Now();
  std::string tenant_id;
  std::vector<std::string> agents;
  {
    auto clock = std::make_shared<ManualClock>(now - absl::Hours(24));
    std::unique_ptr<Controller> opened = shared.Open(clock);
    Controller& c = *opened;
    tenant_id = c.CreateTenant("acme")->tenant.id;
    for (int i = 0; i < kAgents; ++i) {
      auto reg = c.Register(tenant_id, testing::ServiceFixture::MakeRegisterRequest(
                                           fmt::format("api-{}", i), testing::InstanceId(i + 1)));
      REQUIRE(reg.ok());
      agents.push_back(reg->agent.id);
    }
    clock->Set(now);
    const auto price = [&](std::string_view az, std::string_view usd) {
      return CatalogPrice{Pool{"us-east-1", std::string(az), "m5.large"},
                          *Money::ParsePrice(usd, "price"), now - absl::Minutes(1)};
    };
    REQUIRE(c.ImportPrices(tenant_id, {price("us-east-1a", "0.040"), price("us-east-1b", "0.020"),
                                       price("", "0.096")})
                .ok());
  }  // closed before forking

  int acted = 0;
  for (const int code :
       RunTogether(processes, [&](int start) { DecideInChild(shared.uri(), now, start); })) {
    REQUIRE_MESSAGE(code <= kAgents, "child failed with ", code);
    acted += code;
  }
  CHECK(acted == kAgents);
  std::unique_ptr<Controller> c = shared.Open(std::make_shared<SystemClock>());
  for (const std::string& agent : agents) {
    auto commands = c->ListCommands(tenant_id, agent);
    REQUIRE(commands.ok());
    CHECK(commands->size() == 1);
  }
}

TEST_CASE("two processes running the fleet's decisions at once on SQLite: one switch per agent") {
  DecisionRace(SharedStore::Sqlite(), 2);
}

TEST_CASE(
    "four processes running the fleet's decisions at once on PostgreSQL: one switch per "
    "agent") {
  DecisionRace(SharedStore::Postgres(), 4);
}

}  // namespace
}  // namespace spotopt
