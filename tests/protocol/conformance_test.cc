// The agent protocol's conformance checklist (spec section 12), one test per line,
// through the transport-agnostic handler.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <set>

#include "spotopt/protocol/handler.h"
#include "tests/service/fixture.h"

namespace spotopt::protocol {
namespace {

using testing::InstanceId;
using testing::ServiceFixture;

// A harness that speaks like agent v4: every request carries the bearer token and
// a JSON content type, GETs included.
class Wire {
 public:
  Wire() : f_(testing::StoreKind::kMemory), protocol_(f_.controller()) {
    auto created = f_.controller().CreateTenant("acme");
    REQUIRE(created.ok());
    tenant_id_ = created->tenant.id;
    token_ = created->token;
  }

  Response Call(std::string_view method, std::string_view target, std::string_view body = "",
                std::optional<std::string> token = {},
                std::string_view content_type = "application/json") {
    const std::string bearer = "Bearer " + token.value_or(token_);
    Request req{method, target, {}, body};
    if (!bearer.empty()) req.headers.push_back({"Authorization", bearer});
    if (!content_type.empty()) req.headers.push_back({"Content-Type", content_type});
    Response r = protocol_.Handle(req);
    // Line 4: every response has a JSON body and a JSON content type.
    CHECK_FALSE(r.body.empty());
    boost::system::error_code ec;
    last_json_ = boost::json::parse(r.body, ec);
    CHECK_MESSAGE(!ec, r.body);
    bool json_type = false;
    for (const auto& [k, v] : r.headers) {
      json_type |= k == "Content-Type" && v.rfind("application/json", 0) == 0;
    }
    CHECK(json_type);
    return r;
  }
  const boost::json::value& json() const { return last_json_; }

  static std::string RegisterBody(std::string_view logical, std::string_view instance,
                                  std::string_view az = "us-east-1a") {
    return fmt::format(
        R"({{"client_token": "ignored-if-header", "hostname": "ip-10-0-3-17",
            "instance_id": "{}", "instance_type": "m5.large", "region": "us-east-1",
            "az": "{}", "ami_id": "ami-0c55b159cbfafe1f0", "agent_version": "4.0.0",
            "logical_agent_id": "{}", "mode": "spot", "private_ip": "10.0.3.17",
            "public_ip": null}})",
        instance, az, logical);
  }

  // Registers and returns the wire agent_id.
  std::string Register(std::string_view logical, std::string_view instance,
                       std::string_view az = "us-east-1a") {
    Response r = Call("POST", "/api/agents/register", RegisterBody(logical, instance, az));
    REQUIRE_MESSAGE((r.status == 200 || r.status == 201), r.body);
    return std::string(json().at("agent_id").as_string());
  }

  std::string AgentOf(std::string_view registration_id) {
    auto view = f_.controller().GetRegistration(tenant_id_, registration_id);
    REQUIRE(view.ok());
    return view->registration.agent_id;
  }

  ServiceFixture& fixture() { return f_; }
  Controller& controller() { return f_.controller(); }
  const std::string& tenant_id() const { return tenant_id_; }
  const std::string& token() const { return token_; }

 private:
  ServiceFixture f_;
  AgentProtocol protocol_;
  std::string tenant_id_;
  std::string token_;
  boost::json::value last_json_;
};

// String values as std::string, to compare with ids.
std::string S(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

Command Enqueue(Wire& w, const std::string& agent_id, std::string_view az,
                Priority p = Priority::kManual) {
  SwitchRequest req{.target_mode = Mode::kSpot,
                    .target_pool_id = testing::PoolId(az),
                    .priority = p,
                    .override_limits = p == Priority::kManual};
  if (p != Priority::kManual) {
    req.expected_savings_percent = 50;
    req.target_risk = 0.1;
  }
  auto c = w.controller().EnqueueSwitch(w.tenant_id(), agent_id, req);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return *c;
}

TEST_CASE("1: routes answer at the origin root, with or without one trailing slash") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/config", id)).status == 200);
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/config/", id)).status == 200);
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/config//", id)).status == 404);
  CHECK(w.Call("GET", "/spot/api/agents/x/config").status == 404);
  const Response wrong = w.Call("DELETE", fmt::format("/api/agents/{}/config", id));
  CHECK(wrong.status == 405);
  CHECK(std::any_of(wrong.headers.begin(), wrong.headers.end(),
                    [](const auto& h) { return h.first == "Allow" && h.second == "GET"; }));
  // Unknown query parameters are ignored.
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/config?x=1&y", id)).status == 200);
}

