// The agent protocol handler, fed whole requests (method, target, headers, body)
// against a real Controller over a MemoryStore.
//
// An input is a session of up to 8 requests separated by lines of "%%", each
//
//   METHOD TARGET
//   Header-Name: value
//   (an empty line)
//   body
//
// Each input gets a new fixture (Fixture below: two tenants, three agents, their
// commands and replicas). A new one per input costs about two fifths of the run, but it
// pays back: a crash file replays exactly as it ran, and an input frees everything it
// allocates, so libFuzzer's leak check scans the heap only after one that leaks (with
// a fixture kept across inputs it scanned after almost every input, and the run went
// three times slower). Ids and tokens are random, so in the target, the header values
// and the body, placeholders stand for them (@TOKEN@, @AGENT@, ...; Fixture lists
// them), and mutations get past authentication. SPOTOPT_FUZZ_TRACE=1 prints each
// request and its answer, to see how far a seed gets.
//
// Checked on every answer: a status of the protocol (section 1.5; never 500), a JSON
// body and content type, errors shaped {"error", "message"}, Allow on 405, and a
// refused request (4xx) changes nothing in the store but the orphan events the
// protocol asks for. The session ends with a Tick.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "fuzz/harness.h"
#include "spotopt/clock.h"
#include "spotopt/protocol/handler.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/memory_store.h"
#include "spotopt/store/store.h"

namespace spotopt::fuzz {
namespace {

constexpr size_t kMaxRequests = 8;

Time Epoch() {
  return absl::FromCivil(absl::CivilSecond(2025, 11, 23, 10, 0, 0), absl::UTCTimeZone());
}

std::string Dump(Store& store) {
  absl::StatusOr<std::string> dump = DumpStore(store);
  FUZZ_CHECK(dump.ok(), "DumpStore: {}", dump.status().ToString());
  return *std::move(dump);
}

template <class T>
T Must(absl::StatusOr<T> v, std::string_view step) {
  FUZZ_CHECK(v.ok(), "set-up {}: {}", step, v.status().ToString());
  return *std::move(v);
}

// The store, counting what could change it: a write transaction begun, a beat, a
// price report. A request that did none of these left the store as it was, and its
// check needs no dump (most fuzzed requests; a dump is the harness's largest cost).
class CountingStore final : public Store {
 public:
  uint64_t writes() const { return writes_; }

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    if (mode != TxMode::kRead) ++writes_;
    return store_.Begin(mode);
  }
  absl::Status TouchRegistration(std::string_view id, Time at) override {
    ++writes_;
    return store_.TouchRegistration(id, at);
  }
  absl::Status FlushHeld() override {
    ++writes_;
    return store_.FlushHeld();
  }
  absl::Status AddPriceObservations(const std::vector<PriceObservation>& observations) override {
    ++writes_;
    return store_.AddPriceObservations(observations);
  }

 private:
  MemoryStore store_;
  uint64_t writes_ = 0;
};

// What an input's session runs against, and the placeholders naming what it was
// built with.
struct Fixture {
  std::shared_ptr<CountingStore> store = std::make_shared<CountingStore>();
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(Epoch());
  Controller controller{store, clock};
  std::vector<std::pair<std::string_view, std::string>> placeholders;
  std::string state;  // DumpStore after the last request

  // acme's first agent (@AGENT@, replica mode emergency) has a pending switch and a
  // requested replica. Its second (@STANDBY@, manual_standby) has a create-replica
  // command waiting with its reserved replica: the routes that bind a replica to a
  // command or to the agent's own launch. The other tenant's agent (@OTHER@, replica
  // mode off, its own token) is refused to acme's token, and with its own it reaches
  // the signals that answer with a switch.
  Fixture() {
    const CreatedTenant acme = Must(controller.CreateTenant("acme"), "tenant");
    const RegisterResult agent =
        Must(controller.Register(acme.tenant.id, Registration("api", 1)), "register");
    const Command command = Must(controller.EnqueueSwitch(acme.tenant.id, agent.agent.id,
                                                          {.target_pool_id = "m5.large.us-east-1b",
                                                           .override_limits = true}),
                                 "switch");
    const Replica replica =
        Must(controller.RequestReplica(acme.tenant.id, agent.agent.id, {}), "replica");
    const RegisterResult standby =
        Must(controller.Register(acme.tenant.id, Registration("db", 3)), "register standby");
    SetReplicaMode(acme.tenant.id, standby.agent.id, "manual_standby");
    const Command create = Must(
        controller.EnqueueCreateReplica(acme.tenant.id, standby.agent.id, {}), "create replica");
    const CreatedTenant other = Must(controller.CreateTenant("other"), "other tenant");
    const RegisterResult other_agent =
        Must(controller.Register(other.tenant.id, Registration("api", 2)), "other register");
    SetReplicaMode(other.tenant.id, other_agent.agent.id, "off");
    placeholders = {{"@TOKEN@", acme.token},
                    {"@AGENT@", agent.registration.registration.id},
                    {"@COMMAND@", command.id},
                    {"@REPLICA@", replica.id},
                    {"@STANDBY@", standby.registration.registration.id},
                    {"@CREATE@", create.id},
                    {"@RESERVED@", create.replica_id.value_or("")},
                    {"@OTHER_TOKEN@", other.token},
                    {"@OTHER@", other_agent.registration.registration.id}};
    state = Dump(*store);
  }

