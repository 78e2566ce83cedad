// fleet_sim: a small simulated fleet driven through the Controller on the default
// SQLite store, in simulated time. It walks the main flows of the agent protocol (an
// operator switch and its successor, a manual standby replica promoted, a termination
// notice, agents going quiet, a command expiring, an agent deleted), prints one line
// per step and a summary per tenant. Any unexpected answer ends it with exit code 1,
// so it doubles as a smoke test.
//
// Usage: fleet_sim [database path]   (default ./fleet_sim.db, recreated at start)
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "spotopt/clock.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/sqlite_store.h"

namespace {

using spotopt::Command;
using spotopt::CommandState;
using spotopt::Controller;
using spotopt::Liveness;
using spotopt::ManualClock;
using spotopt::Mode;
using spotopt::Replica;
using spotopt::ReplicaState;
using spotopt::Role;
using spotopt::Time;

const Time kStart = absl::FromCivil(absl::CivilSecond(2025, 11, 23, 10, 0, 0), absl::UTCTimeZone());
constexpr absl::Duration kHeartbeatEvery = absl::Seconds(30);

[[noreturn]] void Fail(std::string_view step, std::string_view why) {
  fmt::print(stderr, "fleet_sim: FAILED at '{}': {}\n", step, why);
  std::exit(1);
}

template <class T>
T Must(absl::StatusOr<T> value, std::string_view step) {
  if (!value.ok()) Fail(step, value.status().ToString());
  return *std::move(value);
}

void Must(const absl::Status& status, std::string_view step) {
  if (!status.ok()) Fail(step, status.ToString());
}

void Expect(bool condition, std::string_view step, std::string_view what) {
  if (!condition) Fail(step, what);
}

std::string Hms(Time t) { return absl::FormatTime("%H:%M:%S", t, absl::UTCTimeZone()); }
std::string_view Short(std::string_view id) { return id.substr(0, 8); }

std::string PlacementText(const spotopt::Placement& p) {
  if (p.mode == Mode::kOnDemand) return fmt::format("ondemand {} {}", p.instance_type, p.az);
  return fmt::format("spot {}.{}", p.instance_type, p.az);
}

// A running agent process: one registration on one instance.
struct Process {
  std::string tenant_id;
  std::string registration_id;
  spotopt::HeartbeatReport beat;
  bool running = true;
};

struct SimAgent {
  std::string tenant_id;
  std::string logical_id;
  std::string agent_id;
  int process = 0;  // index of the primary's process
};

struct TenantSpec {
  std::string_view name;
  std::string_view region;
  // (service, count, instance type)
  std::vector<std::tuple<std::string_view, int, std::string_view>> services;
};

spotopt::RegisterRequest MakeRequest(std::string_view logical_id, std::string instance_id,
                                     std::string_view region, std::string_view type, char az,
                                     Mode mode, int host) {
  spotopt::RegisterRequest r;
  r.logical_id = std::string(logical_id);
  r.instance_id = std::move(instance_id);
  r.region = std::string(region);
  r.facts.hostname = fmt::format("ip-10-0-{}-{}", az - 'a', host);
  r.facts.private_ip = fmt::format("10.0.{}.{}", az - 'a', host);
  r.facts.instance_type = std::string(type);
  r.facts.az = fmt::format("{}{}", region, az);
  r.facts.ami_id = "ami-0c55b159cbfafe1f0";
  r.facts.agent_version = "4.0.0";
  r.facts.mode = mode;
  return r;
}

class Sim {
 public:
  Sim(std::shared_ptr<ManualClock> clock, std::unique_ptr<Controller> controller)
      : clock_(std::move(clock)), c_(std::move(controller)), rng_(20251123) {}

  void Run();

 private:
  template <class... Args>
  void Log(fmt::format_string<Args...> format, Args&&... args) {
    fmt::print("{}  {}\n", Hms(clock_->Now()), fmt::format(format, std::forward<Args>(args)...));
  }