TEST_CASE("2-3: GET ignores body and content type; POST parses JSON whatever the type") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/pending-commands", id), "not json").status ==
        200);
  for (std::string_view type : {"", "text/plain"}) {
    CHECK(w.Call("POST", fmt::format("/api/agents/{}/heartbeat", id), R"({"status": "online"})", {},
                 type)
              .status == 200);
  }
}

TEST_CASE("5: missing, empty or unknown tokens get 401, a suspended tenant 403") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string path = fmt::format("/api/agents/{}/heartbeat", id);
  for (const std::string& token :
       {std::string(""), std::string("   "), std::string("sot_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}) {
    const Response r = w.Call("POST", path, R"({"status": "online"})", token);
    CHECK(r.status == 401);
    CHECK(w.json().at("error") == "unauthenticated");
  }
  REQUIRE(w.controller().SuspendTenant(w.tenant_id()).ok());
  const std::string suspended = w.fixture().Dump();
  CHECK(w.Call("POST", path, R"({"status": "online"})").status == 403);
  CHECK(w.fixture().Dump() == suspended);
  REQUIRE(w.controller().ReactivateTenant(w.tenant_id()).ok());
  CHECK(w.Call("POST", path, R"({"status": "online"})").status == 200);
}

TEST_CASE("6-8: register with the token in the body only, unknowns, extra fields") {
  Wire w;
  std::string body = Wire::RegisterBody("api", InstanceId(1));
  body.replace(body.find("ignored-if-header"), 17, w.token());
  Response r = w.Call("POST", "/api/agents/register", body, "");
  CHECK(r.status == 201);
  CHECK(w.json().at("config").at("enabled").is_bool());

  const std::string unknowns = fmt::format(
      R"({{"instance_id": "{}", "region": "us-east-1", "instance_type": "unknown",
          "az": "unknown", "ami_id": "unknown", "private_ip": "unknown", "public_ip": null,
          "mode": "spot", "brand_new_field": {{"x": [1, 2]}}}})",
      InstanceId(2));
  r = w.Call("POST", "/api/agents/register", unknowns);
  CHECK(r.status == 201);
  CHECK(w.json().at("agent_id").is_string());
  CHECK(w.json().at("config").at("enabled") == true);
  CHECK(w.json().at("config").at("config_version") == 1);
}

TEST_CASE("9-11: same instance, second instance, deleted agent") {
  Wire w;
  const std::string first = w.Register("api", InstanceId(1));
  CHECK(w.Call("POST", "/api/agents/register", Wire::RegisterBody("api", InstanceId(1))).status ==
        200);
  CHECK(S(w.json().at("agent_id")) == first);
  const std::string second = w.Register("api", InstanceId(2));
  CHECK(second != first);
  CHECK(w.AgentOf(second) == w.AgentOf(first));
  CHECK(w.controller().ListAgents(w.tenant_id())->size() == 1);

  REQUIRE(w.controller().DeleteAgent(w.tenant_id(), w.AgentOf(first)).ok());
  const std::string before = w.fixture().Dump();
  CHECK(w.Call("POST", "/api/agents/register", Wire::RegisterBody("api", InstanceId(1))).status ==
        409);
  CHECK(w.fixture().Dump() == before);
}

TEST_CASE("12-13: another tenant's ids and 'None' are 404 and change nothing") {
  Wire w;
  const std::string mine = w.Register("api", InstanceId(1));
  auto other = w.controller().CreateTenant("other");
  REQUIRE(other.ok());
  const std::string before = w.fixture().Dump();
  for (std::string_view path : {"/api/agents/None/heartbeat", "/api/agents/%4E/heartbeat"}) {
    CHECK(w.Call("POST", path, R"({"status": "offline"})").status == 404);
  }
  const Response r = w.Call("POST", fmt::format("/api/agents/{}/heartbeat", mine),
                            R"({"status": "offline"})", other->token);
  CHECK(r.status == 404);
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/pending-commands", mine), "", other->token)
            .status == 404);
  CHECK(w.fixture().Dump() == before);
}

