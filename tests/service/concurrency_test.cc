// One Controller called from several threads at once, on each store. Built for
// ThreadSanitizer (the tsan preset) as well as for plain runs.
//
// Error policy: every call must succeed. The stores serialize writers and wait up to
// a 5 s busy timeout for the write lock, far longer than any transaction here, so
// even Unavailable would mean starvation or a lost wake-up rather than load. Threads
// only record what they saw; assertions run on the main thread after the joins.
#include <atomic>
#include <latch>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace spotopt::testing {
namespace {

// The first error a thread met, with the call that returned it.
struct FirstError {
  std::string text;
  void Record(std::string_view call, const absl::Status& status) {
    if (!status.ok() && text.empty()) text = fmt::format("{}: {}", call, status.ToString());
  }
};

void Accumulate(TickReport& sum, const TickReport& report) {
  sum.commands_expired += report.commands_expired;
  sum.replicas_failed += report.replicas_failed;
  sum.replicas_requested += report.replicas_requested;
  sum.incidents_closed += report.incidents_closed;
}

// Live replicas per agent, read straight from the store: the constraint must hold
// whatever the Controller reports.
std::map<std::string, int> LiveReplicasPerAgent(Store& store) {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
  REQUIRE(tx.ok());
  absl::StatusOr<std::vector<Replica>> live = (*tx)->ListLiveReplicas();
  REQUIRE(live.ok());
  std::map<std::string, int> count;
  for (const Replica& replica : *live) {
    CHECK(IsLive(replica.state));
    ++count[replica.agent_id];
  }
  return count;
}

TEST_CASE_TEMPLATE("two simultaneous polls never deliver one command twice", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const AgentHandle agent =
      f.RegisterAgent(f.NewTenant("acme"), "checkout-api-1", "i-0a1b2c3d4e5f67890");
  constexpr int kRounds = 200;

  std::set<std::string> delivered;
  int rounds_with_one_delivery = 0;
  for (int round = 0; round < kRounds; ++round) {
    const Command pending = f.EnqueueSwitch(agent, round % 2 == 0 ? "us-east-1b" : "us-east-1c");
    std::latch start(2);
    absl::StatusOr<std::optional<Command>> polled[2];
    {
      std::jthread pollers[2];
      for (int i = 0; i < 2; ++i) {
        pollers[i] = std::jthread([&, i] {
          start.arrive_and_wait();
          polled[i] = c.PollCommand(agent.tenant_id, agent.registration_id);
        });
      }
    }
    INFO("round ", round);
    REQUIRE_MESSAGE(polled[0].ok(), polled[0].status().ToString());
    REQUIRE_MESSAGE(polled[1].ok(), polled[1].status().ToString());
    const int got = polled[0]->has_value() + polled[1]->has_value();
    CHECK(got == 1);
    if (got != 1) continue;
    const Command& command = polled[0]->has_value() ? **polled[0] : **polled[1];
    CHECK(command.id == pending.id);
    CHECK(command.state == CommandState::kLeased);
    CHECK(command.lease_holder == agent.registration_id);
    CHECK(delivered.insert(command.id).second);
    ++rounds_with_one_delivery;
    // Close it so that the next round's switch may be leased (one lease per agent).
    absl::StatusOr<Command> acked =
        c.AckCommand(agent.tenant_id, agent.registration_id, command.id, false, "Switch failed");
    REQUIRE_MESSAGE(acked.ok(), acked.status().ToString());
    CHECK(acked->state == CommandState::kFailed);
  }
  CHECK(rounds_with_one_delivery == kRounds);

  absl::StatusOr<std::optional<Command>> after =
      c.PollCommand(agent.tenant_id, agent.registration_id);
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());
  absl::StatusOr<std::vector<Command>> all = c.ListCommands(agent.tenant_id, agent.agent_id);
  REQUIRE(all.ok());
  CHECK(all->size() == static_cast<size_t>(kRounds));
  for (const Command& command : *all) {
    CHECK(command.state == CommandState::kFailed);
    CHECK(delivered.count(command.id) == 1);
  }
  CHECK(f.CheckIntegrity().ok());
}

