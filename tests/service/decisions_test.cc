// Decisions through the Controller on both stores: the preview, the fleet run and
// its command queue, the decision log, engines and their fallbacks, reactions to
// interruption signals, and the ledger's bill for a draining old primary.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "fixture.h"
#include "spotopt/decision/json.h"
#include "spotopt/decision/risk.h"
#include "spotopt/decision/rules.h"
#include "spotopt/decision/scoring.h"

namespace spotopt {
namespace {

using testing::AgentHandle;
using testing::InstanceId;
using testing::PoolId;
using testing::ServiceFixture;

Money Usd(std::string_view text) { return *Money::ParsePrice(text, "test"); }

// The agent's pricing report: spot prices per AZ (m5.large, us-east-1) and on-demand,
// five minutes after the last one (a bucket keeps its earliest price).
void ReportPrices(ServiceFixture& f, const AgentHandle& a,
                  std::vector<std::pair<std::string, std::string>> spot,
                  std::string on_demand = "0.096") {
  f.clock().Advance(absl::Minutes(5));
  PricingReport r;
  r.instance_type = "m5.large";
  r.on_demand_price = on_demand;
  for (auto& [az, price] : spot) r.spot_pools.push_back({PoolId(az), "", "", price});
  r.collected_at = f.clock().Now();
  absl::StatusOr<PriceIngest> in = f.controller().ReportPrices(a.tenant_id, a.registration_id, r);
  REQUIRE_MESSAGE(in.ok(), in.status().ToString());
}

// An agent in us-east-1a for a day, prices reported now: 1a 0.040, 1b 0.041, 1c 0.039.
AgentHandle Settled(ServiceFixture& f, const std::string& tenant, std::string_view logical,
                    uint32_t instance) {
  AgentHandle a = f.RegisterAgent(tenant, logical, InstanceId(instance));
  f.clock().Advance(absl::Hours(24));
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.041"}, {"us-east-1c", "0.039"}});
  return a;
}

DecisionRunReport Run(ServiceFixture& f) {
  absl::StatusOr<DecisionRunReport> r = f.controller().RunDecisions(f.clock().Now());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

std::vector<decision::DecisionRecord> Log(ServiceFixture& f, const AgentHandle& a) {
  absl::StatusOr<std::vector<decision::DecisionRecord>> log =
      f.controller().ListDecisions(a.tenant_id, a.agent_id);
  REQUIRE_MESSAGE(log.ok(), log.status().ToString());
  return *log;
}

std::vector<Command> OpenSwitches(ServiceFixture& f, const AgentHandle& a) {
  std::vector<Command> open;
  absl::StatusOr<std::vector<Command>> all = f.controller().ListCommands(a.tenant_id, a.agent_id);
  REQUIRE(all.ok());
  for (Command& c : *all) {
    if (c.is_placement() && !IsClosed(c.state)) open.push_back(std::move(c));
  }
  return open;
}

// An engine a host registers, answering with fixed JSON (or an error).
class JsonEngine final : public decision::Engine {
 public:
  JsonEngine(std::string name, std::string answer)
      : name_(std::move(name)), answer_(std::move(answer)) {}
  std::string_view name() const override { return name_; }
  std::string_view version() const override { return "1"; }
  absl::StatusOr<decision::Decision> Decide(const decision::DecisionInput& in) const override {
    if (answer_.empty()) return absl::InternalError("the host engine crashed");
    return decision::DecisionFromJson(answer_, in);
  }

 private:
  std::string name_;
  std::string answer_;
};

const std::string kSha(64, 'e');

TEST_CASE_TEMPLATE("the preview decides with the tenant's engine and changes nothing", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});
  const std::string before = f.Dump();
  absl::StatusOr<DecisionPreview> p = f.controller().Decide(tenant, a.agent_id);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  INFO(decision::DecisionToJson(p->decision));
  REQUIRE(p->decision.action == decision::Action::kSwitchSpot);
  CHECK(p->decision.target->az == "us-east-1b");
  CHECK(p->decision.engine == "rules");
  CHECK(p->engine_asked == "rules 1.0.0");
  CHECK(p->fallback.empty());
  CHECK(p->input.pools.size() == 3);
  CHECK(p->input.on_demand == Usd("0.096"));
  CHECK(f.Dump() == before);

