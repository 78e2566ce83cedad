// Command leases hold across processes that share one SQLite file: two processes
// polling the same agent at the same moment never both receive a command, and two
// processes running the fleet's decisions at once queue one switch per agent.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fixture.h"

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

    int received = 0;
    for (const int code : RunTogether(2, [&](int start) { PollInChild(path, agent, start); })) {
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

  int acted = 0;
  for (const int code : RunTogether(2, [&](int start) { DecideInChild(path, now, start); })) {
    REQUIRE_MESSAGE(code <= kAgents, "child failed with ", code);
    acted += code;
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
