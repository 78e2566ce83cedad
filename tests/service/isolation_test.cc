// Tenant isolation (agent protocol, section 2.4): an id that belongs to another
// tenant, or to another logical agent of the same tenant, is answered exactly like an
// unknown id (NotFound, the same message) and changes nothing in the store.
#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fixture.h"

namespace spotopt::testing {
namespace {

// One tenant's fleet, holding a record of every kind the Controller addresses by id.
struct Fleet {
  std::string tenant;
  AgentHandle web;          // a LEASED switch; a READY replica whose instance registered
  AgentHandle web_standby;  // the registration of web's replica instance
  AgentHandle batch;        // a PENDING on-demand switch; a REQUESTED replica; incidents
  std::string leased_command;
  std::string pending_command;
  std::vector<std::string> agent_ids;
  std::vector<std::string> registration_ids;
  std::vector<std::string> command_ids;
  std::vector<std::string> replica_ids;
};

// Both tenants use the same logical ids on purpose: logical ids are only unique
// within a tenant. Instance ids start at `first_instance`.
Fleet BuildFleet(ServiceFixture& f, std::string_view name, uint32_t first_instance) {
  Controller& c = f.controller();
  Fleet fleet;
  fleet.tenant = f.NewTenant(name);

  fleet.web = f.RegisterAgent(fleet.tenant, "checkout-api-1", InstanceId(first_instance));
  const Replica standby = f.MakeReplica(fleet.web, InstanceId(first_instance + 1), "us-east-1c");
  fleet.web_standby =
      f.RegisterAgent(fleet.tenant, "checkout-api-1", InstanceId(first_instance + 1), "us-east-1c");
  REQUIRE(fleet.web_standby.agent_id == fleet.web.agent_id);
  REQUIRE(fleet.web_standby.registration_id != fleet.web.registration_id);
  f.EnqueueSwitch(fleet.web, "us-east-1b");
  fleet.leased_command = f.PollExpectingCommand(fleet.web).id;

  fleet.batch = f.RegisterAgent(fleet.tenant, "billing-worker-1", InstanceId(first_instance + 2));
  ReplicaRequest replica_request;
  replica_request.pool_id = PoolId("us-east-1d");
  REQUIRE(c.RequestReplica(fleet.tenant, fleet.batch.agent_id, replica_request).ok());
  fleet.pending_command = f.EnqueueSwitch(fleet.batch, std::nullopt).id;
  const Time now = f.clock().Now();
  SignalReport rebalance;
  rebalance.signal = Signal::kRebalanceRecommendation;
  rebalance.detected_at = now;
  REQUIRE(c.RecordSignal(fleet.tenant, fleet.batch.registration_id, rebalance).ok());
  SignalReport termination;
  termination.signal = Signal::kTerminationNotice;
  termination.notice_time = now + kTerminationNoticeLead;
  termination.detected_at = now;
  REQUIRE(c.RecordSignal(fleet.tenant, fleet.batch.registration_id, termination).ok());

  fleet.agent_ids = {fleet.web.agent_id, fleet.batch.agent_id};
  fleet.registration_ids = {fleet.web.registration_id, fleet.web_standby.registration_id,
                            fleet.batch.registration_id};
  for (const std::string& agent : fleet.agent_ids) {
    absl::StatusOr<std::vector<Command>> commands = c.ListCommands(fleet.tenant, agent);
    REQUIRE(commands.ok());
    for (const Command& command : *commands) fleet.command_ids.push_back(command.id);
    absl::StatusOr<std::vector<Replica>> replicas = c.ListReplicas(fleet.tenant, agent);
    REQUIRE(replicas.ok());
    for (const Replica& replica : *replicas) fleet.replica_ids.push_back(replica.id);
  }
  const auto has = [](const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  REQUIRE(has(fleet.command_ids, fleet.leased_command));
  REQUIRE(has(fleet.command_ids, fleet.pending_command));
  REQUIRE(has(fleet.replica_ids, standby.id));
  REQUIRE(fleet.replica_ids.size() >= 2);
  absl::StatusOr<Command> pending = c.GetCommand(fleet.tenant, fleet.pending_command);
  REQUIRE(pending.ok());
  REQUIRE(pending->state == CommandState::kPending);
  absl::StatusOr<std::vector<Incident>> incidents =
      c.ListIncidents(fleet.tenant, fleet.batch.agent_id);
  REQUIRE(incidents.ok());
  REQUIRE(incidents->size() == 2);
  return fleet;
}

std::vector<std::string> Concat(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  std::vector<std::string> all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}

// One call that names an id the caller must not see. `call` takes that id, so the
// same call can be repeated with an unknown id for comparison.
struct Probe {
  std::string name;
  std::string id;
  std::function<absl::Status(const std::string& id)> call;
};

// Every Controller method that takes a tenant plus other ids, called as `caller`'s
// tenant with `owner`'s ids, alone and mixed with the caller's own ids.
std::vector<Probe> ForeignProbes(Controller& c, const Fleet& caller, const Fleet& owner, Time now) {
  const std::string t = caller.tenant;
  const std::vector<std::string> agents = Concat(caller.agent_ids, owner.agent_ids);
  const std::vector<std::string> registrations =
      Concat(caller.registration_ids, owner.registration_ids);
  std::vector<Probe> probes;
  const auto add = [&](std::string name, const std::string& id,
                       std::function<absl::Status(const std::string&)> call) {
    probes.push_back(Probe{std::move(name), id, std::move(call)});
  };

  SwitchRequest to_spot;
  to_spot.target_mode = Mode::kSpot;
  to_spot.target_pool_id = PoolId("us-east-1d");
  to_spot.override_limits = true;
  SwitchRequest to_ondemand;
  to_ondemand.target_mode = Mode::kOnDemand;
  ReplicaRequest replica_request;
  replica_request.pool_id = PoolId("us-east-1d");
  AgentConfigPatch patch;
  patch.enabled = false;
  patch.replica_mode = ReplicaMode::kOff;
  HeartbeatReport online;
  HeartbeatReport offline;
  offline.status = HeartbeatStatus::kOffline;
  SignalReport termination;
  termination.notice_time = now + kTerminationNoticeLead;
  termination.detected_at = now;
  SignalReport rebalance;
  rebalance.signal = Signal::kRebalanceRecommendation;

  for (const std::string& agent : owner.agent_ids) {
    add("GetAgent", agent, [&c, t](const std::string& id) { return StatusOf(c.GetAgent(t, id)); });
    add("SetEnabled(false)", agent,
        [&c, t](const std::string& id) { return c.SetEnabled(t, id, false); });
    add("SetEnabled(true)", agent,
        [&c, t](const std::string& id) { return c.SetEnabled(t, id, true); });
    add("DeleteAgent", agent, [&c, t](const std::string& id) { return c.DeleteAgent(t, id); });
    add("ListEvents", agent,
        [&c, t](const std::string& id) { return StatusOf(c.ListEvents(t, id)); });
    add("GetConfig", agent,
        [&c, t](const std::string& id) { return StatusOf(c.GetConfig(t, id)); });
    add("UpdateConfig", agent,
        [&c, t, patch](const std::string& id) { return StatusOf(c.UpdateConfig(t, id, patch)); });
    add("UpdateConfig(expected_version)", agent, [&c, t, patch](const std::string& id) {
      return StatusOf(c.UpdateConfig(t, id, patch, 1));
    });
    add("EnqueueSwitch(spot)", agent, [&c, t, to_spot](const std::string& id) {
      return StatusOf(c.EnqueueSwitch(t, id, to_spot));
    });
    add("EnqueueSwitch(ondemand)", agent, [&c, t, to_ondemand](const std::string& id) {
      return StatusOf(c.EnqueueSwitch(t, id, to_ondemand));
    });
    add("EnqueueCreateReplica", agent, [&c, t, replica_request](const std::string& id) {
      return StatusOf(c.EnqueueCreateReplica(t, id, replica_request));
    });
    add("RequestReplica", agent, [&c, t, replica_request](const std::string& id) {
      return StatusOf(c.RequestReplica(t, id, replica_request));
    });
    add("ListCommands", agent,
        [&c, t](const std::string& id) { return StatusOf(c.ListCommands(t, id)); });
    add("ListReplicas", agent,
        [&c, t](const std::string& id) { return StatusOf(c.ListReplicas(t, id)); });
    add("ListIncidents", agent,
        [&c, t](const std::string& id) { return StatusOf(c.ListIncidents(t, id)); });
    // The owner's agent with the caller's own command and replica ids.
    for (const std::string& command : caller.command_ids) {
      add("CancelCommand(foreign agent, own command)", agent,
          [&c, t, command](const std::string& id) {
            return StatusOf(c.CancelCommand(t, id, command, "probe"));
          });
    }
    for (const std::string& replica : caller.replica_ids) {
      add("PromoteReplica(foreign agent, own replica)", agent,
          [&c, t, replica](const std::string& id) {
            return StatusOf(c.PromoteReplica(t, id, replica, /*force=*/true));
          });
      add("TerminateReplica(foreign agent, own replica)", agent,
          [&c, t, replica](const std::string& id) {
            return StatusOf(c.TerminateReplica(t, id, replica));
          });
    }
  }

  for (const std::string& registration : owner.registration_ids) {
    add("Heartbeat(online)", registration,
        [&c, t, online](const std::string& id) { return StatusOf(c.Heartbeat(t, id, online)); });
    add("Heartbeat(offline)", registration,
        [&c, t, offline](const std::string& id) { return StatusOf(c.Heartbeat(t, id, offline)); });
    add("GetRegistration", registration,
        [&c, t](const std::string& id) { return StatusOf(c.GetRegistration(t, id)); });
    add("GetConfigForRegistration", registration,
        [&c, t](const std::string& id) { return StatusOf(c.GetConfigForRegistration(t, id)); });
    add("PollCommand", registration,
        [&c, t](const std::string& id) { return StatusOf(c.PollCommand(t, id)); });
    add("LeaseReplicaLaunches", registration,
        [&c, t](const std::string& id) { return StatusOf(c.LeaseReplicaLaunches(t, id)); });
    add("RecordSignal(termination)", registration, [&c, t, termination](const std::string& id) {
      return StatusOf(c.RecordSignal(t, id, termination));
    });
    add("RecordSignal(rebalance)", registration, [&c, t, rebalance](const std::string& id) {
      return StatusOf(c.RecordSignal(t, id, rebalance));
    });
    // The owner's registration with the caller's own command and replica ids.
    for (const std::string& command : caller.command_ids) {
      add("AckCommand(foreign registration, own command)", registration,
          [&c, t, command](const std::string& id) {
            return StatusOf(c.AckCommand(t, id, command, true, "Switch completed"));
          });
    }
    for (const std::string& replica : caller.replica_ids) {
      add("ReportReplicaStatus(foreign registration, own replica)", registration,
          [&c, t, replica, now](const std::string& id) {
            return StatusOf(
                c.ReportReplicaStatus(t, id, replica, ReplicaReport::kFailed, now, "probe"));
          });
      add("ReportReplicaInstance(foreign registration, own replica)", registration,
          [&c, t, replica](const std::string& id) {
            return StatusOf(c.ReportReplicaInstance(t, id, replica, InstanceId(0xfffff),
                                                    ReplicaReport::kSyncing));
          });
    }
  }

  for (const std::string& command : owner.command_ids) {
    add("GetCommand", command,
        [&c, t](const std::string& id) { return StatusOf(c.GetCommand(t, id)); });
    for (const std::string& registration : registrations) {
      for (bool success : {true, false}) {
        add(fmt::format("AckCommand(success={})", success), command,
            [&c, t, registration, success](const std::string& id) {
              return StatusOf(c.AckCommand(t, registration, id, success, "Switch completed"));
            });
      }
    }
    for (const std::string& agent : agents) {
      add("CancelCommand", command, [&c, t, agent](const std::string& id) {
        return StatusOf(c.CancelCommand(t, agent, id, "probe"));
      });
    }
  }

  for (const std::string& replica : owner.replica_ids) {
    for (const std::string& registration : registrations) {
      for (ReplicaReport status : {ReplicaReport::kLaunching, ReplicaReport::kSyncing}) {
        add("ReportReplicaInstance", replica, [&c, t, registration, status](const std::string& id) {
          return StatusOf(
              c.ReportReplicaInstance(t, registration, id, InstanceId(0xfffff), status));
        });
      }
      for (ReplicaReport status :
           {ReplicaReport::kLaunching, ReplicaReport::kSyncing, ReplicaReport::kReady,
            ReplicaReport::kFailed, ReplicaReport::kTerminated}) {
        add("ReportReplicaStatus", replica,
            [&c, t, registration, status, now](const std::string& id) {
              return StatusOf(c.ReportReplicaStatus(t, registration, id, status, now, "probe"));
            });
      }
    }
    for (const std::string& agent : agents) {
      for (bool force : {false, true}) {
        add(fmt::format("PromoteReplica(force={})", force), replica,
            [&c, t, agent, force](const std::string& id) {
              return StatusOf(c.PromoteReplica(t, agent, id, force));
            });
      }
      add("TerminateReplica", replica, [&c, t, agent](const std::string& id) {
        return StatusOf(c.TerminateReplica(t, agent, id));
      });
    }
  }
  return probes;
}

// The message with every occurrence of `id` replaced, so that the answers for a
// foreign id and for an unknown id can be compared.
std::string MessageWithoutId(const absl::Status& status, std::string_view id) {
  std::string message(status.message());
  for (size_t at = message.find(id); !id.empty() && at != std::string::npos;
       at = message.find(id, at)) {
    message.replace(at, id.size(), "<id>");
  }
  return message;
}

void ExpectForeignIdsInvisible(ServiceFixture& f, const Fleet& caller, const Fleet& owner) {
  std::string before = f.Dump();
  const std::vector<Probe> probes = ForeignProbes(f.controller(), caller, owner, f.clock().Now());
  REQUIRE(probes.size() > 100);
  for (const Probe& probe : probes) {
    INFO(probe.name, " with id ", probe.id);
    const absl::Status foreign = probe.call(probe.id);
    const std::string unknown_id = NewId();
    const absl::Status unknown = probe.call(unknown_id);
    CHECK_MESSAGE(absl::IsNotFound(foreign), foreign.ToString());
    CHECK_MESSAGE(absl::IsNotFound(unknown), unknown.ToString());
    CHECK(MessageWithoutId(foreign, probe.id) == MessageWithoutId(unknown, unknown_id));
    // Re-baselined after a failure, so one leaking call does not mask the others.
    std::string after = f.Dump();
    const bool unchanged = after == before;
    CHECK_MESSAGE(unchanged, "the call changed the store");
    before = std::move(after);
  }
}

TEST_CASE_TEMPLATE("another tenant's ids look unknown and change nothing", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Fleet a = BuildFleet(f, "acme", 0x100);
  const Fleet b = BuildFleet(f, "globex", 0x200);
  Controller& c = f.controller();

  SUBCASE("tenant A with tenant B's ids") { ExpectForeignIdsInvisible(f, a, b); }
  SUBCASE("tenant B with tenant A's ids") { ExpectForeignIdsInvisible(f, b, a); }

  // The probed ids were live: their owner still reaches every one of them.
  for (const Fleet* fleet : {&a, &b}) {
    for (const std::string& agent : fleet->agent_ids) {
      CHECK(c.GetAgent(fleet->tenant, agent).ok());
      CHECK(c.GetConfig(fleet->tenant, agent).ok());
    }
    for (const std::string& registration : fleet->registration_ids) {
      CHECK(c.GetRegistration(fleet->tenant, registration).ok());
    }
    for (const std::string& command : fleet->command_ids) {
      CHECK(c.GetCommand(fleet->tenant, command).ok());
    }
    absl::StatusOr<Command> acked = c.AckCommand(fleet->tenant, fleet->web.registration_id,
                                                 fleet->leased_command, true, "Switch completed");
    REQUIRE_MESSAGE(acked.ok(), acked.status().ToString());
    CHECK(acked->state == CommandState::kSucceeded);
    absl::StatusOr<std::optional<Command>> polled =
        c.PollCommand(fleet->tenant, fleet->batch.registration_id);
    REQUIRE_MESSAGE(polled.ok(), polled.status().ToString());
    REQUIRE(polled->has_value());
    CHECK((*polled)->id == fleet->pending_command);
  }
}

TEST_CASE_TEMPLATE("listings hold only the caller's own records", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Fleet a = BuildFleet(f, "acme", 0x100);
  const Fleet b = BuildFleet(f, "globex", 0x200);
  Controller& c = f.controller();

  for (const Fleet* fleet : {&a, &b}) {
    absl::StatusOr<std::vector<AgentView>> agents = c.ListAgents(fleet->tenant);
    REQUIRE(agents.ok());
    std::set<std::string> ids;
    for (const AgentView& view : *agents) {
      CHECK(view.agent.tenant_id == fleet->tenant);
      ids.insert(view.agent.id);
      for (const RegistrationView& registration : view.registrations) {
        CHECK(registration.registration.tenant_id == fleet->tenant);
      }
    }
    CHECK(ids == std::set<std::string>(fleet->agent_ids.begin(), fleet->agent_ids.end()));

    std::set<std::string> commands;
    std::set<std::string> replicas;
    for (const std::string& agent : fleet->agent_ids) {
      absl::StatusOr<std::vector<Command>> listed = c.ListCommands(fleet->tenant, agent);
      REQUIRE(listed.ok());
      for (const Command& command : *listed) {
        CHECK(command.tenant_id == fleet->tenant);
        commands.insert(command.id);
      }
      absl::StatusOr<std::vector<Replica>> listed_replicas = c.ListReplicas(fleet->tenant, agent);
      REQUIRE(listed_replicas.ok());
      for (const Replica& replica : *listed_replicas) {
        CHECK(replica.tenant_id == fleet->tenant);
        replicas.insert(replica.id);
      }
      absl::StatusOr<std::vector<Incident>> incidents = c.ListIncidents(fleet->tenant, agent);
      REQUIRE(incidents.ok());
      for (const Incident& incident : *incidents) CHECK(incident.tenant_id == fleet->tenant);
      absl::StatusOr<std::vector<AgentEvent>> events = c.ListEvents(fleet->tenant, agent);
      REQUIRE(events.ok());
      for (const AgentEvent& event : *events) CHECK(event.tenant_id == fleet->tenant);
    }
    CHECK(commands == std::set<std::string>(fleet->command_ids.begin(), fleet->command_ids.end()));
    CHECK(replicas == std::set<std::string>(fleet->replica_ids.begin(), fleet->replica_ids.end()));
  }
}

TEST_CASE_TEMPLATE("ids of another logical agent of the same tenant look unknown", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Fleet fleet = BuildFleet(f, "acme", 0x100);
  Controller& c = f.controller();
  const std::string& t = fleet.tenant;
  const Time now = f.clock().Now();
  absl::StatusOr<std::vector<Replica>> batch_replicas = c.ListReplicas(t, fleet.batch.agent_id);
  REQUIRE(batch_replicas.ok());
  REQUIRE(batch_replicas->size() == 1);
  const std::string batch_replica = batch_replicas->front().id;
  absl::StatusOr<std::vector<Replica>> web_replicas = c.ListReplicas(t, fleet.web.agent_id);
  REQUIRE(web_replicas.ok());
  REQUIRE(web_replicas->size() == 1);
  const std::string web_replica = web_replicas->front().id;

  // (name, call): web's registration or agent with batch's command or replica, and
  // the reverse.
  const std::vector<std::pair<std::string, std::function<absl::Status()>>> calls = {
      {"AckCommand(web registration, batch command)",
       [&] {
         return StatusOf(c.AckCommand(t, fleet.web.registration_id, fleet.pending_command, true,
                                      "Switch completed"));
       }},
      {"AckCommand(batch registration, web command)",
       [&] {
         return StatusOf(c.AckCommand(t, fleet.batch.registration_id, fleet.leased_command, false,
                                      "Switch failed"));
       }},
      {"AckCommand(web standby registration, batch command)",
       [&] {
         return StatusOf(c.AckCommand(t, fleet.web_standby.registration_id, fleet.pending_command,
                                      true, "Switch completed"));
       }},
      {"CancelCommand(web agent, batch command)",
       [&] {
         return StatusOf(c.CancelCommand(t, fleet.web.agent_id, fleet.pending_command, "probe"));
       }},
      {"CancelCommand(batch agent, web command)",
       [&] {
         return StatusOf(c.CancelCommand(t, fleet.batch.agent_id, fleet.leased_command, "probe"));
       }},
      {"ReportReplicaInstance(web registration, batch replica)",
       [&] {
         return StatusOf(c.ReportReplicaInstance(t, fleet.web.registration_id, batch_replica,
                                                 InstanceId(0xfffff), ReplicaReport::kSyncing));
       }},
      {"ReportReplicaStatus(batch registration, web replica)",
       [&] {
         return StatusOf(c.ReportReplicaStatus(t, fleet.batch.registration_id, web_replica,
                                               ReplicaReport::kFailed, now, "probe"));
       }},
      {"PromoteReplica(batch agent, web replica)",
       [&] { return StatusOf(c.PromoteReplica(t, fleet.batch.agent_id, web_replica)); }},
      {"TerminateReplica(batch agent, web replica)",
       [&] { return StatusOf(c.TerminateReplica(t, fleet.batch.agent_id, web_replica)); }},
      {"TerminateReplica(web agent, batch replica)",
       [&] { return StatusOf(c.TerminateReplica(t, fleet.web.agent_id, batch_replica)); }},
  };
  std::string before = f.Dump();
  for (const auto& [name, call] : calls) {
    INFO(name);
    const absl::Status status = call();
    CHECK_MESSAGE(absl::IsNotFound(status), status.ToString());
    std::string after = f.Dump();
    const bool unchanged = after == before;
    CHECK_MESSAGE(unchanged, "the call changed the store");
    before = std::move(after);
  }
  // The same ids with the right owner are accepted.
  absl::StatusOr<Replica> promoted = c.PromoteReplica(t, fleet.web.agent_id, web_replica);
  REQUIRE_MESSAGE(promoted.ok(), promoted.status().ToString());
  CHECK(promoted->state == ReplicaState::kPromoted);
}

TEST_CASE_TEMPLATE("registering in one tenant never touches another tenant's agents", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const Fleet a = BuildFleet(f, "acme", 0x100);
  const std::string b = f.NewTenant("globex");
  Controller& c = f.controller();
  const auto snapshot = [&] {
    std::string text;
    for (const std::string& agent : a.agent_ids) {
      absl::StatusOr<AgentView> view = c.GetAgent(a.tenant, agent);
      REQUIRE(view.ok());
      absl::StatusOr<std::vector<AgentEvent>> events = c.ListEvents(a.tenant, agent);
      REQUIRE(events.ok());
      absl::StatusOr<std::vector<Command>> commands = c.ListCommands(a.tenant, agent);
      REQUIRE(commands.ok());
      text += fmt::format("{} {} v{} {} regs {} events {} commands {}\n", view->agent.id,
                          view->agent.placement.instance_id, view->agent.config.version,
                          ToString(view->agent.lifecycle), view->registrations.size(),
                          events->size(), commands->size());
      for (const Command& command : *commands) {
        text += fmt::format("  {} {}\n", command.id, ToString(command.state));
      }
    }
    return text;
  };
  const std::string before = snapshot();

  // The same logical id and the same instance id as tenant A's primary.
  absl::StatusOr<RegisterResult> same =
      c.Register(b, ServiceFixture::MakeRegisterRequest("checkout-api-1", a.web.instance_id));
  REQUIRE_MESSAGE(same.ok(), same.status().ToString());
  CHECK(same->created);
  CHECK(same->agent.tenant_id == b);
  CHECK(same->agent.id != a.web.agent_id);
  CHECK(same->registration.registration.id != a.web.registration_id);
  CHECK(same->registration.role == Role::kPrimary);
  CHECK(same->agent.placement.instance_id == a.web.instance_id);

  // Fallback identity (no logical id) on tenant A's standby instance and on the
  // target pool of A's leased switch: successor search stays inside tenant B.
  for (const auto& [instance, az] :
       {std::pair<std::string, std::string>{a.web_standby.instance_id, "us-east-1c"},
        {InstanceId(0x1ff), "us-east-1b"}}) {
    absl::StatusOr<RegisterResult> fallback =
        c.Register(b, ServiceFixture::MakeRegisterRequest("", instance, az));
    REQUIRE_MESSAGE(fallback.ok(), fallback.status().ToString());
    CHECK(fallback->created);
    CHECK(fallback->agent.tenant_id == b);
    CHECK(fallback->agent.logical_id == instance);
    CHECK(fallback->agent.fallback_identity);
    CHECK(std::find(a.agent_ids.begin(), a.agent_ids.end(), fallback->agent.id) ==
          a.agent_ids.end());
    CHECK(fallback->registration.role == Role::kPrimary);
  }

  CHECK(snapshot() == before);
  absl::StatusOr<std::vector<AgentView>> listed = c.ListAgents(b);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 3);
}

}  // namespace
}  // namespace spotopt::testing