  const std::string other = f.NewTenant("globex");
  CHECK(absl::IsNotFound(f.controller().Decide(other, a.agent_id).status()));
}

TEST_CASE_TEMPLATE("the fleet run queues a switch once prices diverge, and logs changes only", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  const AgentHandle quiet = Settled(f, tenant, "web-2", 2);

  DecisionRunReport r = Run(f);
  CHECK(r.agents == 2);
  CHECK(r.acted == 0);
  CHECK(r.logged == 2);       // the first decision of each agent
  CHECK(Run(f).logged == 0);  // nothing changed

  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}, {"us-east-1c", "0.039"}});
  r = Run(f);
  CHECK(r.acted == 2);  // both agents see the same market
  std::vector<Command> open = OpenSwitches(f, a);
  REQUIRE(open.size() == 1);
  CHECK(open[0].priority == Priority::kNormal);
  CHECK(open[0].target_pool_id == PoolId("us-east-1b"));
  CHECK(open[0].requested_by == "engine rules 1.0.0");
  std::vector<decision::DecisionRecord> log = Log(f, a);
  REQUIRE(log.size() == 2);
  CHECK(log[0].acted);
  CHECK(log[0].command_id == open[0].id);
  CHECK(log[0].decision.reason == decision::Reason::kCheaperPool);
  CHECK(log[0].seq > log[1].seq);  // newest first

  // Queued: the next run holds the move (logged once), and queues nothing more.
  r = Run(f);
  CHECK(r.acted == 0);
  CHECK(r.held == 2);
  log = Log(f, a);
  CHECK(log[0].decision.guard == decision::Guard::kSwitchPending);
  CHECK(Run(f).logged == 0);
  CHECK(OpenSwitches(f, a).size() == 1);
  (void)quiet;
}

TEST_CASE_TEMPLATE("spot at or above on-demand is an urgent move to on-demand", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  ReportPrices(f, a, {{"us-east-1a", "0.100"}, {"us-east-1b", "0.099"}, {"us-east-1c", "0.098"}});
  CHECK(Run(f).acted == 1);
  std::vector<Command> open = OpenSwitches(f, a);
  REQUIRE(open.size() == 1);
  CHECK(open[0].priority == Priority::kUrgent);
  CHECK(open[0].target_mode == Mode::kOnDemand);
}

TEST_CASE_TEMPLATE("agents without auto switch, disabled or deleted are not decided for", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  const AgentHandle b = Settled(f, tenant, "web-2", 2);
  const AgentHandle c = Settled(f, tenant, "web-3", 3);
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});
  AgentConfigPatch off;
  off.auto_switch = false;
  f.Configure(a, off);
  REQUIRE(f.controller().SetEnabled(tenant, b.agent_id, false).ok());
  REQUIRE(f.controller().DeleteAgent(tenant, c.agent_id).ok());
  const DecisionRunReport r = Run(f);
  CHECK(r.agents == 0);
  CHECK(r.logged == 0);
}

TEST_CASE_TEMPLATE("engines: activation and rollback are atomic and per tenant", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string acme = f.NewTenant("acme");
  const std::string globex = f.NewTenant("globex");
  CHECK(c.GetTenantEngines(acme)->active == decision::RulesRef());
  CHECK(absl::IsFailedPrecondition(c.RollbackEngine(acme).status()));
  CHECK(absl::IsNotFound(c.ActivateEngine(acme, "mine", "1").status()));

  REQUIRE(c.RegisterEngine(std::make_shared<JsonEngine>("mine", R"({"action":"stay"})"), kSha,
                           "always stays")
              .ok());
  absl::StatusOr<TenantEngines> e = c.ActivateEngine(acme, "mine", "1");
  REQUIRE(e.ok());
  CHECK(e->active.name == "mine");
  CHECK(e->active.sha256 == kSha);
  CHECK(e->previous == decision::RulesRef());
  CHECK(c.GetTenantEngines(globex)->active == decision::RulesRef());
  e = c.ActivateEngine(acme, "mine", "1");  // again: nothing moves
  CHECK(e->previous == decision::RulesRef());

  e = c.RollbackEngine(acme);
  CHECK(e->active == decision::RulesRef());
  CHECK(e->previous->name == "mine");
  e = c.RollbackEngine(acme);
  CHECK(e->active.name == "mine");

  const std::vector<decision::EngineInfo> engines = c.ListEngines();
  REQUIRE(engines.size() == 3);
  CHECK(engines[0].ref.name == "mine");
  CHECK(engines[0].kind == decision::EngineKind::kHost);
}