TEST_CASE("14-15: heartbeat statuses; a non-primary heartbeat never moves the placement") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string path = fmt::format("/api/agents/{}/heartbeat", id);
  for (std::string_view s : {"offline", "disabled", "online"}) {
    CHECK(w.Call("POST", path, fmt::format(R"({{"status": "{}"}})", s)).status == 200);
    CHECK(w.json().at("success") == true);
  }
  const std::string before = w.fixture().Dump();
  CHECK(w.Call("POST", path, R"({"status": "sleeping"})").status == 400);
  CHECK(w.fixture().Dump() == before);

  const std::string other = w.Register("api", InstanceId(2));
  CHECK(w.Call("POST", fmt::format("/api/agents/{}/heartbeat", other),
               fmt::format(R"({{"status": "online", "instance_id": "{}", "mode": "spot",
                               "monitored_instances": [], "az": null}})",
                           InstanceId(2)))
            .status == 200);
  CHECK(w.controller().GetAgent(w.tenant_id(), w.AgentOf(id))->agent.placement.instance_id ==
        InstanceId(1));
}

TEST_CASE("17: config is an object with a boolean enabled, false after disabling") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/config", id)).status == 200);
  CHECK(w.json().at("enabled") == true);
  CHECK(w.json().at("replica_mode") == "emergency");
  CHECK(w.json().at("replica_count") == 0);
  REQUIRE(w.controller().SetEnabled(w.tenant_id(), w.AgentOf(id), false).ok());
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/config", id)).status == 200);
  CHECK(w.json().at("enabled") == false);
}

TEST_CASE("18-24: the command poll") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string agent = w.AgentOf(id);
  const std::string poll = fmt::format("/api/agents/{}/pending-commands", id);

  CHECK(w.Call("GET", poll).status == 200);
  CHECK(w.json().as_array().empty());

  // 23: priority first, then creation order.
  REQUIRE(w.controller()
              .UpdateConfig(w.tenant_id(), agent, {.replica_mode = ReplicaMode::kManualStandby})
              .ok());
  auto replica_cmd = w.controller().EnqueueCreateReplica(w.tenant_id(), agent, {});
  REQUIRE(replica_cmd.ok());
  const Command manual = Enqueue(w, agent, "us-east-1c");

  CHECK(w.Call("GET", poll).status == 200);
  REQUIRE(w.json().as_array().size() == 1);  // 18: at most one
  const auto& cmd = w.json().as_array()[0].as_object();
  // 21: every key, explicitly, with an integer wait and a pool of the agent's type.
  CHECK(S(cmd.at("id")) == replica_cmd->id);  // both 75: created first wins
  for (const char* key : {"id", "command_type", "target_mode", "target_pool_id", "priority",
                          "terminate_wait_seconds"}) {
    CHECK_MESSAGE(cmd.contains(key), key);
  }
  CHECK(cmd.at("command_type") == "create_replica");
  CHECK(cmd.at("terminate_wait_seconds").is_int64());
  CHECK(std::string(cmd.at("target_pool_id").as_string()).rfind("m5.large.", 0) == 0);

  // 24: nothing while one is leased; 19: a delivered command never comes back.
  CHECK(w.Call("GET", poll).status == 200);
  CHECK(w.json().as_array().empty());
  CHECK(w.Call("POST", fmt::format("/api/agents/{}/commands/{}/executed", id, replica_cmd->id),
               R"({"success": true, "message": "Replica created: x"})")
            .status == 200);
  CHECK(w.Call("GET", poll).status == 200);
  REQUIRE(w.json().as_array().size() == 1);
  CHECK(S(w.json().as_array()[0].at("id")) == manual.id);
  CHECK(w.json().as_array()[0].at("terminate_wait_seconds") == 300);
  for (int i = 0; i < 3; ++i) {
    CHECK(w.Call("GET", poll).status == 200);
    CHECK(w.json().as_array().empty());
  }

  // 20: replica, other and disabled registrations get [].
  const std::string other = w.Register("api", InstanceId(2));
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/pending-commands", other)).status == 200);
  CHECK(w.json().as_array().empty());
}

TEST_CASE("22: terminate wait on the wire") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string agent = w.AgentOf(id);
  REQUIRE(w.controller().UpdateConfig(w.tenant_id(), agent, {.terminate_wait_seconds = 0}).ok());
  Enqueue(w, agent, "us-east-1c");
  w.Call("GET", fmt::format("/api/agents/{}/pending-commands", id));
  CHECK(w.json().as_array()[0].at("terminate_wait_seconds") == 1);
}

