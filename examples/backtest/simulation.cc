#include "simulation.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include <fmt/format.h>

#include "absl/container/flat_hash_map.h"
#include "spotopt/store/memory_store.h"

namespace spotopt::backtest {
namespace {

// How long a rebalance incident stays open without a repeat (protocol section 10).
constexpr Sec kRebalanceClose = 7200;
// How long a reported signal counts toward its pool's risk (ControllerOptions).
constexpr Sec kSignalWindow = 86400;

// One catalog price change: the host's importer hands the Controller the prices of a
// decision point as AWS quotes them then.
struct PriceChange {
  Sec at;
  SeriesId series;
  int64_t price;
};

std::vector<PriceChange> SpotChanges(const Market& m) {
  std::vector<PriceChange> out;
  for (SeriesId s = 0; s < static_cast<SeriesId>(m.size()); ++s) {
    if (m.series(s).on_demand()) continue;
    for (const Step& step : m.series(s).steps) out.push_back(PriceChange{step.at, s, step.price});
  }
  std::sort(out.begin(), out.end(), [](const PriceChange& a, const PriceChange& b) {
    return std::tie(a.at, a.series) < std::tie(b.at, b.series);
  });
  return out;
}

CatalogPrice Catalog(const Market& m, SeriesId s, Sec at, int64_t price) {
  const Series& x = m.series(s);
  return CatalogPrice{Pool{m.region(), x.az, x.instance_type}, Money::FromMicros(price),
                      ToTime(at)};
}

// A strategy that changes instance type needs the Controller to accept a switch to a
// type the agent's config lists as compatible; a throwaway tenant asks it once, before
// the run.
absl::Status ProbeCrossTypeSwitch(Controller& controller, const Scenario& sc) {
  const Market& m = sc.market;
  for (const AgentSpec& a : sc.fleet) {
    const auto other = std::find_if(a.flex_places.begin(), a.flex_places.end(), [&](SeriesId s) {
      return !m.series(s).on_demand() && m.series(s).instance_type != a.instance_type;
    });
    if (other == a.flex_places.end() || a.places.size() < 2) continue;
    absl::StatusOr<CreatedTenant> t = controller.CreateTenant("probe");
    if (!t.ok()) return t.status();
    const Series& from = m.series(a.places.front());
    RegisterRequest r{
        .logical_id = "probe",
        .instance_id = "i-00000000000000001",
        .region = m.region(),
        .facts = {.instance_type = from.instance_type, .az = from.az, .mode = Mode::kSpot}};
    absl::StatusOr<RegisterResult> reg = controller.Register(t->tenant.id, r);
    if (!reg.ok()) return reg.status();
    AgentConfigPatch config;
    config.compatible_instance_types = a.flex_types;
    if (absl::Status s = controller.UpdateConfig(t->tenant.id, reg->agent.id, config).status();
        !s.ok()) {
      return s;
    }
    SwitchRequest req;
    req.target_pool_id = m.series(*other).instance_type + "." + m.series(*other).az;
    req.override_limits = true;
    return controller.EnqueueSwitch(t->tenant.id, reg->agent.id, req).status();
  }
  return absl::OkStatus();
}

class Loop {
 public:
  Loop(const Scenario& sc, Strategy& strategy, Controller& controller, ManualClock& clock,
       std::string tenant)
      : sc_(sc),
        strategy_(strategy),
        controller_(controller),
        world_(controller, clock, std::move(tenant), sc, strategy, queue_),
        changes_(SpotChanges(sc.market)),
        watchers_(sc.market.size()) {
    for (size_t k = 0; k < sc.fleet.size(); ++k) {
      agents_.emplace_back(static_cast<int32_t>(k), sc.fleet[k]);
      for (SeriesId s : world_.PlacesOf(sc.fleet[k])) {
        watchers_[s].push_back(static_cast<int32_t>(k));
      }
    }
  }

  absl::Status Run(const Progress& progress) {
    const Market& m = sc_.market;
    if (absl::Status s = ImportHistory(); !s.ok()) return s;
    if (absl::Status s = ImportUpTo(m.start()); !s.ok()) return s;
    for (SimAgent& a : agents_) {
      if (absl::Status s = a.Launch(world_, m.start()); !s.ok()) return s;
      index_[a.agent_id()] = a.index();
    }
    ScheduleFixedEvents();
    uint64_t handled = 0;
    while (!queue_.empty()) {
      const Event e = queue_.Pop();
      if (e.at >= m.end()) break;
      if (absl::Status s = Handle(e); !s.ok()) {
        return absl::Status(
            s.code(), fmt::format("{} at {}: {}", strategy_.name(), FormatTimestamp(ToTime(e.at)),
                                  std::string(s.message())));
      }
      if (progress && ++handled % 4096 == 0) progress(e.at);
    }
    world_.SetNow(m.end());
    return controller_.Tick(ToTime(m.end())).status();
  }

