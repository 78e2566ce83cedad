// Command leases hold across processes that share one SQLite file: two processes
// polling the same agent at the same moment never both receive a command.
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

}  // namespace
}  // namespace spotopt