TEST_CASE("25-26: acks") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const Command c = Enqueue(w, w.AgentOf(id), "us-east-1c");
  const std::string ack = fmt::format("/api/agents/{}/commands/{}/executed", id, c.id);
  std::string before = w.fixture().Dump();
  CHECK(w.Call("POST", ack, R"({"success": true})").status == 409);  // never delivered
  CHECK(w.fixture().Dump() == before);
  w.Call("GET", fmt::format("/api/agents/{}/pending-commands", id));
  CHECK(w.Call("POST", ack, R"({"success": true, "message": "Switch completed"})").status == 200);
  CHECK(w.json().at("state") == "succeeded");
  before = w.fixture().Dump();
  CHECK(w.Call("POST", ack, R"({"success": true, "message": "Switch completed"})").status == 200);
  CHECK(w.fixture().Dump() == before);
  CHECK(w.Call("POST", fmt::format("/api/agents/{}/commands/{}/executed", id, NewId()),
               R"({"success": true})")
            .status == 404);
}

TEST_CASE("31-33: replica launch listing, instance report, status posts") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string agent = w.AgentOf(id);
  auto requested = w.controller().RequestReplica(w.tenant_id(), agent,
                                                 {.pool_id = testing::PoolId("us-east-1c")});
  REQUIRE(requested.ok());
  const std::string other = w.Register("api", InstanceId(2));
  CHECK(w.Call("GET", fmt::format("/api/agents/{}/replicas?status=launching", other)).status ==
        200);
  CHECK(w.json().at("replicas").as_array().empty());

  const std::string listing = fmt::format("/api/agents/{}/replicas?status=launching", id);
  CHECK(w.Call("GET", listing).status == 200);
  REQUIRE(w.json().at("total") == 1);
  const auto& item = w.json().at("replicas").as_array()[0];
  CHECK(S(item.at("id")) == requested->id);
  CHECK(item.at("pool_id") == "m5.large.us-east-1c");
  CHECK(item.at("az") == "us-east-1c");
  CHECK(item.at("status") == "launching");
  CHECK(w.Call("GET", listing).status == 200);
  CHECK(w.json().at("total") == 0);  // listed once

  const std::string put = fmt::format("/api/agents/{}/replicas/{}", id, requested->id);
  std::string before = w.fixture().Dump();
  CHECK(w.Call("PUT", put, R"({"instance_id": "replica-123", "status": "syncing"})").status == 400);
  CHECK(w.fixture().Dump() == before);
  CHECK(w.Call("PUT", put,
               fmt::format(R"({{"instance_id": "{}", "status": "syncing"}})", InstanceId(7)))
            .status == 200);
  CHECK(w.json().at("status") == "syncing");

  const std::string status = put + "/status";
  CHECK(w.Call("POST", status,
               R"({"status": "syncing", "sync_started_at": "2025-11-23T13:41:02.119342+00:00"})")
            .status == 200);
  CHECK(w.Call("POST", status,
               R"({"status": "ready", "sync_completed_at": "2025-11-23T13:41:40.870115+00:00"})")
            .status == 200);
  CHECK(w.json().at("status") == "ready");
  before = w.fixture().Dump();
  CHECK(w.Call("POST", status, R"({"status": "syncing"})").status == 409);
  CHECK(w.fixture().Dump() == before);
  CHECK(w.Call("POST", status,
               R"({"status": "failed", "error_message": "InsufficientInstanceCapacity"})")
            .status == 200);
  CHECK(w.json().at("status") == "failed");
}

TEST_CASE("40: limits: oversized, deep, duplicate keys, invalid UTF-8") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string path = fmt::format("/api/agents/{}/heartbeat", id);
  const std::string before = w.fixture().Dump();
  const std::string big =
      R"({"status": "online", "pad": ")" + std::string(256 * 1024, 'x') + R"("})";
  CHECK(w.Call("POST", path, big).status == 413);
  std::string deep = R"({"status": "online", "x": )";
  for (int i = 0; i < 17; ++i) deep += "[";
  for (int i = 0; i < 17; ++i) deep += "]";
  deep += "}";
  CHECK(w.Call("POST", path, deep).status == 400);
  CHECK(w.Call("POST", path, R"({"status": "online", "status": "offline"})").status == 400);
  CHECK(w.Call("POST", path, "{\"status\": \"online\", \"x\": \"\xff\"}").status == 400);
  CHECK(w.Call("POST", path, "[]").status == 400);
  CHECK(w.Call("POST", path, "").status == 400);
  CHECK(w.fixture().Dump() == before);
}