// Runs `threads` x `rounds` ticks at once; tick k of thread i runs at
// start + k seconds + i milliseconds. Returns the sum of the reports and records the
// first error in `error`.
TickReport TickConcurrently(Controller& c, Time start, int threads, int rounds, FirstError& error) {
  std::vector<TickReport> reports(threads);
  std::vector<FirstError> errors(threads);
  std::latch go(threads);
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        go.arrive_and_wait();
        for (int k = 0; k < rounds; ++k) {
          absl::StatusOr<TickReport> r = c.Tick(start + absl::Seconds(k) + absl::Milliseconds(i));
          if (!r.ok()) {
            errors[i].Record("Tick", r.status());
            continue;
          }
          Accumulate(reports[i], *r);
        }
      });
    }
  }
  TickReport sum;
  for (int i = 0; i < threads; ++i) {
    if (error.text.empty()) error.text = errors[i].text;
    Accumulate(sum, reports[i]);
  }
  return sum;
}

TEST_CASE_TEMPLATE("concurrent ticks keep exactly one standby around a promotion", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle agent = f.RegisterAgent(tenant, "checkout-api-1", "i-0a1b2c3d4e5f67890");
  f.Configure(agent, {.replica_mode = ReplicaMode::kManualStandby});
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  const auto live_replicas = [&] {
    absl::StatusOr<std::vector<Replica>> replicas = c.ListReplicas(tenant, agent.agent_id);
    REQUIRE(replicas.ok());
    std::vector<Replica> live;
    for (const Replica& replica : *replicas) {
      if (IsLive(replica.state)) live.push_back(replica);
    }
    return live;
  };

  // No standby yet: four threads of ticks request exactly one, as one tick would.
  FirstError error;
  Time start = f.clock().Now() + absl::Seconds(1);
  const TickReport first = TickConcurrently(c, start, kThreads, kRounds, error);
  CHECK_MESSAGE(error.text.empty(), error.text);
  CHECK(first == TickReport{.replicas_requested = 1});
  std::vector<Replica> live = live_replicas();
  REQUIRE(live.size() == 1);
  CHECK(live.front().state == ReplicaState::kRequested);

  // The primary launches it; it becomes READY and is promoted.
  absl::StatusOr<std::vector<Replica>> leased =
      c.LeaseReplicaLaunches(tenant, agent.registration_id);
  REQUIRE(leased.ok());
  REQUIRE(leased->size() == 1);
  const std::string standby_instance = "i-0d4c3b2a1f0e98765";
  REQUIRE(c.ReportReplicaInstance(tenant, agent.registration_id, live.front().id, standby_instance,
                                  ReplicaReport::kSyncing)
              .ok());
  REQUIRE(c.ReportReplicaStatus(tenant, agent.registration_id, live.front().id,
                                ReplicaReport::kReady, f.clock().Now(), "")
              .ok());
  absl::StatusOr<Replica> promoted = c.PromoteReplica(tenant, agent.agent_id, live.front().id);
  REQUIRE_MESSAGE(promoted.ok(), promoted.status().ToString());
  CHECK(promoted->state == ReplicaState::kPromoted);
  const size_t replicas_before = c.ListReplicas(tenant, agent.agent_id)->size();

  // Four threads of ticks after the promotion: whatever the old primary became
  // (demoted standby or retained), the agent ends with exactly one live replica, and
  // the ticks together requested exactly the replicas that now exist in addition.
  start += absl::Seconds(kRounds);
  const TickReport second = TickConcurrently(c, start, kThreads, kRounds, error);
  CHECK_MESSAGE(error.text.empty(), error.text);
  live = live_replicas();
  CHECK(live.size() == 1);
  const size_t replicas_after = c.ListReplicas(tenant, agent.agent_id)->size();
  CHECK(static_cast<size_t>(second.replicas_requested) == replicas_after - replicas_before);
  CHECK(second.replicas_requested <= 1);
  CHECK(second.commands_expired == 0);
  CHECK(second.replicas_failed == 0);
  absl::StatusOr<AgentView> view = c.GetAgent(tenant, agent.agent_id);
  REQUIRE(view.ok());
  CHECK(view->agent.placement.instance_id == standby_instance);
  CHECK(view->live_replicas == 1);

  // Idempotent: one more tick at the latest time changes nothing.
  absl::StatusOr<TickReport> again = c.Tick(start + absl::Seconds(kRounds));
  REQUIRE(again.ok());
  CHECK(*again == TickReport{});
  CHECK(LiveReplicasPerAgent(f.store()) == std::map<std::string, int>{{agent.agent_id, 1}});
  CHECK(f.CheckIntegrity().ok());
}

