// The C ABI: what happened to an agent: interruption incidents and switches.
#include "common.h"

namespace {

using spotopt::capi::AgentRead;
using spotopt::capi::ArrayOf;

}  // namespace

extern "C" {

// ---- Incidents and switches ------------------------------------------------------------

spotopt_status spotopt_incident_list(spotopt_controller* controller, const char* tenant_id,
                                     const char* agent_id, char** incidents_json_out) {
  return AgentRead(
      "spotopt_incident_list", controller, tenant_id, agent_id, incidents_json_out,
      "incidents_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListIncidents(t, a); },
      ArrayOf(spotopt::protocol::IncidentJson));
}

spotopt_status spotopt_switch_list(spotopt_controller* controller, const char* tenant_id,
                                   const char* agent_id, char** switches_json_out) {
  return AgentRead(
      "spotopt_switch_list", controller, tenant_id, agent_id, switches_json_out,
      "switches_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListSwitches(t, a); },
      ArrayOf(spotopt::protocol::SwitchJson));
}

}  // extern "C"