TEST_CASE_TEMPLATE("a failing, nonsensical or missing engine falls back, and the log says so", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});

  struct Case {
    std::string name;
    std::string answer;
    std::string why;
  };
  for (const Case& k :
       {Case{"crashes", "", "the host engine crashed"},
        Case{"wild", R"({"action":"switch_spot","target_pool_id":"m5.large.us-east-1z"})",
             "is not a candidate pool"},
        Case{"negative", R"({"action":"stay","risk":-1})", "risk"}}) {
    CAPTURE(k.name);
    REQUIRE(c.RegisterEngine(std::make_shared<JsonEngine>(k.name, k.answer), kSha, "").ok());
    REQUIRE(c.ActivateEngine(tenant, k.name, "1").ok());
    absl::StatusOr<DecisionPreview> p = c.Decide(tenant, a.agent_id);
    REQUIRE(p.ok());
    CHECK(p->engine_asked == k.name + " 1");
    CHECK(p->fallback.find(k.why) != std::string::npos);
    // The previous engine answered: the rules, or the previous host engine's stay.
    CHECK(p->decision.engine != k.name);
  }
  // Not registered in this process (a restart, a host that forgot): the previous one.
  REQUIRE(c.UnregisterEngine("negative", "1").ok());
  absl::StatusOr<DecisionPreview> p = c.Decide(tenant, a.agent_id);
  CHECK(p->fallback.find("not registered") != std::string::npos);
  CHECK(p->decision.engine == "rules");  // "wild", the previous one, fails too
  CHECK(Run(f).fallbacks == 1);
  const std::vector<decision::DecisionRecord> log = Log(f, a);
  REQUIRE_FALSE(log.empty());
  CHECK(log[0].engine_asked == "negative 1");
  CHECK(log[0].fallback.find("not registered") != std::string::npos);
  CHECK(log[0].decision.engine == "rules");  // the last resort
  CHECK(log[0].acted);                       // the agent was never blocked
}

TEST_CASE_TEMPLATE("a host engine's answer is guarded like any engine's", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = f.RegisterAgent(tenant, "web-1", InstanceId(1));
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.039"}});
  REQUIRE(c.RegisterEngine(
               std::make_shared<JsonEngine>(
                   "eager", R"({"action":"switch_spot","target_pool_id":"m5.large.us-east-1b"})"),
               kSha, "")
              .ok());
  REQUIRE(c.ActivateEngine(tenant, "eager", "1").ok());
  absl::StatusOr<DecisionPreview> p = c.Decide(tenant, a.agent_id);
  REQUIRE(p.ok());
  CHECK(p->decision.action == decision::Action::kStay);
  CHECK(p->decision.guard == decision::Guard::kCooldown);  // registered just now
  CHECK(p->decision.engine == "eager");
  f.clock().Advance(absl::Hours(3));
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.039"}});
  p = c.Decide(tenant, a.agent_id);
  CHECK(p->decision.guard == decision::Guard::kMinSavings);
}

