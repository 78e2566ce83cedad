// The C ABI: the command queue and replicas.
#include "common.h"

#include "protocol/wire.h"

namespace {

namespace json = boost::json;
using spotopt::capi::AgentRead;
using spotopt::capi::ArrayOf;
using spotopt::capi::CopyOut;
using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::JsonOut;
using spotopt::capi::JsonRequest;
using spotopt::capi::Require;

}  // namespace

extern "C" {

// ---- Commands ----------------------------------------------------------------------

spotopt_status spotopt_command_enqueue_switch(spotopt_controller* controller, const char* tenant_id,
                                              const char* agent_id, const char* request_json,
                                              char** command_json_out) {
  return JsonRequest(
      "spotopt_command_enqueue_switch", controller, tenant_id, agent_id, request_json, true,
      command_json_out, "command_json_out", spotopt::protocol::SwitchRequestFromJson,
      [](spotopt::Controller& c, const char* t, const char* a, const spotopt::SwitchRequest& r) {
        return c.EnqueueSwitch(t, a, r);
      },
      spotopt::protocol::CommandRecordJson);
}

spotopt_status spotopt_command_enqueue_create_replica(spotopt_controller* controller,
                                                      const char* tenant_id, const char* agent_id,
                                                      const char* request_json,
                                                      char** command_json_out) {
  return JsonRequest(
      "spotopt_command_enqueue_create_replica", controller, tenant_id, agent_id, request_json,
      false, command_json_out, "command_json_out", spotopt::protocol::ReplicaRequestFromJson,
      [](spotopt::Controller& c, const char* t, const char* a, const spotopt::ReplicaRequest& r) {
        return c.EnqueueCreateReplica(t, a, r);
      },
      spotopt::protocol::CommandRecordJson);
}

spotopt_status spotopt_command_poll(spotopt_controller* controller, const char* tenant_id,
                                    const char* registration_id, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_poll";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {registration_id, "registration_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto command = controller->controller.PollCommand(tenant_id, registration_id);
    if (!command.ok()) return Fail(command.status());
    *command_json_out =
        *command
            ? CopyOut(spotopt::json::Serialize(spotopt::protocol::CommandJson(**command))).release()
            : nullptr;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_command_ack(spotopt_controller* controller, const char* tenant_id,
                                   const char* registration_id, const char* command_id, int success,
                                   const char* message, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_ack";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {registration_id, "registration_id"},
                                         {command_id, "command_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.AckCommand(tenant_id, registration_id, command_id, success != 0,
                                          message == nullptr ? "" : message),
        spotopt::protocol::CommandRecordJson, command_json_out);
  });
}

spotopt_status spotopt_command_cancel(spotopt_controller* controller, const char* tenant_id,
                                      const char* agent_id, const char* command_id,
                                      const char* reason, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_cancel";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {command_id, "command_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.CancelCommand(tenant_id, agent_id, command_id,
                                             reason == nullptr ? "cancelled by operator" : reason),
        spotopt::protocol::CommandRecordJson, command_json_out);
  });
}

spotopt_status spotopt_command_get(spotopt_controller* controller, const char* tenant_id,
                                   const char* command_id, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_get";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {command_id, "command_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.GetCommand(tenant_id, command_id),
                   spotopt::protocol::CommandRecordJson, command_json_out);
  });
}

spotopt_status spotopt_command_list(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id, char** commands_json_out) {
  return AgentRead(
      "spotopt_command_list", controller, tenant_id, agent_id, commands_json_out,
      "commands_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListCommands(t, a); },
      ArrayOf(spotopt::protocol::CommandRecordJson));
}

// ---- Replicas ----------------------------------------------------------------------

spotopt_status spotopt_replica_request(spotopt_controller* controller, const char* tenant_id,
                                       const char* agent_id, const char* request_json,
                                       char** replica_json_out) {
  return JsonRequest(
      "spotopt_replica_request", controller, tenant_id, agent_id, request_json, false,
      replica_json_out, "replica_json_out", spotopt::protocol::ReplicaRequestFromJson,
      [](spotopt::Controller& c, const char* t, const char* a, const spotopt::ReplicaRequest& r) {
        return c.RequestReplica(t, a, r);
      },
      spotopt::protocol::ReplicaRecordJson);
}

spotopt_status spotopt_replica_promote(spotopt_controller* controller, const char* tenant_id,
                                       const char* agent_id, const char* replica_id, int force,
                                       char** replica_json_out) {
  constexpr const char* kFn = "spotopt_replica_promote";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {replica_id, "replica_id"},
                                         {replica_json_out, "replica_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.PromoteReplica(tenant_id, agent_id, replica_id, force != 0),
        spotopt::protocol::ReplicaRecordJson, replica_json_out);
  });
}

spotopt_status spotopt_replica_terminate(spotopt_controller* controller, const char* tenant_id,
                                         const char* agent_id, const char* replica_id,
                                         char** replica_json_out) {
  constexpr const char* kFn = "spotopt_replica_terminate";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {replica_id, "replica_id"},
                                         {replica_json_out, "replica_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.TerminateReplica(tenant_id, agent_id, replica_id),
                   spotopt::protocol::ReplicaRecordJson, replica_json_out);
  });
}

spotopt_status spotopt_replica_list(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id, char** replicas_json_out) {
  return AgentRead(
      "spotopt_replica_list", controller, tenant_id, agent_id, replicas_json_out,
      "replicas_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListReplicas(t, a); },
      ArrayOf(spotopt::protocol::ReplicaRecordJson));
}

}  // extern "C"