  const std::vector<SimAgent>& agents() const { return agents_; }

 private:
  void ScheduleFixedEvents() {
    const Market& m = sc_.market;
    for (SeriesId s = 0; s < static_cast<SeriesId>(m.size()); ++s) {
      const std::vector<Interruption>& events = sc_.interruptions.Of(s);
      for (size_t k = 0; k < events.size(); ++k) {
        const auto index = static_cast<int32_t>(k);
        for (auto [at, kind] : {std::pair{events[k].rebalance_at, EventKind::kRebalance},
                                std::pair{events[k].notice_at, EventKind::kNotice},
                                std::pair{events[k].at, EventKind::kInterruption}}) {
          if (at >= m.start())
            queue_.Push(Event{.at = at, .kind = kind, .series = s, .index = index});
        }
      }
    }
    for (size_t k = 0; k < agents_.size(); ++k) {
      for (Sec at : strategy_.Wakeups(k)) {
        queue_.Push(Event{.at = at, .kind = EventKind::kWakeup, .agent = static_cast<int32_t>(k)});
      }
    }
    if (next_change_ < changes_.size()) {
      queue_.Push(Event{.at = changes_[next_change_].at, .kind = EventKind::kPrices});
    }
    if (strategy_.watches_prices()) {
      queue_.Push(Event{.at = m.start() + m.grid(), .kind = EventKind::kDecide});
    }
  }

  // The spot prices the host's importer holds from before the start.
  absl::Status ImportHistory() {
    if (sc_.history == nullptr) return absl::OkStatus();
    const Market& h = *sc_.history;
    std::vector<CatalogPrice> batch;
    for (SeriesId s = 0; s < static_cast<SeriesId>(h.size()); ++s) {
      if (h.series(s).on_demand()) continue;
      for (const Step& step : h.series(s).steps)
        batch.push_back(Catalog(h, s, step.at, step.price));
    }
    if (batch.empty()) return absl::OkStatus();
    world_.SetNow(h.end());
    return controller_.ImportPrices(world_.tenant(), batch).status();
  }

  // Imports every price change up to `at`; the agents watching a changed pool are to
  // be asked at the next decision point.
  absl::Status ImportUpTo(Sec at) {
    const Market& m = sc_.market;
    std::vector<CatalogPrice> batch;
    if (at == m.start()) {
      for (SeriesId s = 0; s < static_cast<SeriesId>(m.size()); ++s) {
        const Series& x = m.series(s);
        if (x.on_demand()) batch.push_back(Catalog(m, s, x.steps[0].at, x.steps[0].price));
      }
    }
    for (; next_change_ < changes_.size() && changes_[next_change_].at <= at; ++next_change_) {
      const PriceChange& c = changes_[next_change_];
      batch.push_back(Catalog(m, c.series, c.at, c.price));
      world_.Imported(c.series, c.at);
      if (strategy_.watches_prices()) {
        for (int32_t a : watchers_[c.series]) world_.MarkDirty(a);
      }
    }
    if (batch.empty()) return absl::OkStatus();
    world_.SetNow(at);
    return controller_.ImportPrices(world_.tenant(), batch).status();
  }

  absl::Status Handle(const Event& e) {
    switch (e.kind) {
      case EventKind::kLanding:
        return agents_[e.agent].OnLanding(world_, e);
      case EventKind::kPoll:
        return agents_[e.agent].OnPoll(world_, e);
      case EventKind::kDrainEnd:
        return agents_[e.agent].OnDrainEnd(world_, e);
      case EventKind::kReplicaPoll:
        return agents_[e.agent].OnReplicaPoll(world_, e);
      case EventKind::kReplicaReady:
        return agents_[e.agent].OnReplicaReady(world_, e);
      case EventKind::kPrices: {
        absl::Status s = ImportUpTo(e.at);
        if (next_change_ < changes_.size()) {
          queue_.Push(Event{.at = changes_[next_change_].at, .kind = EventKind::kPrices});
        }
        return s;
      }
      case EventKind::kDecide:
        queue_.Push(Event{.at = e.at + sc_.market.grid(), .kind = EventKind::kDecide});
        return Decide(e.at);
      case EventKind::kWakeup: {
        if (strategy_.decides_in_controller()) {
          // A guard may have lifted: the agent, or the watchers of a pool whose
          // signal left the risk window, are decided for at the next decision point.
          if (e.agent >= 0) {
            world_.MarkDirty(e.agent);
          } else {
            for (int32_t a : watchers_[e.series]) world_.MarkDirty(a);
          }
          return absl::OkStatus();
        }
        SimAgent& a = agents_[e.agent];
        if (!a.idle()) return absl::OkStatus();
        const std::optional<SeriesId> target = strategy_.OnWakeup(world_.Ask(a, e.at));
        return target && *target != a.at() ? a.Move(world_, e.at, *target) : absl::OkStatus();
      }
      case EventKind::kRebalance:
      case EventKind::kNotice:
      case EventKind::kInterruption:
        return Signal(e);
      case EventKind::kTick:
        return Tick(e.at);
    }
    return absl::OkStatus();
  }