TEST_CASE_TEMPLATE("the decision log is per tenant, paged newest first, and kept 90 days", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string acme = f.NewTenant("acme");
  const std::string globex = f.NewTenant("globex");
  const AgentHandle a = Settled(f, acme, "web-1", 1);
  const AgentHandle g = Settled(f, globex, "web-1", 2);
  Run(f);
  // Three different decisions for a: prices flip between runs.
  for (std::string_view b : {"0.020", "0.041"}) {
    ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", std::string(b)}});
    Run(f);
    for (const Command& cmd : OpenSwitches(f, a)) {
      REQUIRE(c.CancelCommand(acme, a.agent_id, cmd.id, "test").ok());
    }
  }
  const std::vector<decision::DecisionRecord> all = Log(f, a);
  REQUIRE(all.size() >= 3);
  absl::StatusOr<std::vector<decision::DecisionRecord>> page =
      c.ListDecisions(acme, a.agent_id, {all[0].seq, 1});
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK((*page)[0].id == all[1].id);

  CHECK(absl::IsNotFound(c.ListDecisions(globex, a.agent_id).status()));
  const absl::StatusOr<std::vector<decision::DecisionRecord>> theirs =
      c.ListTenantDecisions(globex);
  REQUIRE(theirs.ok());
  for (const decision::DecisionRecord& r : *theirs) {
    CHECK(r.tenant_id == globex);
    CHECK(r.agent_id == g.agent_id);
  }
  CHECK(absl::IsInvalidArgument(c.ListDecisions(acme, a.agent_id, {0, 0}).status()));
  CHECK(absl::IsInvalidArgument(c.ListDecisions(acme, a.agent_id, {0, 1001}).status()));

  // 91 days later retention keeps only each agent's latest entry.
  f.clock().Advance(absl::Hours(24 * 91));
  absl::StatusOr<TickReport> tick = c.Tick(f.clock().Now());
  REQUIRE(tick.ok());
  CHECK(tick->decisions_pruned == static_cast<int64_t>(all.size()) - 1);
  const std::vector<decision::DecisionRecord> kept = Log(f, a);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].id == all[0].id);
  CHECK(Log(f, g).size() == 1);
}

TEST_CASE_TEMPLATE("fleet runs from two threads at once queue one switch per agent", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string tenant = f.NewTenant("acme");
  std::vector<AgentHandle> agents;
  for (uint32_t i = 1; i <= 20; ++i) {
    agents.push_back(f.RegisterAgent(tenant, fmt::format("web-{}", i), InstanceId(i)));
  }
  f.clock().Advance(absl::Hours(24));
  ReportPrices(f, agents[0], {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});
  std::atomic<int> acted{0};
  std::vector<std::thread> runs;
  for (int t = 0; t < 2; ++t) {
    runs.emplace_back([&] {
      for (int k = 0; k < 3; ++k) {
        absl::StatusOr<DecisionRunReport> r = f.controller().RunDecisions(f.clock().Now());
        if (r.ok()) acted += r->acted;
      }
    });
  }
  for (std::thread& t : runs) t.join();
  CHECK(acted == 20);
  for (const AgentHandle& a : agents) {
    CHECK(f.controller().ListCommands(tenant, a.agent_id)->size() == 1);
  }
}

TEST_CASE_TEMPLATE("a cross-type move needs the type in compatible_instance_types", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  const Time now = f.clock().Now();
  REQUIRE(c.ImportPrices(tenant, {{Pool{"us-east-1", "us-east-1b", "m5a.large"}, Usd("0.020"), now},
                                  {Pool{"us-east-1", "", "m5a.large"}, Usd("0.086"), now}})
              .ok());
  CHECK(c.Decide(tenant, a.agent_id)->decision.action == decision::Action::kStay);
  AgentConfigPatch p;
  p.compatible_instance_types = std::vector<std::string>{"m5a.large"};
  f.Configure(a, p);
  f.clock().Advance(absl::Minutes(1));
  absl::StatusOr<DecisionPreview> d = c.Decide(tenant, a.agent_id);
  REQUIRE(d.ok());
  CHECK(d->decision.target == Pool{"us-east-1", "us-east-1b", "m5a.large"});
  CHECK(Run(f).acted == 1);
  CHECK(OpenSwitches(f, a)[0].target_pool_id == "m5a.large.us-east-1b");
}

// A settled agent ("web-1" in us-east-1a) of `tenant`, with pools a, b and c at 0.040,
// 0.041 and 0.030: c is the cheapest, but another agent of the tenant got a
// termination notice there today.
AgentHandle SettledBesideInterruptedPool(ServiceFixture& f, const std::string& tenant) {
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  const AgentHandle victim = f.RegisterAgent(tenant, "batch-1", InstanceId(9), "us-east-1c");
  SignalReport notice;
  notice.signal = Signal::kTerminationNotice;
  notice.notice_time = f.clock().Now() + absl::Minutes(2);
  REQUIRE(f.controller().RecordSignal(tenant, victim.registration_id, notice).ok());
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.041"}, {"us-east-1c", "0.030"}});
  return a;
}