constexpr std::string_view kPricing = R"({
  "instance": {"instance_id": "i-0a1b2c3d4e0000001", "instance_type": "m5.large",
               "region": "us-east-1", "az": "us-east-1a", "mode": "spot",
               "pool_id": "m5.large.us-east-1a"},
  "pricing": {"on_demand_price": 0.096, "current_spot_price": 0.0389,
              "cheapest_pool": {"pool_id": "m5.large.us-east-1c", "price": 0.0342},
              "spot_pools": [
                {"pool_id": "m5.large.us-east-1a", "instance_type": "m5.large", "az": "us-east-1a", "price": 0.0389},
                {"pool_id": "m5.large.us-east-1b", "instance_type": "m5.large", "az": "us-east-1b", "price": "0.0411"},
                {"pool_id": "m5.large.us-east-1c", "instance_type": "m5.large", "az": "us-east-1c", "price": 0.0342}],
              "collected_at": "2025-11-23T09:59:02.481930+00:00"}})";

TEST_CASE("pricing report: every pool plus on-demand; a bad price refuses only itself") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string path = fmt::format("/api/agents/{}/pricing-report", id);
  CHECK(w.Call("POST", path, kPricing).status == 200);
  CHECK(w.json().at("accepted_observations") == 4);
  CHECK_FALSE(w.json().as_object().contains("refused_observations"));

  // Issue 3 over protocol 5.6's all-or-nothing: the good prices of a report are kept,
  // and the answer names what was refused and why.
  std::string bad(kPricing);
  bad.replace(bad.find("\"0.0411\""), 8, "\"abc\"");
  CHECK(w.Call("POST", path, bad).status == 200);
  CHECK(w.json().at("accepted_observations") == 3);
  CHECK(boost::json::serialize(w.json().at("refused_observations")) ==
        R"([{"field":"pricing.spot_pools[1].price","reason":"not_a_number"}])");

  // Nothing usable at all: 400 naming the fields, and nothing changes.
  std::string none(kPricing);
  for (std::string_view price : {"0.096", "0.0389", "\"0.0411\"", "0.0342"}) {
    for (size_t at = none.find(price); at != std::string::npos; at = none.find(price)) {
      none.replace(at, price.size(), "-1");
    }
  }
  const std::string before = w.fixture().Dump();
  CHECK(w.Call("POST", path, none).status == 400);
  CHECK(std::string(w.json().at("message").as_string()).find("pricing.spot_pools[2].price") !=
        std::string::npos);
  CHECK(w.fixture().Dump() == before);

  // A price that is not a number or a string is not a price at all: 400 naming its
  // path, and nothing changes.
  std::string object(kPricing);
  object.replace(object.find("\"0.0411\""), 8, R"({"USD": 0.0411})");
  CHECK(w.Call("POST", path, object).status == 400);
  CHECK(w.json().at("message") == "pricing.spot_pools[1].price: must be a price");
  std::string boolean(kPricing);
  boolean.replace(boolean.find("0.096"), 5, "true");
  CHECK(w.Call("POST", path, boolean).status == 400);
  CHECK(w.json().at("message") == "pricing.on_demand_price: must be a price");
  CHECK(w.fixture().Dump() == before);
}

std::string SwitchReportBody(std::string_view old_id, std::string_view new_id, bool aliases) {
  return fmt::format(
      R"({{"old_instance": {{"instance_id": "{0}", "instance_type": "m5.large",
          "region": "us-east-1", "az": "us-east-1a", "ami_id": "ami-0c55b159cbfafe1f0",
          "mode": "spot", "pool_id": "m5.large.us-east-1a"}},
        "new_instance": {{"instance_id": "{1}", "instance_type": "m5.large",
          "region": "us-east-1", "az": "us-east-1c", "ami_id": "ami-0c55b159cbfafe1f0",
          "mode": "spot", "pool_id": "m5.large.us-east-1c"}},
        "snapshot": {{"used": false}},
        "{2}": {{"{3}": 0.096, "{4}": 0.0389, "{5}": 0.0342}},
        "timing": {{"{6}": "2025-11-23T10:15:10.002113+00:00",
                    "{7}": "2025-11-23T10:15:12.870411+00:00",
                    "{8}": "2025-11-23T10:15:44.120904+00:00",
                    "traffic_switched_at": "2025-11-23T10:15:46.123517+00:00",
                    "{9}": "2025-11-23T10:16:46.5Z"}},
        "trigger": "manual"}})",
      old_id, new_id, aliases ? "pricing" : "prices", aliases ? "on_demand_price" : "on_demand",
      aliases ? "old_spot_price" : "old_spot", aliases ? "new_spot_price" : "new_spot",
      aliases ? "initiated_at" : "switch_initiated_at",
      aliases ? "instance_launched_at" : "new_instance_launched_at",
      aliases ? "instance_ready_at" : "new_instance_ready_at",
      aliases ? "old_terminated_at" : "old_instance_terminated_at");
}