  absl::Status Tick(Sec now) {
    world_.SetNow(now);
    if (absl::Status s = controller_.Tick(ToTime(now)).status(); !s.ok()) return s;
    for (SimAgent& a : agents_) {
      if (absl::Status s = a.AfterTick(world_, now); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // A pool event reaches the agents whose running primary, or replica, is in the pool.
  absl::Status Signal(const Event& e) {
    const std::vector<int32_t> residents = world_.Residents(e.series, false);
    const Interruption& i = sc_.interruptions.Of(e.series)[e.index];
    for (int32_t a : residents) {
      absl::Status s = e.kind == EventKind::kRebalance ? agents_[a].OnRebalance(world_, e)
                       : e.kind == EventKind::kNotice  ? agents_[a].OnNotice(world_, e, i)
                                                       : agents_[a].OnInterruption(world_, e);
      if (!s.ok()) return s;
    }
    for (int32_t a : std::vector<int32_t>(world_.Residents(e.series, true))) {
      if (absl::Status s = agents_[a].OnReplicaSignal(world_, e); !s.ok()) return s;
    }
    if (residents.empty()) return absl::OkStatus();
    if (strategy_.decides_in_controller() && e.kind != EventKind::kInterruption) {
      // A reported signal raises the pool's risk for a day: its watchers are decided
      // for now and when it leaves the window.
      for (int32_t a : watchers_[e.series]) world_.MarkDirty(a);
      queue_.Push(
          Event{.at = e.at + kSignalWindow + 1, .kind = EventKind::kWakeup, .series = e.series});
    }
    if (e.kind == EventKind::kNotice) return absl::OkStatus();
    // The Controller's time-driven rules that this event makes due: the termination
    // deadline has passed, or the rebalance incident closes after its quiet period.
    const Sec due = e.kind == EventKind::kInterruption ? e.at : e.at + kRebalanceClose;
    queue_.Push(Event{.at = due, .kind = EventKind::kTick});
    return absl::OkStatus();
  }

  absl::Status Decide(Sec now) {
    if (strategy_.decides_in_controller()) return DecideInController(now);
    for (int32_t k : world_.TakeDirty()) {
      SimAgent& a = agents_[k];
      if (!a.idle()) {
        world_.MarkDirty(k);  // ask again once its move is done
        continue;
      }
      const std::optional<SeriesId> target = strategy_.OnPrices(world_.Ask(a, now));
      if (target && *target != a.at()) {
        if (absl::Status s = a.Move(world_, now, *target); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  // The Controller decides for the agents something changed for, from fresh quotes,
  // and the agents it queued a switch for poll it at their next tick.
  absl::Status DecideInController(Sec now) {
    DecisionScope scope{world_.tenant(), {}};
    for (int32_t k : world_.TakeDirty()) {
      SimAgent& a = agents_[k];
      if (!a.idle()) {
        world_.MarkDirty(k);  // decide once its move is done
        continue;
      }
      if (absl::Status s = world_.Refresh(world_.PlacesOf(a.spec()), now); !s.ok()) return s;
      scope.agent_ids.push_back(a.agent_id());
    }
    if (scope.agent_ids.empty()) return absl::OkStatus();
    world_.SetNow(now);
    absl::StatusOr<DecisionRunReport> report = controller_.RunDecisions(ToTime(now), scope);
    if (!report.ok()) return report.status();
    // The run's log entries are the newest; the acted ones name the queued switches.
    int left = report->acted == 0 ? 0 : report->logged;
    for (DecisionPage page{0, 1000}; left > 0;) {
      page.limit = static_cast<size_t>(std::min(left, 1000));
      absl::StatusOr<std::vector<decision::DecisionRecord>> log =
          controller_.ListTenantDecisions(world_.tenant(), page);
      if (!log.ok()) return log.status();
      for (const decision::DecisionRecord& r : *log) {
        if (r.acted && !r.command_id.empty()) agents_[index_.at(r.agent_id)].Queued(world_, now);
        page.before_seq = r.seq;
      }
      left -= static_cast<int>(log->size());
      if (log->empty()) break;
    }
    return absl::OkStatus();
  }

  const Scenario& sc_;
  Strategy& strategy_;
  Controller& controller_;
  EventQueue queue_;
  World world_;
  std::vector<SimAgent> agents_;
  std::vector<PriceChange> changes_;
  size_t next_change_ = 0;
  std::vector<std::vector<int32_t>> watchers_;       // by series: the agents that may run there
  absl::flat_hash_map<std::string, int32_t> index_;  // the Controller's agent id -> agent
};

// The ledger must bill each agent exactly what the cost model says its path costs;
// otherwise the oracle, which optimises the model, would not bound the strategies.
absl::Status CheckAgainstModel(const Scenario& sc, const Strategy& strategy,
                               const std::vector<SimAgent>& agents, const LedgerRead& ledger) {
  const Sec end = sc.market.end();
  for (size_t k = 0; k < agents.size(); ++k) {
    const Path& path = agents[k].outcome().path;
    const LedgerFigures& f = ledger.agents[k];
    const int64_t cost = UnitsToMicros(sc.costs.Cost(path, end));
    const int64_t baseline = UnitsToMicros(sc.costs.Baseline(path, end));
    if (cost != f.cost || baseline != f.baseline) {
      return absl::InternalError(
          fmt::format("{}: {}: the ledger bills {} (baseline {}) where the cost model says {} ({})",
                      strategy.name(), sc.fleet[k].logical_id, f.cost, f.baseline, cost, baseline));
    }
    if (const std::optional<Units> expected = strategy.ExpectedCost(k);
        expected && UnitsToMicros(*expected) != f.cost) {
      return absl::InternalError(fmt::format("{}: {}: the ledger bills {} where its plan costs {}",
                                             strategy.name(), sc.fleet[k].logical_id, f.cost,
                                             UnitsToMicros(*expected)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

LedgerFigures StrategyRun::Total() const {
  LedgerFigures t;
  for (const AgentRun& a : agents) t += a.ledger;
  return t;
}

absl::StatusOr<StrategyRun> RunStrategy(const Scenario& sc, Strategy& strategy,
                                        const Progress& progress) {
  const auto started = std::chrono::steady_clock::now();
  StrategyRun run;
  run.name = strategy.name();
  auto clock = std::make_shared<ManualClock>(ToTime(sc.market.start()));
  ControllerOptions options;
  // The simulated agents heartbeat every 30 s and report prices every 5 min without
  // fail; the elided calls would keep every registration online and every price fresh,
  // which these two horizons say without the calls (README: "What the simulation
  // leaves out"). A reclaimed instance still goes offline at once: it says so.
  const Duration run_length = absl::Seconds(sc.market.end() - sc.market.start());
  options.offline_after = run_length + absl::Hours(24);
  options.fresh_price = run_length + absl::Hours(24);
  Controller controller(std::make_shared<MemoryStore>(), clock, options);
  if (run.disabled = strategy.Unavailable(sc); !run.disabled.empty()) return run;
  if (strategy.flexible()) {
    if (absl::Status s = ProbeCrossTypeSwitch(controller, sc); !s.ok()) {
      run.disabled = fmt::format(
          "the Controller refuses a switch to another instance type listed in "
          "compatible_instance_types ({})",
          std::string(s.message()));
      return run;
    }
  }
  if (absl::Status s = strategy.Prepare(sc); !s.ok()) return s;
  absl::StatusOr<CreatedTenant> tenant = controller.CreateTenant("backtest-" + strategy.name());
  if (!tenant.ok()) return tenant.status();
  if (!sc.advisor_json.empty()) {
    if (absl::StatusOr<size_t> n = controller.LoadAdvisorFeed(sc.advisor_json); !n.ok()) {
      return n.status();
    }
  }
  if (absl::Status s = strategy.Activate(controller, tenant->tenant.id, sc); !s.ok()) return s;
  Loop loop(sc, strategy, controller, *clock, tenant->tenant.id);
  if (absl::Status s = loop.Run(progress); !s.ok()) return s;

  std::vector<std::string> ids;
  for (const SimAgent& a : loop.agents()) ids.push_back(a.agent_id());
  absl::StatusOr<LedgerRead> ledger = ReadLedger(controller, tenant->tenant.id, ids);
  if (!ledger.ok()) return ledger.status();
  if (absl::Status s = CheckAgainstModel(sc, strategy, loop.agents(), *ledger); !s.ok()) return s;
  for (size_t k = 0; k < ids.size(); ++k) {
    run.agents.push_back(AgentRun{ledger->agents[k], loop.agents()[k].outcome()});
  }
  run.daily_cost = std::move(ledger->daily_cost);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return run;
}

}  // namespace spotopt::backtest