TEST_CASE_TEMPLATE("a rebalance recommendation gets a standby in the engine's pool", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = SettledBesideInterruptedPool(f, tenant);

  SignalReport rebalance;
  rebalance.signal = Signal::kRebalanceRecommendation;
  absl::StatusOr<EmergencyReplicaResult> r =
      c.CreateEmergencyReplica(tenant, a.registration_id, rebalance);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  REQUIRE(r->success);
  CHECK(r->replica->pool.az == "us-east-1b");  // the safest, not the cheapest
  CHECK(r->replica->replica_type == "automatic-rebalance");
  CHECK(r->replica->incident_id == r->incident_id);
  const std::vector<decision::DecisionRecord> log = Log(f, a);
  REQUIRE(log.size() == 1);
  CHECK(log[0].trigger == decision::Trigger::kRebalance);
  CHECK(log[0].decision.action == decision::Action::kCreateReplica);
  CHECK(log[0].replica_id == r->replica->id);
}

TEST_CASE_TEMPLATE("the market view shows each pool's signals and the risk engines see", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = SettledBesideInterruptedPool(f, tenant);

  absl::StatusOr<MarketView> market = c.Market(tenant, "us-east-1", "m5.large");
  REQUIRE_MESSAGE(market.ok(), market.status().ToString());
  absl::StatusOr<DecisionPreview> preview = c.Decide(tenant, a.agent_id);
  REQUIRE_MESSAGE(preview.ok(), preview.status().ToString());
  REQUIRE(market->pools.size() == 3);
  REQUIRE(preview->input.pools.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const MarketPool& shown = market->pools[i];
    const decision::PoolMarket& seen = preview->input.pools[i];
    CAPTURE(shown.pool.id());
    CHECK(shown.pool == seen.pool);
    CHECK(shown.terminations == seen.terminations);
    CHECK(shown.rebalances == seen.rebalances);
    CHECK(shown.risk == decision::Risk(seen));
  }
  CHECK(market->pools[2].terminations == 1);
  CHECK(market->pools[2].risk > market->pools[0].risk);
  CHECK(market->pools[2].risk > preview->input.config.risk_threshold);
  // Tomorrow the notice has left the signal window.
  f.clock().Advance(absl::Hours(25));
  CHECK(c.Market(tenant, "us-east-1", "m5.large")->pools[2].terminations == 0);
}

TEST_CASE_TEMPLATE("a termination notice with nothing to promote is an emergency move", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const AgentHandle a = Settled(f, tenant, "web-1", 1);
  AgentConfigPatch off;
  off.replica_mode = ReplicaMode::kOff;
  f.Configure(a, off);
  SignalReport notice;
  notice.signal = Signal::kTerminationNotice;
  notice.notice_time = f.clock().Now() + absl::Seconds(120);
  absl::StatusOr<TerminationResult> r = c.TerminationImminent(tenant, a.registration_id, notice);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK_FALSE(r->success);
  CHECK(r->error.find("switch") != std::string::npos);
  std::vector<Command> open = OpenSwitches(f, a);
  REQUIRE(open.size() == 1);
  CHECK(open[0].priority == Priority::kEmergency);
  CHECK(open[0].target_pool_id != PoolId("us-east-1a"));
  CHECK(open[0].expires_at == *notice.notice_time);  // worth nothing after the deadline
  const std::vector<Incident> incidents = *c.ListIncidents(tenant, a.agent_id);
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].command_id == open[0].id);
  CHECK(incidents[0].pool.az == "us-east-1a");
  CHECK_FALSE(incidents[0].decision.empty());
  // The agent polls within the deadline and gets it.
  CHECK(f.PollExpectingCommand(a).id == open[0].id);
}

