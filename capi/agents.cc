// The C ABI: agents, their heartbeats and their config.
#include "common.h"

#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace {

using spotopt::capi::AgentRead;
using spotopt::capi::ArrayOf;
using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::JsonOut;
using spotopt::capi::Require;
using spotopt::capi::StatusOut;

}  // namespace

extern "C" {

// ---- Agents ------------------------------------------------------------------------

spotopt_status spotopt_agent_get(spotopt_controller* controller, const char* tenant_id,
                                 const char* agent_id, char** agent_json_out) {
  return AgentRead(
      "spotopt_agent_get", controller, tenant_id, agent_id, agent_json_out, "agent_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.GetAgent(t, a); },
      spotopt::protocol::AgentJson);
}

spotopt_status spotopt_agent_list(spotopt_controller* controller, const char* tenant_id,
                                  char** agents_json_out) {
  constexpr const char* kFn = "spotopt_agent_list";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agents_json_out, "agents_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.ListAgents(tenant_id),
                   ArrayOf(spotopt::protocol::AgentJson), agents_json_out);
  });
}

spotopt_status spotopt_agent_set_enabled(spotopt_controller* controller, const char* tenant_id,
                                         const char* agent_id, int enabled) {
  constexpr const char* kFn = "spotopt_agent_set_enabled";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {agent_id, "agent_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut(controller->controller.SetEnabled(tenant_id, agent_id, enabled != 0));
  });
}

spotopt_status spotopt_agent_delete(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id) {
  constexpr const char* kFn = "spotopt_agent_delete";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {agent_id, "agent_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut(controller->controller.DeleteAgent(tenant_id, agent_id));
  });
}

spotopt_status spotopt_agent_events(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id, char** events_json_out) {
  return AgentRead(
      "spotopt_agent_events", controller, tenant_id, agent_id, events_json_out, "events_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListEvents(t, a); },
      ArrayOf(spotopt::protocol::EventJson));
}

spotopt_status spotopt_agent_heartbeat(spotopt_controller* controller, const char* tenant_id,
                                       const char* registration_id, const char* status,
                                       const char* instance_id, const char* instance_type,
                                       const char* az, int64_t* config_version_out) {
  constexpr const char* kFn = "spotopt_agent_heartbeat";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {registration_id, "registration_id"},
                                         {status, "status"},
                                         {config_version_out, "config_version_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto parsed = spotopt::ParseHeartbeatStatus(status);
    if (!parsed.ok()) return Fail(parsed.status());
    spotopt::HeartbeatReport report{.status = *parsed};
    if (instance_id != nullptr) report.instance_id = instance_id;
    if (instance_type != nullptr) report.instance_type = instance_type;
    if (az != nullptr) report.az = az;
    auto config = controller->controller.Heartbeat(tenant_id, registration_id, report);
    if (!config.ok()) return Fail(config.status());
    *config_version_out = config->version;
    return SPOTOPT_OK;
  });
}

// ---- Config ------------------------------------------------------------------------

spotopt_status spotopt_config_get(spotopt_controller* controller, const char* tenant_id,
                                  const char* agent_id, char** config_json_out) {
  return AgentRead(
      "spotopt_config_get", controller, tenant_id, agent_id, config_json_out, "config_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.GetConfig(t, a); },
      spotopt::protocol::ConfigRecordJson);
}

spotopt_status spotopt_config_update(spotopt_controller* controller, const char* tenant_id,
                                     const char* agent_id, const char* patch_json,
                                     int64_t expected_version, char** config_json_out) {
  constexpr const char* kFn = "spotopt_config_update";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {patch_json, "patch_json"},
                                         {config_json_out, "config_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (expected_version < 0) {
      return Fail(
          SPOTOPT_INVALID_ARGUMENT,
          fmt::format("{}: expected_version is {}; use 0 for no check", kFn, expected_version));
    }
    auto patch = spotopt::ParseConfigPatchJson(patch_json);
    if (!patch.ok()) return Fail(patch.status());
    std::optional<int64_t> expected;
    if (expected_version > 0) expected = expected_version;
    return JsonOut(controller->controller.UpdateConfig(tenant_id, agent_id, *patch, expected),
                   spotopt::protocol::ConfigRecordJson, config_json_out);
  });
}

}  // extern "C"