TEST_CASE("29-30: switch reports store prices and timings in both spellings; move the placement") {
  std::vector<SwitchRecord> stored;
  for (bool aliases : {false, true}) {
    Wire w;
    const std::string id = w.Register("api", InstanceId(1));
    const std::string agent = w.AgentOf(id);
    const Command c = Enqueue(w, agent, "us-east-1c");
    w.Call("GET", fmt::format("/api/agents/{}/pending-commands", id));
    REQUIRE(w.Call("POST", fmt::format("/api/agents/{}/switch-report", id),
                   SwitchReportBody(InstanceId(1), InstanceId(2), aliases))
                .status == 200);
    CHECK(w.json().at("switch_id").is_string());
    auto view = w.controller().GetAgent(w.tenant_id(), agent);
    CHECK(view->agent.placement.instance_id == InstanceId(2));
    CHECK(view->agent.placement.az == "us-east-1c");
    CHECK(w.controller().GetCommand(w.tenant_id(), c.id)->state == CommandState::kSucceeded);
    auto switches = w.controller().ListSwitches(w.tenant_id(), agent);
    REQUIRE(switches.ok());
    REQUIRE(switches->size() == 1);
    const SwitchRecord& r = switches->front();
    CHECK(r.on_demand_price == Money::FromMicros(96'000));
    CHECK(r.old_spot_price == Money::FromMicros(38'900));
    CHECK(r.new_spot_price == Money::FromMicros(34'200));
    CHECK(r.timings.initiated_at.has_value());
    CHECK(r.timings.launched_at.has_value());
    CHECK(r.timings.ready_at.has_value());
    CHECK(r.timings.traffic_switched_at.has_value());
    CHECK(r.timings.old_terminated_at.has_value());
    stored.push_back(r);
  }
  CHECK(stored[0].on_demand_price == stored[1].on_demand_price);
  CHECK(stored[0].old_spot_price == stored[1].old_spot_price);
  CHECK(stored[0].new_spot_price == stored[1].new_spot_price);
  CHECK(stored[0].timings.initiated_at == stored[1].timings.initiated_at);
  CHECK(stored[0].timings.launched_at == stored[1].timings.launched_at);
  CHECK(stored[0].timings.ready_at == stored[1].timings.ready_at);
  CHECK(stored[0].timings.old_terminated_at == stored[1].timings.old_terminated_at);
}

TEST_CASE("34: POST replicas stores the real instance; a second live replica is 409 + orphan") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string agent = w.AgentOf(id);
  REQUIRE(w.controller()
              .UpdateConfig(w.tenant_id(), agent, {.replica_mode = ReplicaMode::kManualStandby})
              .ok());
  const std::string path = fmt::format("/api/agents/{}/replicas", id);
  const std::string body = fmt::format(
      R"({{"instance_id": "{}", "replica_type": "manual", "parent_instance_id": "{}",
          "pool_id": "m5.large.us-east-1c", "status": "launching"}})",
      InstanceId(7), InstanceId(1));
  CHECK(w.Call("POST", path, body).status == 201);
  const std::string replica_id(w.json().at("replica_id").as_string());
  CHECK(S(w.json().at("instance_id")) == InstanceId(7));
  CHECK(w.Call("POST", path, body).status == 200);  // the same instance again
  CHECK(S(w.json().at("replica_id")) == replica_id);
  const std::string second = fmt::format(
      R"({{"instance_id": "{}", "parent_instance_id": "{}", "pool_id": "m5.large.us-east-1b"}})",
      InstanceId(8), InstanceId(1));
  CHECK(w.Call("POST", path, second).status == 409);
  auto events = w.controller().ListEvents(w.tenant_id(), agent);
  CHECK(std::any_of(events->begin(), events->end(), [](const AgentEvent& e) {
    return e.kind == EventKind::kOrphanInstance && e.instance_id == InstanceId(8);
  }));
  CHECK(w.Call("POST", path, R"({"replica_type": "manual"})").status == 400);
}

TEST_CASE("35: 50 identical emergency calls: one incident, one replica, 50 equal answers") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  REQUIRE(w.Call("POST", fmt::format("/api/agents/{}/pricing-report", id), kPricing).status == 200);
  const std::string path = fmt::format("/api/agents/{}/create-emergency-replica", id);
  const std::string body = fmt::format(
      R"({{"signal_type": "rebalance-recommendation", "instance_id": "{}"}})", InstanceId(1));
  std::set<std::string> incidents, replicas;
  for (int i = 0; i < 50; ++i) {
    const Response r = w.Call("POST", path, body);
    CHECK(r.status == (i == 0 ? 201 : 200));
    CHECK(w.json().at("success") == true);
    incidents.insert(S(w.json().at("incident_id")));
    replicas.insert(S(w.json().at("replica_id")));
    CHECK(w.json().at("pool_id") == "m5.large.us-east-1c");  // cheapest other AZ
  }
  CHECK(incidents.size() == 1);
  CHECK(replicas.size() == 1);
  auto listed = w.controller().ListReplicas(w.tenant_id(), w.AgentOf(id));
  CHECK(std::count_if(listed->begin(), listed->end(),
                      [](const Replica& r) { return IsLive(r.state); }) == 1);
  CHECK(w.controller().ListIncidents(w.tenant_id(), w.AgentOf(id))->size() == 1);
}

TEST_CASE("36-37: termination-imminent promotes a READY replica, else success false") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string agent = w.AgentOf(id);
  const std::string path = fmt::format("/api/agents/{}/termination-imminent", id);
  const std::string body = fmt::format(
      R"({{"instance_id": "{}", "termination_time": "2025-11-23T10:02:00Z",
          "detected_at": "2025-11-23T10:00:03.517220+00:00"}})",
      InstanceId(1));
  const Response none = w.Call("POST", path, body);
  CHECK(none.status == 200);
  CHECK(w.json().at("success") == false);
  CHECK(w.json().at("error").is_string());

  const testing::AgentHandle handle{w.tenant_id(), agent, id, InstanceId(1)};
  const Replica ready = w.fixture().MakeReplica(handle, InstanceId(9));
  CHECK(w.Call("POST", path, body).status == 200);
  CHECK(w.json().at("success") == true);
  CHECK(S(w.json().at("new_instance_id")) == InstanceId(9));
  CHECK(w.controller().GetAgent(w.tenant_id(), agent)->agent.placement.instance_id ==
        InstanceId(9));
  CHECK(w.Call("POST", path, body).status == 200);  // the same notice: the same answer
  CHECK(w.json().at("success") == true);
  CHECK(S(w.json().at("new_instance_id")) == InstanceId(9));
  (void)ready;
}