TEST_CASE_TEMPLATE("the ledger bills the old primary while it drains after a switch", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const Time t0 = f.clock().Now();
  REQUIRE(c.ImportPrices(tenant, {{Pool{"us-east-1", "us-east-1a", "m5.large"}, Usd("0.036"), t0},
                                  {Pool{"us-east-1", "us-east-1c", "m5.large"}, Usd("0.018"), t0},
                                  {Pool{"us-east-1", "", "m5.large"}, Usd("0.096"), t0}})
              .ok());
  const AgentHandle a = f.RegisterAgent(tenant, "web-1", InstanceId(1));
  f.clock().Advance(absl::Hours(1));
  f.EnqueueSwitch(a, "us-east-1c");  // terminate wait 300 s
  f.PollExpectingCommand(a);
  REQUIRE(
      c.Register(tenant, ServiceFixture::MakeRegisterRequest("web-1", InstanceId(2), "us-east-1c"))
          .ok());
  f.clock().Advance(absl::Hours(1));
  absl::StatusOr<std::vector<ledger::Figures>> life =
      c.Savings(tenant, a.agent_id, ledger::Period::kLifetime);
  REQUIRE(life.ok());
  REQUIRE(life->size() == 1);
  // 1 h at 0.036 + 5 min draining at 0.036 + 1 h at 0.018 = 0.057.
  CHECK((*life)[0].cost == Usd("0.057"));
  CHECK((*life)[0].baseline == Usd("0.192"));  // the drain adds no baseline
  std::vector<ledger::CostInterval> intervals = *c.CostIntervals(tenant, a.agent_id);
  const auto drains = std::count_if(intervals.begin(), intervals.end(),
                                    [](const auto& i) { return i.role == RunRole::kDrain; });
  CHECK(drains == 1);
}

}  // namespace
}  // namespace spotopt

namespace spotopt {
namespace {

TEST_CASE_TEMPLATE("a primary reclaimed at its deadline stops costing there, not at the re-home", S,
                   SPOTOPT_ALL_STORES) {
  testing::ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const Time t0 = f.clock().Now();
  REQUIRE(c.ImportPrices(tenant, {{Pool{"us-east-1", "us-east-1a", "m5.large"}, Usd("0.036"), t0},
                                  {Pool{"us-east-1", "", "m5.large"}, Usd("0.096"), t0}})
              .ok());
  const testing::AgentHandle a = f.RegisterAgent(tenant, "web-1", testing::InstanceId(1));
  AgentConfigPatch off;
  off.replica_mode = ReplicaMode::kOff;
  off.auto_switch = false;
  f.Configure(a, off);
  f.clock().Advance(absl::Hours(1));
  SignalReport notice;
  notice.signal = Signal::kTerminationNotice;
  notice.notice_time = f.clock().Now() + absl::Seconds(120);
  REQUIRE(c.TerminationImminent(tenant, a.registration_id, notice).ok());
  // The agent goes offline as AWS reclaims it; its relaunch registers 10 minutes on.
  f.clock().Advance(absl::Seconds(120));
  REQUIRE(c.Heartbeat(tenant, a.registration_id, {.status = HeartbeatStatus::kOffline}).ok());
  f.clock().Advance(absl::Minutes(10));
  REQUIRE(c.Tick(f.clock().Now()).ok());
  REQUIRE(c.Register(tenant, testing::ServiceFixture::MakeRegisterRequest(
                                 "web-1", testing::InstanceId(2), "us-east-1a"))
              .ok());
  absl::StatusOr<std::vector<ledger::Figures>> life =
      c.Savings(tenant, a.agent_id, ledger::Period::kLifetime);
  REQUIRE(life.ok());
  // 1 h 2 min at 0.036 until the deadline, then nothing until the new instance.
  CHECK((*life)[0].cost == Money::FromMicros(36'000 + 1'200));
  CHECK((*life)[0].run == absl::Hours(1) + absl::Minutes(2));
}

}  // namespace
}  // namespace spotopt

