// Command leases hold across processes that share one SQLite file: two processes
// polling the same agent at the same moment never both receive a command, and two
// processes running the fleet's decisions at once queue one switch per agent.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "fixture.h"

namespace spotopt {
namespace {

// In a child process: open the shared file, wait for the start byte, poll once.
// Exit code 10 = received a command, 11 = nothing, anything else = error.
[[noreturn]] void PollInChild(const std::string& path, const testing::AgentHandle& agent,
                              int start_fd) {
  auto store = SqliteStore::Open(path);
  if (!store.ok()) _exit(2);
  Controller controller(std::move(*store), std::make_shared<SystemClock>());
  char go;
  if (read(start_fd, &go, 1) != 1) _exit(3);
  auto polled = controller.PollCommand(agent.tenant_id, agent.registration_id);
  if (!polled.ok()) _exit(4);
  _exit(polled->has_value() ? 10 : 11);
}

TEST_CASE("two processes polling one command: exactly one receives it") {
  const std::string path =
      (std::filesystem::temp_directory_path() / fmt::format("spotopt-mp-{}.db", NewId())).string();
  constexpr int kRounds = 15;
  for (int round = 0; round < kRounds; ++round) {
    testing::AgentHandle agent;
    {
      auto opened = SqliteStore::Open(path);
      REQUIRE(opened.ok());
      Controller c(std::move(*opened), std::make_shared<SystemClock>());
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
    }  // closed before forking: SQLite handles must not cross fork()

    int start[2];
    REQUIRE(pipe(start) == 0);
    pid_t children[2];
    for (pid_t& child : children) {
      child = fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        close(start[1]);
        PollInChild(path, agent, start[0]);
      }
    }
    close(start[0]);
    REQUIRE(write(start[1], "gg", 2) == 2);
    close(start[1]);
    int received = 0;
    for (pid_t child : children) {
      int status = 0;
      REQUIRE(waitpid(child, &status, 0) == child);
      REQUIRE(WIFEXITED(status));
      const int code = WEXITSTATUS(status);
      REQUIRE_MESSAGE((code == 10 || code == 11), "child failed with ", code);
      received += code == 10;
    }
    CHECK(received == 1);
  }
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
}

// In a child process: open the shared file, wait for the start byte, run the fleet's
// decisions once at `now`. Exit code = switches it queued (0..100), 200+ = error.
[[noreturn]] void DecideInChild(const std::string& path, Time now, int start_fd) {
  auto store = SqliteStore::Open(path);
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

TEST_CASE("two processes running the fleet's decisions at once queue one switch per agent") {
  const std::string path =
      (std::filesystem::temp_directory_path() / fmt::format("spotopt-mp-{}.db", NewId())).string();
  constexpr int kAgents = 40;
  const Time now = absl::Now();
  std::string tenant_id;
  std::vector<std::string> agents;
  {
    auto opened = SqliteStore::Open(path);
    REQUIRE(opened.ok());
    auto clock = std::make_shared<ManualClock>(now - absl::Hours(24));
    Controller c(std::move(*opened), clock);
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

  int start[2];
  REQUIRE(pipe(start) == 0);
  pid_t children[2];
  for (pid_t& child : children) {
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(start[1]);
      DecideInChild(path, now, start[0]);
    }
  }
  close(start[0]);
  REQUIRE(write(start[1], "gg", 2) == 2);
  close(start[1]);
  int acted = 0;
  for (pid_t child : children) {
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE_MESSAGE(WEXITSTATUS(status) <= kAgents, "child failed with ", WEXITSTATUS(status));
    acted += WEXITSTATUS(status);
  }
  CHECK(acted == kAgents);
  {
    auto opened = SqliteStore::Open(path);
    REQUIRE(opened.ok());
    Controller c(std::move(*opened), std::make_shared<SystemClock>());
    for (const std::string& agent : agents) {
      auto commands = c.ListCommands(tenant_id, agent);
      REQUIRE(commands.ok());
      CHECK(commands->size() == 1);
    }
  }
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
}

}  // namespace
}  // namespace spotopt