TEST_CASE("38: rebalance answers switch only with a switch pending or leased") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const std::string agent = w.AgentOf(id);
  REQUIRE(
      w.controller().UpdateConfig(w.tenant_id(), agent, {.replica_mode = ReplicaMode::kOff}).ok());
  const std::string path = fmt::format("/api/agents/{}/rebalance-recommendation", id);
  const std::string body = fmt::format(
      R"({{"instance_id": "{}", "detected_at": "2025-11-23T09:59:11Z"}})", InstanceId(1));
  CHECK(w.Call("POST", path, body).status == 200);
  CHECK(w.json().at("action") == "monitor");  // no fresh prices: no better pool known
  REQUIRE(w.Call("POST", fmt::format("/api/agents/{}/pricing-report", id), kPricing).status == 200);
  CHECK(w.Call("POST", path, body).status == 200);
  REQUIRE(w.json().at("action") == "switch");
  const std::string command_id = S(w.json().at("command_id"));
  auto command = w.controller().GetCommand(w.tenant_id(), command_id);
  REQUIRE(command.ok());
  CHECK_FALSE(IsClosed(command->state));
  CHECK(command->priority == Priority::kEmergency);
}

TEST_CASE("39: cleanup reports with error variants are recorded") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  const Response r = w.Call("POST", fmt::format("/api/agents/{}/cleanup-report", id), R"({
      "timestamp": "2025-11-23T11:00:04.220871+00:00",
      "snapshots": {"type": "snapshots", "deleted": ["snap-0a1b2c3d4e5f67890"],
                    "failed": [{"id": "snap-0b2c3d4e5f6789012", "error": "InvalidSnapshot.InUse"}],
                    "error": "can't compare offset-naive and offset-aware datetimes"},
      "amis": {"type": "amis", "deleted_amis": [], "deleted_snapshots": [], "failed": [],
               "error": "can't compare offset-naive and offset-aware datetimes"}})");
  CHECK(r.status == 200);
  CHECK(w.json().at("deleted_snapshots") == 1);
  CHECK(w.json().at("failed_count") == 1);
  auto logs = w.controller().ListCleanupLogs(w.tenant_id(), w.AgentOf(id));
  REQUIRE(logs->size() == 1);
  CHECK(logs->front().amis->error == "can't compare offset-naive and offset-aware datetimes");
}