namespace spotopt {
namespace {

TEST_CASE_TEMPLATE("a scoped fleet run decides for the named agents only", S, SPOTOPT_ALL_STORES) {
  testing::ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string acme = f.NewTenant("acme");
  const std::string globex = f.NewTenant("globex");
  const testing::AgentHandle a = Settled(f, acme, "web-1", 1);
  const testing::AgentHandle b = Settled(f, acme, "web-2", 2);
  const testing::AgentHandle g = Settled(f, globex, "web-1", 3);
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});
  ReportPrices(f, g, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});

  absl::StatusOr<DecisionRunReport> r = c.RunDecisions(f.clock().Now(), {acme, {b.agent_id}});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->agents == 1);
  CHECK(r->acted == 1);
  CHECK(OpenSwitches(f, a).empty());
  CHECK(OpenSwitches(f, b).size() == 1);
  r = c.RunDecisions(f.clock().Now(), {globex, {}});
  CHECK(r->agents == 1);
  CHECK(OpenSwitches(f, g).size() == 1);
  CHECK(OpenSwitches(f, a).empty());

  const std::string before = f.Dump();
  CHECK(absl::IsNotFound(c.RunDecisions(f.clock().Now(), {globex, {a.agent_id}}).status()));
  CHECK(absl::IsNotFound(
      c.RunDecisions(f.clock().Now(), {acme, {a.agent_id, "not-an-id"}}).status()));
  CHECK(absl::IsInvalidArgument(c.RunDecisions(f.clock().Now(), {"", {a.agent_id}}).status()));
  CHECK(f.Dump() == before);
}

}  // namespace
}  // namespace spotopt

namespace spotopt {
namespace {

// A model whose forecast is NaN for every pool (a broken model file that loaded).
class NanForecast final : public decision::Forecaster {
 public:
  absl::StatusOr<std::vector<double>> Forecast(const decision::DecisionInput& in) const override {
    return std::vector<double>(in.pools.size(), std::nan(""));
  }
  bool needs_history() const override { return true; }
};

std::string ReadModelFile(std::string_view name) {
  std::ifstream in(std::string("models/price-24h/") + std::string(name), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE_TEMPLATE("a model that answers NaN, or whose file is corrupt, never decides", S,
                   SPOTOPT_ALL_STORES) {
  testing::ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const testing::AgentHandle a = Settled(f, tenant, "web-1", 1);
  ReportPrices(f, a, {{"us-east-1a", "0.040"}, {"us-east-1b", "0.020"}});

  REQUIRE(c.RegisterEngine(
               std::make_shared<decision::ScoringEngine>(
                   decision::ScoringParams{}, std::make_shared<NanForecast>(), "nan-model", "1"),
               kSha, "")
              .ok());
  REQUIRE(c.ActivateEngine(tenant, "nan-model", "1").ok());
  absl::StatusOr<DecisionPreview> p = c.Decide(tenant, a.agent_id);
  REQUIRE(p.ok());
  CHECK(p->decision.engine == "rules");
  CHECK(p->fallback.find("not a positive number") != std::string::npos);
  CHECK(Run(f).fallbacks == 1);

  // A corrupt model file registers nothing.
  const std::string manifest = ReadModelFile("manifest.json");
  std::string model = ReadModelFile("model.json");
  REQUIRE(model.size() > 1000);
  const size_t engines = c.ListEngines().size();
  model[model.size() / 2] ^= 0x20;
  CHECK(absl::IsDataLoss(c.RegisterModel(manifest, model).status()));
  CHECK(absl::IsDataLoss(c.RegisterModel(manifest, model.substr(0, 100)).status()));
  CHECK(c.ListEngines().size() == engines);

  // The real one decides; once it is gone (a restart without it), the tenant's
  // previous engine does, and the log says why.
  model[model.size() / 2] ^= 0x20;
  absl::StatusOr<decision::EngineInfo> info = c.RegisterModel(manifest, model);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  REQUIRE(c.ActivateEngine(tenant, info->ref.name, info->ref.version).ok());
  p = c.Decide(tenant, a.agent_id);
  CHECK(p->decision.engine == "model");
  CHECK(p->fallback.empty());
  REQUIRE(c.UnregisterEngine(info->ref.name, info->ref.version).ok());
  p = c.Decide(tenant, a.agent_id);
  CHECK(p->fallback.find("not registered in this process") != std::string::npos);
  CHECK(p->decision.engine == "rules");  // nan-model, the previous one, fails too
}

}  // namespace
}  // namespace spotopt