  void SetReplicaMode(std::string_view tenant_id, std::string_view agent_id,
                      std::string_view mode) {
    const AgentConfigPatch patch =
        Must(ParseConfigPatchJson(fmt::format(R"({{"replica_mode": "{}"}})", mode)), "patch");
    Must(controller.UpdateConfig(tenant_id, agent_id, patch), "replica mode");
  }

  static RegisterRequest Registration(std::string logical_id, int n) {
    return {.logical_id = std::move(logical_id),
            .instance_id = fmt::format("i-0a1b2c3d4e{:07x}", n),
            .region = "us-east-1",
            .facts = {.instance_type = "m5.large", .az = "us-east-1a", .mode = Mode::kSpot}};
  }

  std::string Substitute(std::string_view text) const {
    std::string out(text);
    for (const auto& [name, value] : placeholders) ReplaceAll(out, name, value);
    return out;
  }
};

// One request of the session, owning the text its Request points into.
struct ParsedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  protocol::Request View() const {
    protocol::Request r{method, target, {}, body};
    for (const auto& [name, value] : headers) r.headers.push_back({name, value});
    return r;
  }
};

ParsedRequest Parse(std::string_view text, const Fixture& f) {
  ParsedRequest r;
  size_t eol = text.find('\n');
  const std::string_view line = text.substr(0, eol);
  const size_t space = line.find(' ');
  r.method = std::string(line.substr(0, space));
  if (space != std::string_view::npos) r.target = f.Substitute(line.substr(space + 1));
  while (eol != std::string_view::npos) {
    text.remove_prefix(eol + 1);
    eol = text.find('\n');
    const std::string_view header = text.substr(0, eol);
    if (header.empty()) {
      if (eol != std::string_view::npos) r.body = f.Substitute(text.substr(eol + 1));
      break;
    }
    const size_t colon = header.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : header.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(header.substr(0, colon), f.Substitute(value));
  }
  return r;
}

// The store as a refused request must leave it. One change is by design
// (service/replicas.cc): a refused replica report still records its instance as an
// orphan, since the instance exists whatever the answer; those events are left out.
std::string WithoutOrphanEvents(std::string_view dump) {
  boost::json::value doc = boost::json::parse(dump);
  for (boost::json::value& tenant : doc.at("tenants").as_array()) {
    for (boost::json::value& agent : tenant.at("agents").as_array()) {
      boost::json::array& events = agent.at("events").as_array();
      for (auto it = events.begin(); it != events.end();) {
        it = it->at("kind") == "orphan_instance" ? events.erase(it) : it + 1;
      }
    }
  }
  return boost::json::serialize(doc);
}

bool IsProtocolStatus(int status) {
  for (int s : {200, 201, 400, 401, 403, 404, 405, 409, 413}) {
    if (status == s) return true;
  }
  return false;
}

std::string_view HeaderOf(const protocol::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

void CheckResponse(const ParsedRequest& req, const protocol::Response& r) {
  FUZZ_CHECK(IsProtocolStatus(r.status), "{} {}: status {} ({})", req.method, req.target, r.status,
             r.body);
  FUZZ_CHECK(HeaderOf(r, "Content-Type").starts_with("application/json"), "no JSON content type");
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(r.body, ec);
  FUZZ_CHECK(!ec, "body is not JSON: {}", r.body);
  FUZZ_CHECK(body.is_object() || body.is_array(), "body is not an object or array: {}", r.body);
  if (r.status >= 400) {
    const boost::json::object* o = body.if_object();
    FUZZ_CHECK(o != nullptr && o->contains("error") && o->at("error").is_string() &&
                   o->contains("message") && o->at("message").is_string(),
               "error body without error and message: {}", r.body);
  }
  if (r.status == 405) FUZZ_CHECK(!HeaderOf(r, "Allow").empty(), "405 without Allow");
}

}  // namespace
}  // namespace spotopt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spotopt;
  using namespace spotopt::fuzz;
  Fixture f;
  protocol::AgentProtocol handler(f.controller);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view text : SplitCalls(input, kMaxRequests)) {
    const ParsedRequest req = Parse(text, f);
    const uint64_t writes = f.store->writes();
    const protocol::Response r = handler.Handle(req.View());
    if (Tracing())
      fmt::print(stderr, "{} {}\n  -> {} {}\n", req.method, req.target, r.status, r.body);
    CheckResponse(req, r);
    if (f.store->writes() != writes) {
      std::string after = Dump(*f.store);
      if (r.status >= 400 && after != f.state) {
        FUZZ_CHECK(WithoutOrphanEvents(after) == WithoutOrphanEvents(f.state),
                   "{} {} answered {} but changed the store", req.method, req.target, r.status);
      }
      f.state = std::move(after);
    }
    f.clock->Advance(absl::Seconds(20));
  }
  // Ten minutes on: leases, replica timeouts and incidents come due.
  f.clock->Advance(absl::Minutes(10));
  const absl::StatusOr<TickReport> tick = f.controller.Tick(f.clock->Now());
  FUZZ_CHECK(tick.ok(), "Tick: {}", tick.status().ToString());
  return 0;
}