  std::string NewInstanceId() { return fmt::format("i-0{:016x}", rng_()); }
  SimAgent& Agent(std::string_view logical_id);
  Process& PrimaryOf(std::string_view logical_id) { return processes_[Agent(logical_id).process]; }
  int StartProcess(const SimAgent& agent, const std::string& registration_id,
                   const spotopt::RegisterRequest& request);

  // Schedules `step` at kStart + offset.
  void At(absl::Duration offset, std::function<void()> step) {
    timeline_.emplace_back(offset, std::move(step));
  }
  // Moves simulated time to `t`, sending every heartbeat due before it.
  void AdvanceTo(Time t);

  void CreateFleet();
  void ScheduleOperatorSwitch();
  void ScheduleStandbyReplica();
  void ScheduleTerminationNotice();
  void ScheduleQuietAgent();
  void ScheduleDelete();
  void FinalTick();
  void PrintSummary();

  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<Controller> c_;
  std::mt19937_64 rng_;
  int next_host_ = 10;
  std::vector<std::pair<std::string, std::string>> tenants_;  // (id, name)
  std::vector<SimAgent> agents_;
  std::vector<Process> processes_;
  std::vector<std::pair<absl::Duration, std::function<void()>>> timeline_;
  Time next_heartbeat_ = kStart + kHeartbeatEvery;
  int heartbeats_ = 0;
  int heartbeat_rounds_ = 0;
  // Carried between the steps of a flow.
  std::string switch_id_;
  int switch_old_process_ = 0;
  std::string replica_id_;
  std::string replica_instance_;
  int standby_process_ = 0;
  spotopt::SignalReport notice_;
  std::string incident_id_;
  std::string expiring_command_;
};

SimAgent& Sim::Agent(std::string_view logical_id) {
  for (SimAgent& a : agents_) {
    if (a.logical_id == logical_id) return a;
  }
  Fail("lookup", fmt::format("no simulated agent {}", logical_id));
}

int Sim::StartProcess(const SimAgent& agent, const std::string& registration_id,
                      const spotopt::RegisterRequest& request) {
  Process p;
  p.tenant_id = agent.tenant_id;
  p.registration_id = registration_id;
  p.beat.instance_id = request.instance_id;
  p.beat.instance_type = request.facts.instance_type;
  p.beat.az = request.facts.az;
  processes_.push_back(std::move(p));
  return static_cast<int>(processes_.size()) - 1;
}

void Sim::AdvanceTo(Time t) {
  for (; next_heartbeat_ < t; next_heartbeat_ += kHeartbeatEvery) {
    clock_->Set(next_heartbeat_);
    ++heartbeat_rounds_;
    for (const Process& p : processes_) {
      if (!p.running) continue;
      Must(c_->Heartbeat(p.tenant_id, p.registration_id, p.beat), "heartbeat");
      ++heartbeats_;
    }
  }
  clock_->Set(t);
}

void Sim::CreateFleet() {
  const std::vector<TenantSpec> specs = {
      {"acme-retail",
       "us-east-1",
       {{"checkout-api", 4, "m5.large"}, {"search", 4, "c5.xlarge"}, {"cart", 4, "m5.large"}}},
      {"globex-analytics",
       "eu-west-1",
       {{"etl-worker", 5, "m5.large"},
        {"dashboard", 3, "c5.xlarge"},
        {"legacy-cron", 2, "m5.large"}}},
      {"initech-batch",
       "ap-south-1",
       {{"batch-runner", 5, "c5.xlarge"}, {"report-gen", 3, "m5.large"}}},
  };
  for (const TenantSpec& spec : specs) {
    const spotopt::CreatedTenant created = Must(c_->CreateTenant(spec.name), "create tenant");
    const spotopt::Tenant authed = Must(c_->Authenticate(created.token), "authenticate");
    Expect(authed.id == created.tenant.id, "authenticate", "token resolves to another tenant");
    tenants_.emplace_back(created.tenant.id, created.tenant.name);
    int index = 0, spot = 0;
    for (const auto& [service, count, type] : spec.services) {
      for (int n = 1; n <= count; ++n, ++index) {
        // Every fourth agent runs on demand.
        const Mode mode = index % 4 == 3 ? Mode::kOnDemand : Mode::kSpot;
        spot += mode == Mode::kSpot;
        SimAgent agent;
        agent.tenant_id = created.tenant.id;
        agent.logical_id = fmt::format("{}-{}", service, n);
        const spotopt::RegisterRequest request =
            MakeRequest(agent.logical_id, NewInstanceId(), spec.region, type, "abc"[index % 3],
                        mode, next_host_++);
        const spotopt::RegisterResult r = Must(c_->Register(agent.tenant_id, request), "register");
        Expect(r.created && r.registration.role == Role::kPrimary, "register",
               "a first registration must be a new primary");
        agent.agent_id = r.agent.id;
        agent.process = StartProcess(agent, r.registration.registration.id, request);
        agents_.push_back(std::move(agent));
      }
    }
    Log("tenant {} ({}, token {}...): {} agents registered in {}, {} spot, {} on-demand", spec.name,
        Short(created.tenant.id), created.token.substr(0, 8), index, spec.region, spot,
        index - spot);
  }
}

// Operator force switch -> the primary's poll leases it -> the expected successor
// registers and takes the placement -> the old process acks (a repeat) and leaves.
void Sim::ScheduleOperatorSwitch() {
  At(absl::Minutes(1), [this] {
    const SimAgent& agent = Agent("checkout-api-1");
    spotopt::SwitchRequest request;
    request.target_mode = Mode::kSpot;
    request.target_pool_id = "m5.large.us-east-1c";
    request.priority = spotopt::Priority::kManual;
    request.reason = "operator: move to a cheaper pool";
    request.requested_by = "ops@acme";
    // A minute in its pool: only an explicit, recorded override skips the limits.
    request.override_limits = true;
    const Command queued =
        Must(c_->EnqueueSwitch(agent.tenant_id, agent.agent_id, request), "enqueue switch");
    Expect(queued.state == CommandState::kPending, "enqueue switch", "not pending");
    switch_id_ = queued.id;
    Log("acme/checkout-api-1: operator switch {} queued -> spot {} (priority 75, override)",
        Short(queued.id), *queued.target_pool_id);
  });
  At(absl::Seconds(75), [this] {
    const SimAgent& agent = Agent("checkout-api-1");
    const Process& p = PrimaryOf("checkout-api-1");
    const std::optional<Command> polled =
        Must(c_->PollCommand(agent.tenant_id, p.registration_id), "poll switch");
    Expect(polled.has_value() && polled->id == switch_id_ && polled->lease_expires_at,
           "poll switch", "the switch was not delivered");
    const std::optional<Command> again =
        Must(c_->PollCommand(agent.tenant_id, p.registration_id), "poll again");
    Expect(!again.has_value(), "poll again", "a delivered command was delivered again");
    Log("acme/checkout-api-1: poll delivered {} (wait {} s, lease until {}); next poll empty",
        Short(polled->id), polled->terminate_wait_seconds, Hms(*polled->lease_expires_at));
  });
  At(absl::Seconds(190), [this] {
    SimAgent& agent = Agent("checkout-api-1");
    const spotopt::RegisterRequest successor = MakeRequest(
        "checkout-api-1", NewInstanceId(), "us-east-1", "m5.large", 'c', Mode::kSpot, next_host_++);
    const spotopt::RegisterResult r =
        Must(c_->Register(agent.tenant_id, successor), "successor registers");
    Expect(r.registration.role == Role::kPrimary &&
               r.agent.placement.instance_id == successor.instance_id,
           "successor registers", "the expected successor did not take the placement");
    const Command done = Must(c_->GetCommand(agent.tenant_id, switch_id_), "switch state");
    Expect(done.state == CommandState::kSucceeded, "switch state", "switch not succeeded");
    const Process& old = PrimaryOf("checkout-api-1");
    const spotopt::RegistrationView old_view =
        Must(c_->GetRegistration(agent.tenant_id, old.registration_id), "old registration");
    switch_old_process_ = agent.process;
    agent.process = StartProcess(agent, r.registration.registration.id, successor);
    Log("acme/checkout-api-1: successor {} registered: placement -> {}, {} {}, old {}",
        successor.instance_id, PlacementText(r.agent.placement), Short(switch_id_),
        spotopt::ToString(done.state), spotopt::ToString(old_view.registration.instance_state));
  });
  At(absl::Seconds(380), [this] {
    const SimAgent& agent = Agent("checkout-api-1");
    Process& old = processes_[switch_old_process_];
    const Command acked = Must(
        c_->AckCommand(agent.tenant_id, old.registration_id, switch_id_, true, "Switch completed"),
        "ack switch");
    Expect(acked.state == CommandState::kSucceeded, "ack switch", "a repeat ack changed the state");
    spotopt::HeartbeatReport offline;
    offline.status = spotopt::HeartbeatStatus::kOffline;
    Must(c_->Heartbeat(agent.tenant_id, old.registration_id, offline), "offline heartbeat");
    old.running = false;
    Log("acme/checkout-api-1: old process acked {} (a repeat: stays {}), sent offline, exited",
        Short(acked.id), spotopt::ToString(acked.state));
  });
}

// Standby requested -> leased by the replica poll -> instance reported -> ready, its
// agent registers as replica -> promoted by the operator: the placement moves.
void Sim::ScheduleStandbyReplica() {
  At(absl::Minutes(2), [this] {
    const SimAgent& agent = Agent("etl-worker-1");
    spotopt::AgentConfigPatch patch;
    patch.replica_mode = spotopt::ReplicaMode::kManualStandby;
    const spotopt::AgentConfig config =
        Must(c_->UpdateConfig(agent.tenant_id, agent.agent_id, patch), "set manual_standby");
    spotopt::ReplicaRequest request;
    request.pool_id = "m5.large.eu-west-1b";
    request.replica_type = "manual";
    request.requested_by = "ops@globex";
    const Replica replica =
        Must(c_->RequestReplica(agent.tenant_id, agent.agent_id, request), "request replica");
    Expect(replica.state == ReplicaState::kRequested, "request replica", "not requested");
    replica_id_ = replica.id;
    Log("globex/etl-worker-1: config v{} replica_mode {}; standby {} requested in {}",
        config.version, spotopt::ToString(config.replica_mode), Short(replica.id),
        replica.pool.id());
  });
  At(absl::Seconds(150), [this] {
    const SimAgent& agent = Agent("etl-worker-1");
    const std::vector<Replica> leased =
        Must(c_->LeaseReplicaLaunches(agent.tenant_id, PrimaryOf("etl-worker-1").registration_id),
             "replica poll");
    Expect(leased.size() == 1 && leased[0].id == replica_id_ &&
               leased[0].state == ReplicaState::kLaunching,
           "replica poll", "the requested standby was not leased for launch");
    Log("globex/etl-worker-1: replica poll leased {} for launch ({})", Short(replica_id_),
        spotopt::ToString(leased[0].state));
  });
  At(absl::Minutes(3), [this] {
    const SimAgent& agent = Agent("etl-worker-1");
    replica_instance_ = NewInstanceId();
    const Replica syncing = Must(
        c_->ReportReplicaInstance(agent.tenant_id, PrimaryOf("etl-worker-1").registration_id,
                                  replica_id_, replica_instance_, spotopt::ReplicaReport::kSyncing),
        "report replica instance");
    Expect(syncing.state == ReplicaState::kSyncing, "report replica instance", "not syncing");
    Log("globex/etl-worker-1: replica {} launched as {} ({})", Short(replica_id_),
        replica_instance_, spotopt::ToString(syncing.state));
  });
  At(absl::Seconds(220), [this] {
    const SimAgent& agent = Agent("etl-worker-1");
    const Replica ready = Must(
        c_->ReportReplicaStatus(agent.tenant_id, PrimaryOf("etl-worker-1").registration_id,
                                replica_id_, spotopt::ReplicaReport::kReady, clock_->Now(), ""),
        "replica ready");
    Expect(ready.state == ReplicaState::kReady, "replica ready", "not ready");
    const spotopt::RegisterRequest standby = MakeRequest(
        "etl-worker-1", replica_instance_, "eu-west-1", "m5.large", 'b', Mode::kSpot, next_host_++);
    const spotopt::RegisterResult r =
        Must(c_->Register(agent.tenant_id, standby), "replica registers");
    Expect(r.registration.role == Role::kReplica, "replica registers", "role is not replica");
    standby_process_ = StartProcess(agent, r.registration.registration.id, standby);
    Log("globex/etl-worker-1: replica {} {}; its agent registered with role {}", Short(replica_id_),
        spotopt::ToString(ready.state), spotopt::ToString(r.registration.role));
  });
  At(absl::Minutes(5), [this] {
    SimAgent& agent = Agent("etl-worker-1");
    const Replica promoted =
        Must(c_->PromoteReplica(agent.tenant_id, agent.agent_id, replica_id_), "promote replica");
    Expect(promoted.state == ReplicaState::kPromoted, "promote replica", "not promoted");
    const spotopt::AgentView view =
        Must(c_->GetAgent(agent.tenant_id, agent.agent_id), "agent after promotion");
    Expect(view.agent.placement.instance_id == replica_instance_, "promote replica",
           "the placement did not move to the replica");
    const spotopt::RegistrationView role =
        Must(c_->GetRegistration(agent.tenant_id, processes_[standby_process_].registration_id),
             "replica registration after promotion");
    Expect(role.role == Role::kPrimary, "promote replica", "replica did not become primary");
    agent.process = standby_process_;
    Log("globex/etl-worker-1: promoted {}: placement -> {}, role {}, live replicas {}",
        Short(promoted.id), PlacementText(view.agent.placement), spotopt::ToString(role.role),
        view.live_replicas);
  });
}

// A termination notice opens an incident with its 2-minute deadline; the repeat of a
// restarted process gets the same incident. The instance is reclaimed at the deadline.
void Sim::ScheduleTerminationNotice() {
  At(absl::Minutes(7), [this] {
    const SimAgent& agent = Agent("batch-runner-3");
    const Process& p = PrimaryOf("batch-runner-3");
    notice_.signal = spotopt::Signal::kTerminationNotice;
    notice_.instance_id = p.beat.instance_id;
    notice_.notice_time = clock_->Now() + spotopt::kTerminationNoticeLead;
    notice_.detected_at = clock_->Now();
    const spotopt::SignalResult r =
        Must(c_->RecordSignal(agent.tenant_id, p.registration_id, notice_), "termination notice");
    Expect(!r.repeat && r.incident.deadline.has_value(), "termination notice",
           "expected a new incident with a deadline");
    incident_id_ = r.incident.id;
    Log("initech/batch-runner-3: termination notice: incident {}, deadline {} ({})",
        Short(r.incident.id), Hms(*r.incident.deadline),
        r.incident.decision.empty() ? "recorded for the primary" : r.incident.decision);
  });
  At(absl::Seconds(425), [this] {
    const SimAgent& agent = Agent("batch-runner-3");
    const spotopt::SignalResult r = Must(
        c_->RecordSignal(agent.tenant_id, PrimaryOf("batch-runner-3").registration_id, notice_),
        "repeated notice");
    Expect(r.repeat && r.incident.id == incident_id_, "repeated notice",
           "a repeated notice opened another incident");
    Log("initech/batch-runner-3: notice repeated by a restarted process: same incident, {} "
        "repeat(s)",
        r.incident.repeat_count);
  });
  At(absl::Minutes(9), [this] {
    PrimaryOf("batch-runner-3").running = false;
    Log("initech/batch-runner-3: instance reclaimed at the deadline; heartbeats stop");
  });
}

// An agent hangs; a switch queued for it is never polled, and the tick expires it
// once its TTL has passed.
void Sim::ScheduleQuietAgent() {
  At(absl::Minutes(2), [this] {
    PrimaryOf("report-gen-2").running = false;
    Log("initech/report-gen-2: agent process hangs; heartbeats stop");
  });
  At(absl::Minutes(4), [this] {
    const SimAgent& agent = Agent("report-gen-2");
    spotopt::SwitchRequest request;
    request.target_mode = Mode::kOnDemand;
    request.priority = spotopt::Priority::kManual;
    request.reason = "operator: move to on-demand";
    request.requested_by = "ops@initech";
    request.override_limits = true;
    request.ttl = absl::Minutes(5);
    const Command queued =
        Must(c_->EnqueueSwitch(agent.tenant_id, agent.agent_id, request), "enqueue to quiet agent");
    expiring_command_ = queued.id;
    Log("initech/report-gen-2: operator switch {} -> ondemand queued, TTL until {}",
        Short(queued.id), Hms(queued.expires_at));
  });
}

void Sim::ScheduleDelete() {
  At(absl::Seconds(570), [this] {
    const SimAgent& agent = Agent("legacy-cron-2");
    Process& p = PrimaryOf("legacy-cron-2");
    Must(c_->DeleteAgent(agent.tenant_id, agent.agent_id), "delete agent");
    const absl::Status beat = c_->Heartbeat(agent.tenant_id, p.registration_id, p.beat).status();
    Expect(absl::IsNotFound(beat), "heartbeat after delete",
           fmt::format("expected NotFound, got {}", beat.ToString()));
    p.running = false;
    Log("globex/legacy-cron-2: deleted by the operator; its next heartbeat answered NotFound");
  });
}

void Sim::FinalTick() {
  const spotopt::TickReport report = Must(c_->Tick(clock_->Now()), "tick");
  Expect(report.commands_expired >= 1, "tick", "the stale pending command was not expired");
  const SimAgent& agent = Agent("report-gen-2");
  const Command expired = Must(c_->GetCommand(agent.tenant_id, expiring_command_), "expired");
  Expect(expired.state == CommandState::kExpired, "tick", "the stale command is not expired");
  Log("tick: {} command(s) expired ({} {}), {} replica(s) failed, {} requested, {} incident(s) "
      "closed",
      report.commands_expired, Short(expired.id), spotopt::ToString(expired.state),
      report.replicas_failed, report.replicas_requested, report.incidents_closed);
  const spotopt::TickReport again = Must(c_->Tick(clock_->Now()), "second tick");
  Expect(again == spotopt::TickReport{}, "second tick", "a repeated tick did more work");
  Log("heartbeats: {} sent in {} rounds; a second tick at the same time changes nothing",
      heartbeats_, heartbeat_rounds_);
}

void Sim::PrintSummary() {
  constexpr std::array kLiveness = {Liveness::kOnline, Liveness::kStale, Liveness::kOffline};
  constexpr std::array kCommandStates = {CommandState::kPending,   CommandState::kLeased,
                                         CommandState::kSucceeded, CommandState::kFailed,
                                         CommandState::kExpired,   CommandState::kCancelled};
  struct Counts {
    std::map<std::string, int> agents, commands, replicas;
  };
  std::vector<Counts> counts;
  std::vector<std::string> replica_columns;  // states that occur, in FSM order
  std::array<bool, spotopt::kReplicaStateCount> replica_seen{};
  for (const auto& [tenant_id, name] : tenants_) {
    Counts& n = counts.emplace_back();
    for (const spotopt::AgentView& view : Must(c_->ListAgents(tenant_id), "list agents")) {
      if (view.agent.lifecycle == spotopt::Lifecycle::kDeleted) {
        ++n.agents["deleted"];
      } else {
        ++n.agents[std::string(spotopt::ToString(view.liveness))];
      }
      for (const Command& cmd : Must(c_->ListCommands(tenant_id, view.agent.id), "list commands")) {
        ++n.commands[std::string(spotopt::ToString(cmd.state))];
      }
      for (const Replica& r : Must(c_->ListReplicas(tenant_id, view.agent.id), "list replicas")) {
        ++n.replicas[std::string(spotopt::ToString(r.state))];
        replica_seen[static_cast<int>(r.state)] = true;
      }
    }
  }
  for (int s = 0; s < spotopt::kReplicaStateCount; ++s) {
    if (replica_seen[s])
      replica_columns.emplace_back(spotopt::ToString(static_cast<ReplicaState>(s)));
  }

  auto table = [&](std::string_view title, const std::vector<std::string>& columns,
                   std::map<std::string, int> Counts::*field) {
    std::string header = fmt::format("{:<18}", title);
    for (const std::string& col : columns) header += fmt::format(" {:>9}", col);
    fmt::print("{}\n", header);
    for (size_t t = 0; t < tenants_.size(); ++t) {
      std::string row = fmt::format("  {:<16}", tenants_[t].second);
      for (const std::string& col : columns) {
        const auto& m = counts[t].*field;
        const auto it = m.find(col);
        row += fmt::format(" {:>9}", it == m.end() ? 0 : it->second);
      }
      fmt::print("{}\n", row);
    }
  };
  std::vector<std::string> agent_columns, command_columns;
  for (Liveness l : kLiveness) agent_columns.emplace_back(spotopt::ToString(l));
  agent_columns.emplace_back("deleted");
  for (CommandState s : kCommandStates) command_columns.emplace_back(spotopt::ToString(s));
  fmt::print("\nsummary at {} UTC\n", Hms(clock_->Now()));
  table("agents", agent_columns, &Counts::agents);
  table("commands", command_columns, &Counts::commands);
  table("replicas", replica_columns, &Counts::replicas);
}

void Sim::Run() {
  clock_->Set(kStart);
  fmt::print("simulated day 2025-11-23, times in UTC\n");
  CreateFleet();
  ScheduleOperatorSwitch();
  ScheduleStandbyReplica();
  ScheduleTerminationNotice();
  ScheduleQuietAgent();
  ScheduleDelete();
  // Steps of different flows interleave in time; equal times keep scheduling order.
  std::stable_sort(timeline_.begin(), timeline_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [offset, step] : timeline_) {
    AdvanceTo(kStart + offset);
    step();
  }
  AdvanceTo(kStart + absl::Minutes(10) + absl::Seconds(10));
  FinalTick();
  PrintSummary();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: fleet_sim [database path]\n");
    return 2;
  }
  const std::string path = argc == 2 ? argv[1] : "./fleet_sim.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  absl::StatusOr<std::unique_ptr<spotopt::SqliteStore>> opened = spotopt::SqliteStore::Open(path);
  if (!opened.ok()) {
    std::fprintf(stderr, "fleet_sim: cannot open %s: %s\n", path.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<spotopt::SqliteStore> store = std::move(*opened);
  auto clock = std::make_shared<ManualClock>(kStart);
  Sim sim(clock, std::make_unique<Controller>(store, clock));
  sim.Run();
  Must(store->CheckIntegrity(), "integrity check");
  fmt::print("fleet_sim: ok ({}: integrity ok)\n", path);
  return 0;
}