// `body` with the first `from` replaced by `to`.
std::string With(std::string_view body, std::string_view from, std::string_view to) {
  std::string out(body);
  const size_t at = out.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return out.replace(at, from.size(), to);
}

TEST_CASE("a field of the wrong type inside an object is named by its path; nothing changes") {
  Wire w;
  const std::string id = w.Register("api", InstanceId(1));
  constexpr std::string_view kCleanup = R"({
      "snapshots": {"deleted": ["snap-0a1b2c3d4e5f67890"], "failed": []},
      "amis": {"deleted_amis": ["ami-0c55b159cbfafe1f0"], "deleted_snapshots": [], "failed": []}})";
  const std::string pricing = fmt::format("/api/agents/{}/pricing-report", id);
  const std::string switched = fmt::format("/api/agents/{}/switch-report", id);
  const std::string cleanup = fmt::format("/api/agents/{}/cleanup-report", id);
  const std::string report = SwitchReportBody(InstanceId(1), InstanceId(2), false);
  const std::string aliased = SwitchReportBody(InstanceId(1), InstanceId(2), true);
  const struct {
    const std::string& path;
    std::string body;
    std::string_view message;
  } cases[] = {
      {pricing, With(kPricing, R"("instance_type": "m5.large")", R"("instance_type": 5)"),
       "instance.instance_type: must be a string"},
      {pricing, With(kPricing, R"("pool_id": "m5.large.us-east-1b")", R"("pool_id": 7)"),
       "pricing.spot_pools[1].pool_id: must be a string"},
      {pricing, With(kPricing, R"("az": "us-east-1c", "price")", R"("az": ["c"], "price")"),
       "pricing.spot_pools[2].az: must be a string"},
      {pricing, With(kPricing, R"("spot_pools": [)", R"("spot_pools": "none", "pools": [)"),
       "pricing.spot_pools: must be an array"},
      {pricing, With(kPricing, R"("2025-11-23T09:59:02.481930+00:00")", "20251123"),
       "pricing.collected_at: must be a string"},
      {switched, With(report, R"("mode": "spot")", R"("mode": "sideways")"),
       "old_instance.mode: unknown mode 'sideways'"},
      {switched, With(report, R"("az": "us-east-1c")", R"("az": 3)"),
       "new_instance.az: must be a string"},
      {switched, With(report, R"("old_spot": 0.0389)", R"("old_spot": [0.0389])"),
       "prices.old_spot: must be a price"},
      {switched, With(aliased, R"("new_spot_price": 0.0342)", R"("new_spot_price": false)"),
       "pricing.new_spot_price: must be a price"},
      {switched,
       With(report, R"("traffic_switched_at": "2025-11-23T10:15:46.123517+00:00")",
            R"("traffic_switched_at": 1763892946)"),
       "timing.traffic_switched_at: must be a string"},
      {cleanup, With(kCleanup, R"("failed": []})", R"("failed": ["snap-1"]})"),
       "snapshots.failed: entries are objects"},
      {cleanup, With(kCleanup, R"(["ami-0c55b159cbfafe1f0"])", "[1]"),
       "amis.deleted_amis: ids are strings"},
  };
  const std::string before = w.fixture().Dump();
  for (const auto& c : cases) {
    CAPTURE(c.body);
    CHECK(w.Call("POST", c.path, c.body).status == 400);
    CHECK(S(w.json().at("message")) == c.message);
  }
  CHECK(w.fixture().Dump() == before);
}

}  // namespace
}  // namespace spotopt::protocol
