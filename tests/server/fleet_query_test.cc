// The fleet view of spotopt-server's agents list (examples/server/fleet_query.h):
// the query keys, the filters, the orders and the pages a dashboard reads.
#include <doctest/doctest.h>

#include <boost/url/parse.hpp>

#include "examples/server/fleet_query.h"

namespace spotopt::server {
namespace {

absl::StatusOr<FleetQuery> Parse(std::string_view target) {
  return ParseFleetQuery(boost::urls::parse_origin_form(target)->params());
}

AgentView Agent(std::string logical_id, Liveness liveness, Mode mode, std::string az,
                int64_t since_seconds) {
  AgentView v;
  v.agent.id = "id-" + logical_id;
  v.agent.logical_id = std::move(logical_id);
  v.agent.placement = {.instance_id = "i-0123456789abcdef0",
                       .instance_type = "m5.large",
                       .region = "eu-west-1",
                       .az = std::move(az),
                       .mode = mode};
  v.agent.placement_since = absl::FromUnixSeconds(since_seconds);
  v.liveness = liveness;
  return v;
}

std::vector<std::string> Names(const FleetPage& page) {
  std::vector<std::string> out;
  for (const AgentView* v : page.agents) out.push_back(v->agent.logical_id);
  return out;
}

const std::vector<AgentView> kFleet = {
    Agent("web-2", Liveness::kOnline, Mode::kSpot, "eu-west-1b", 300),
    Agent("web-1", Liveness::kStale, Mode::kSpot, "eu-west-1a", 100),
    Agent("db-1", Liveness::kOnline, Mode::kOnDemand, "eu-west-1a", 200),
    Agent("Batch-1", Liveness::kOffline, Mode::kSpot, "eu-west-1a", 400),
};

TEST_CASE("no keys: every agent in the Controller's order") {
  const FleetPage page = SelectFleet(kFleet, *Parse("/x"));
  CHECK(page.matched == 4);
  CHECK(Names(page) == std::vector<std::string>{"web-2", "web-1", "db-1", "Batch-1"});
}

TEST_CASE("filters combine; the text is any case and percent-decoded") {
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?liveness=online"))) ==
        std::vector<std::string>{"web-2", "db-1"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?mode=on-demand"))) ==
        std::vector<std::string>{"db-1"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?pool=m5.large.eu-west-1a&mode=spot"))) ==
        std::vector<std::string>{"web-1", "Batch-1"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?q=BATCH"))) == std::vector<std::string>{"Batch-1"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?q=west-1b"))) == std::vector<std::string>{"web-2"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?q=web%2D1"))) == std::vector<std::string>{"web-1"});
  CHECK(SelectFleet(kFleet, *Parse("/x?q=nothing")).matched == 0);
  // Exactly the agents named, an empty name naming none.
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?ids=id-db-1,,id-web-2,id-gone&sort=name"))) ==
        std::vector<std::string>{"db-1", "web-2"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?ids=id-db-1%2Cid-web-1&liveness=online"))) ==
        std::vector<std::string>{"db-1"});
  // An empty value is no filter, as an empty search box sends it.
  CHECK(SelectFleet(kFleet, *Parse("/x?q=&liveness=&pool=")).matched == 4);
}

TEST_CASE("orders are total and pages are slices of them") {
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?sort=name"))) ==
        std::vector<std::string>{"Batch-1", "db-1", "web-1", "web-2"});
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?sort=-since"))) ==
        std::vector<std::string>{"Batch-1", "web-2", "db-1", "web-1"});
  // Ties broken by name: online (db-1, web-2), stale, offline.
  CHECK(Names(SelectFleet(kFleet, *Parse("/x?sort=liveness"))) ==
        std::vector<std::string>{"db-1", "web-2", "web-1", "Batch-1"});
  const FleetPage page = SelectFleet(kFleet, *Parse("/x?sort=name&offset=1&limit=2"));
  CHECK(page.matched == 4);
  CHECK(Names(page) == std::vector<std::string>{"db-1", "web-1"});
  CHECK(SelectFleet(kFleet, *Parse("/x?offset=10&limit=5")).agents.empty());
  CHECK(SelectFleet(kFleet, *Parse("/x?offset=10&limit=5")).matched == 4);
}

TEST_CASE("bad values are refused naming the key") {
  for (const char* bad :
       {"/x?liveness=asleep", "/x?mode=cheap", "/x?lifecycle=gone", "/x?sort=price", "/x?offset=-1",
        "/x?limit=0", "/x?limit=1001", "/x?limit=ten"}) {
    CAPTURE(bad);
    const absl::StatusOr<FleetQuery> q = Parse(bad);
    REQUIRE_FALSE(q.ok());
    CHECK(absl::IsInvalidArgument(q.status()));
    const std::string key(std::string_view(bad).substr(3, std::string_view(bad).find('=') - 3));
    CHECK(std::string(q.status().message()).starts_with(key));
  }
}

TEST_CASE("the summary counts active agents by liveness, mode and spot pool") {
  std::vector<AgentView> fleet = kFleet;
  fleet.push_back(Agent("gone", Liveness::kOffline, Mode::kSpot, "eu-west-1c", 0));
  fleet.back().agent.lifecycle = Lifecycle::kDeleted;
  const boost::json::object summary = FleetSummaryJson(fleet);
  CHECK(boost::json::serialize(summary) ==
        R"({"active":4,"deleted":1,"liveness":{"online":2,"stale":1,"offline":1},)"
        R"("mode":{"spot":3,"ondemand":1},)"
        R"("pools":{"m5.large.eu-west-1a":2,"m5.large.eu-west-1b":1}})");
}

}  // namespace
}  // namespace spotopt::server