// What one agent thread did, for the checks after the join.
struct AgentLog {
  FirstError error;
  std::vector<std::string> enqueued;
  std::map<std::string, CommandState> acked;  // command id -> state the ack returned
  int polls_without_command = 0;
};

TEST_CASE_TEMPLATE("agents on separate threads interleaved with ticks stay consistent", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  constexpr int kAgents = 2;
  constexpr int kIterations = 60;
  const AgentHandle agents[kAgents] = {
      f.RegisterAgent(tenant, "checkout-api-1", "i-0a1b2c3d4e5f67890"),
      f.RegisterAgent(tenant, "billing-worker-1", "i-0b2c3d4e5f6789012"),
  };
  AgentLog logs[kAgents];
  FirstError tick_error;
  TickReport ticks;
  std::atomic<int> agents_running = kAgents;
  const Time start = f.clock().Now();
  std::latch go(kAgents + 1);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kAgents; ++i) {
      threads.emplace_back([&, i] {
        const AgentHandle& a = agents[i];
        AgentLog& log = logs[i];
        go.arrive_and_wait();
        for (int k = 0; k < kIterations; ++k) {
          log.error.Record("Heartbeat", StatusOf(c.Heartbeat(a.tenant_id, a.registration_id, {})));
          log.error.Record("GetConfigForRegistration",
                           StatusOf(c.GetConfigForRegistration(a.tenant_id, a.registration_id)));
          SwitchRequest request;
          request.target_mode = k % 3 == 2 ? Mode::kOnDemand : Mode::kSpot;
          request.target_pool_id = k % 3 == 0   ? PoolId("us-east-1b")
                                   : k % 3 == 1 ? PoolId("us-east-1c")
                                                : "";
          request.override_limits = true;
          absl::StatusOr<Command> enqueued = c.EnqueueSwitch(a.tenant_id, a.agent_id, request);
          log.error.Record("EnqueueSwitch", enqueued.status());
          if (enqueued.ok()) log.enqueued.push_back(enqueued->id);
          absl::StatusOr<std::optional<Command>> polled =
              c.PollCommand(a.tenant_id, a.registration_id);
          log.error.Record("PollCommand", polled.status());
          if (!polled.ok()) continue;
          if (!polled->has_value()) {
            ++log.polls_without_command;
            continue;
          }
          const bool success = k % 2 == 0;
          absl::StatusOr<Command> acked =
              c.AckCommand(a.tenant_id, a.registration_id, (*polled)->id, success,
                           success ? "Switch completed" : "Switch failed");
          log.error.Record("AckCommand", acked.status());
          if (acked.ok()) log.acked[acked->id] = acked->state;
        }
        --agents_running;
      });
    }
    threads.emplace_back([&] {
      go.arrive_and_wait();
      // Ticks a second apart, well inside every TTL, lease and liveness timeout.
      for (int k = 1; agents_running.load() > 0 && k <= 100; ++k) {
        absl::StatusOr<TickReport> r = c.Tick(start + absl::Seconds(k));
        tick_error.Record("Tick", r.status());
        if (!r.ok()) continue;
        Accumulate(ticks, *r);
      }
    });
  }

  CHECK_MESSAGE(tick_error.text.empty(), tick_error.text);
  CHECK(ticks == TickReport{});
  for (int i = 0; i < kAgents; ++i) {
    const AgentHandle& a = agents[i];
    const AgentLog& log = logs[i];
    INFO("agent ", a.agent_id);
    CHECK_MESSAGE(log.error.text.empty(), log.error.text);
    // Each switch was delivered by the poll right after it and acknowledged.
    CHECK(log.enqueued.size() == static_cast<size_t>(kIterations));
    CHECK(log.polls_without_command == 0);
    CHECK(log.acked.size() == log.enqueued.size());
    absl::StatusOr<std::vector<Command>> commands = c.ListCommands(a.tenant_id, a.agent_id);
    REQUIRE(commands.ok());
    CHECK(commands->size() == log.enqueued.size());
    for (const Command& command : *commands) {
      CHECK(command.tenant_id == a.tenant_id);
      CHECK(command.lease_holder == a.registration_id);
      const auto acked = log.acked.find(command.id);
      REQUIRE(acked != log.acked.end());
      CHECK(command.state == acked->second);
      CHECK(IsClosed(command.state));
    }
    absl::StatusOr<AgentView> view = c.GetAgent(a.tenant_id, a.agent_id);
    REQUIRE(view.ok());
    CHECK(view->agent.placement.instance_id == a.instance_id);
    CHECK(view->liveness == Liveness::kOnline);
    CHECK(view->registrations.size() == 1);
  }
  CHECK(f.CheckIntegrity().ok());
}

