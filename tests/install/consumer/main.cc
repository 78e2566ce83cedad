// Uses only installed headers: a tenant, an agent, a command round trip.
#include <cstdio>
#include <memory>

#include "spotopt/service/controller.h"
#include "spotopt/store/memory_store.h"

int main() {
  auto clock = std::make_shared<spotopt::ManualClock>(absl::FromUnixSeconds(1'764'000'000));
  spotopt::Controller controller(std::make_shared<spotopt::MemoryStore>(), clock);
  auto tenant = controller.CreateTenant("acme");
  if (!tenant.ok()) return 1;
  spotopt::RegisterRequest req;
  req.logical_id = "checkout-api-1";
  req.instance_id = "i-0a1b2c3d4e5f67890";
  req.region = "us-east-1";
  req.facts.instance_type = "m5.large";
  req.facts.az = "us-east-1a";
  auto reg = controller.Register(tenant->tenant.id, req);
  if (!reg.ok()) return 2;
  auto poll = controller.PollCommand(tenant->tenant.id, reg->registration.registration.id);
  if (!poll.ok() || poll->has_value()) return 3;
  std::printf("installed libspotopt works: agent %s\n", reg->agent.id.c_str());
  return 0;
}