// A small re-registration storm (issue 14): after a restart every agent registers
// again, on several threads at once, while the fleet heartbeats and some agents have a
// command in flight. Every agent and registration is found again: none is lost, none
// is made twice, and what the old processes held is cleaned up once.
TEST_CASE_TEMPLATE("a re-registration storm finds every agent once", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  constexpr int kAgents = 60;
  constexpr int kThreads = 3;
  std::vector<AgentHandle> agents;
  std::vector<std::string> in_flight;  // a delivered, unacknowledged switch per agent
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(f.RegisterAgent(tenant, fmt::format("svc-{}", i), InstanceId(i + 1)));
    if (i % 4 == 0) {
      f.EnqueueSwitch(agents.back(), "us-east-1c");
      in_flight.push_back(f.PollExpectingCommand(agents.back()).id);
    }
  }
  f.clock().Advance(absl::Minutes(5));  // the outage: every agent offline

  struct Seen {
    FirstError error;
    std::vector<std::pair<int, RegisterResult>> results;
  };
  Seen seen[kThreads];
  FirstError beat_error;
  std::atomic<int> storming = kThreads;
  std::latch go(kThreads + 1);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        go.arrive_and_wait();
        // Each thread registers every agent, starting at a different place.
        for (int k = 0; k < kAgents; ++k) {
          const int i = (k + t * kAgents / kThreads) % kAgents;
          absl::StatusOr<RegisterResult> r = c.Register(
              tenant,
              ServiceFixture::MakeRegisterRequest(fmt::format("svc-{}", i), InstanceId(i + 1)));
          seen[t].error.Record("Register", r.status());
          if (r.ok()) seen[t].results.emplace_back(i, *std::move(r));
        }
        --storming;
      });
    }
    threads.emplace_back([&] {
      go.arrive_and_wait();
      for (int k = 0; storming.load() > 0; k = (k + 7) % kAgents) {
        beat_error.Record("Heartbeat",
                          StatusOf(c.Heartbeat(tenant, agents[k].registration_id, {})));
      }
    });
  }

  CHECK_MESSAGE(beat_error.text.empty(), beat_error.text);
  for (const Seen& s : seen) {
    CHECK_MESSAGE(s.error.text.empty(), s.error.text);
    CHECK(s.results.size() == static_cast<size_t>(kAgents));
    for (const auto& [i, r] : s.results) {
      INFO("agent ", i);
      CHECK_FALSE(r.created);
      CHECK(r.agent.id == agents[i].agent_id);
      CHECK(r.registration.registration.id == agents[i].registration_id);
      CHECK(r.registration.role == Role::kPrimary);
      CHECK(r.registration.liveness == Liveness::kOnline);
    }
  }
  absl::StatusOr<std::vector<AgentView>> views = c.ListAgents(tenant);
  REQUIRE(views.ok());
  CHECK(views->size() == static_cast<size_t>(kAgents));
  for (const AgentView& v : *views) {
    CHECK(v.registrations.size() == 1);
    CHECK(v.liveness == Liveness::kOnline);
  }
  for (const std::string& id : in_flight) {
    absl::StatusOr<Command> command = c.GetCommand(tenant, id);
    REQUIRE(command.ok());
    CHECK(command->state == CommandState::kExpired);
    CHECK(command->result_message == "agent restarted before acknowledging");
  }
  CHECK(f.CheckIntegrity().ok());
}

}  // namespace
}  // namespace spotopt::testing
