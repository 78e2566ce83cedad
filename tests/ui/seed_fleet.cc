// seed_fleet: the fleet the dashboard's browser test looks at, written into a SQLite
// database through the Controller with a manual clock, so a server opening it finds
// five weeks of history ending now:
//   - tenants acme (the story below), globex (a few agents), initech (suspended) and
//     bulk (BULK_AGENTS agents, for the fleet page's 10,000-agent measurement);
//   - acme's agents in three eu-west-1 instance types, spot in every AZ and one on
//     demand; an operator switch with its successor; a standby replica kept READY; a
//     rebalance recommendation then a termination notice answered by promoting the
//     emergency replica; a cancelled command; one stale and one offline agent;
//   - prices from the real eu-west-1 history in DATA_DIR (the 47-pool subset, shifted
//     by whole days so its last day is today), imported as a catalog, then reported
//     every 5 minutes by the agents for the last three days, with two outages of the
//     m5.large reporter: one short enough to interpolate, one left as a gap, and two
//     dips of c5.xlarge pools that the AWS history does not have;
//   - acme's decision log over those three days (ScheduleDecisions): switches the
//     rules queued, one carried out and one that expired, a switch held by the
//     cooldown, stays for want of a price, and decisions that fell back to the rules
//     from the tenant's own engine (a host engine that fails), since rolled back.
// It prints what the test needs (ids, tokens, registrations) as JSON on stdout.
//
// Usage: seed_fleet DB DATA_DIR [BULK_AGENTS]   (DB must not exist yet)
#include <fmt/format.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "spotopt/clock.h"
#include "spotopt/decision/decision.h"
#include "spotopt/decision/record.h"
#include "spotopt/pricing/price_files.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/sqlite_store.h"

namespace spotopt {
namespace {

constexpr std::string_view kRegion = "eu-west-1";
constexpr std::string_view kTypes[] = {"m5.large", "c5.xlarge", "r5.large"};
constexpr char kZones[] = {'a', 'b', 'c'};
constexpr int kHistoryDays = 35;
constexpr Duration kReportEvery = absl::Minutes(5);
constexpr Duration kDenseReports = absl::Hours(72);
// The dips the agents report on top of the real history (ScheduleDecisions).
constexpr std::string_view kDipPool = "c5.xlarge.eu-west-1b";
constexpr std::string_view kDeepDipPool = "c5.xlarge.eu-west-1c";
// The real history's last day, mapped onto today.
const Time kRealLastDay = absl::FromCivil(absl::CivilDay(2022, 6, 7), absl::UTCTimeZone());

[[noreturn]] void Fail(std::string_view step, std::string_view why) {
  fmt::print(stderr, "seed_fleet: {}: {}\n", step, why);
  std::exit(1);
}

template <class T>
T Must(absl::StatusOr<T> value, std::string_view step) {
  if (!value.ok()) Fail(step, value.status().ToString());
  return *std::move(value);
}

void Must(const absl::Status& status, std::string_view step) {
  if (!status.ok()) Fail(step, status.ToString());
}

std::string PoolId(std::string_view type, char zone) {
  return fmt::format("{}.{}{}", type, kRegion, zone);
}

// A pool's price at `percent` of the real one over [from, to).
struct Dip {
  std::string pool;
  Time from;
  Time to;
  int64_t percent;
};

// The real spot prices of the chosen pools, as steps, and their on-demand prices.
struct RealPrices {
  std::map<std::string, std::vector<SpotPriceRow>> steps;  // by pool id, by time
  std::map<std::string, Money> on_demand;                  // by instance type
  Duration shift;                                          // real time + shift = seeded time
  std::vector<Dip> dips;

  // The price in effect at (seeded) time t: the last step at or before it, dipped.
  Money At(const std::string& pool, Time t) const {
    const std::vector<SpotPriceRow>& rows = steps.at(pool);
    Money price = rows.front().price;
    for (const SpotPriceRow& r : rows) {
      if (r.at + shift > t) break;
      price = r.price;
    }
    for (const Dip& d : dips) {
      if (d.pool == pool && t >= d.from && t < d.to) {
        price = Money::FromMicros(price.micros() * d.percent / 100);
      }
    }
    return price;
  }
};

// acme's own engine, registered by the host as a C++ decision::Engine: it asks a bid
// service that this process does not run, so every decision it is asked for falls
// back to the rules, and the log says why. spotopt-server does not register it.
class BidderEngine final : public decision::Engine {
 public:
  static constexpr std::string_view kSha256 =
      "5eed000000000000000000000000000000000000000000000000000000000b1d";
  std::string_view name() const override { return "acme-bidder"; }
  std::string_view version() const override { return "0.3.0"; }
  absl::StatusOr<decision::Decision> Decide(
      const decision::DecisionInput& /*input*/) const override {
    return absl::UnavailableError("the bid service did not answer within 2 s");
  }
};

RealPrices ReadPrices(const std::string& data_dir, Time today) {
  RealPrices prices;
  prices.shift = today - kRealLastDay;
  const std::string history =
      data_dir + "/aws-spot-price-history/euw1_linux_47pools_2021-12-13_2022-06-07.tsv";
  std::ifstream in(history);
  if (!in) Fail("read prices", history);
  for (std::string line; std::getline(in, line);) {
    SpotPriceRow row = Must(ParseSpotPriceHistoryLine(line), "parse price history");
    for (std::string_view type : kTypes) {
      if (row.instance_type == type && row.region == kRegion) {
        prices.steps[fmt::format("{}.{}", row.instance_type, row.az)].push_back(row);
      }
    }
  }
  for (auto& [pool, rows] : prices.steps) {
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  }
  std::ifstream csv(data_dir + "/ondemand-linux.csv");
  if (!csv) Fail("read on-demand prices", data_dir);
  std::string line;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    const OnDemandRow row = Must(ParseOnDemandCsvLine(line), "parse on-demand prices");
    if (row.region == kRegion) prices.on_demand[row.instance_type] = row.price;
  }
  for (std::string_view type : kTypes) {
    for (char zone : kZones) {
      if (!prices.steps.contains(PoolId(type, zone))) Fail("read prices", PoolId(type, zone));
    }
    if (!prices.on_demand.contains(std::string(type))) Fail("on-demand price", type);
  }
  return prices;
}

// One agent process: a registration on an instance.
struct Process {
  std::string tenant_id;
  std::string logical_id;
  std::string agent_id;         // the logical agent
  std::string registration_id;  // the wire's agent_id
  RegisterRequest request;
};

class Seeder {
 public:
  Seeder(std::shared_ptr<ManualClock> clock, std::unique_ptr<Controller> controller,
         RealPrices prices, Time now)
      : clock_(std::move(clock)),
        c_(std::move(controller)),
        prices_(std::move(prices)),
        now_(now),
        start_(now - absl::Hours(24 * kHistoryDays)) {}

  boost::json::object Run(int bulk_agents);

 private:
  // Schedules `step` at `t`; Play runs every step in time order with the clock at it.
  void At(Time t, std::function<void()> step) { timeline_.emplace_back(t, std::move(step)); }
  void Play();

  // Distinct, well-formed instance ids, the same on every run.
  std::string NewInstanceId() { return fmt::format("i-0{:016x}", ++instances_ * 7919 + 0x5eed); }
  RegisterRequest Request(std::string_view logical_id, std::string_view type, char zone, Mode mode);
  Process& Start(const std::string& tenant_id, std::string_view logical_id, std::string_view type,
                 char zone, Mode mode);
  void Beat(const Process& p) {
    Must(c_->Heartbeat(p.tenant_id, p.registration_id,
                       {.instance_id = p.request.instance_id,
                        .instance_type = p.request.facts.instance_type,
                        .az = p.request.facts.az}),
         "heartbeat");
  }
  PricingReport Report(std::string_view type, Time at) const;
  void CompleteSwitch(const std::string& logical_id, char zone, const std::string& command_id,
                      std::string_view trigger);
  // The fleet run over some of acme's agents (all of them when `logical_ids` is
  // empty), checked to have acted as often as the story says.
  DecisionRunReport Decide(const std::string& tenant_id, std::vector<std::string> logical_ids,
                           int acted);
  decision::DecisionRecord LatestDecision(const std::string& logical_id);

  void ScheduleCatalog(const std::string& tenant_id);
  void ScheduleAcme(const std::string& tenant_id);
  void ScheduleSwitch(const std::string& tenant_id);
  void ScheduleStandby();
  void ScheduleInterruption(const std::string& tenant_id);
  void ScheduleReports(const std::string& tenant_id);
  void ScheduleDecisions(const std::string& tenant_id);
  void ScheduleBulk(const std::string& tenant_id, int agents);

  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<Controller> c_;
  RealPrices prices_;
  const Time now_;
  const Time start_;
  int instances_ = 0;
  std::vector<std::pair<Time, std::function<void()>>> timeline_;
  std::map<std::string, Process> processes_;  // by logical id (acme, globex)
  std::vector<Process> bulk_;
  // Beats at the very end: online; the stale and offline agents stopped earlier.
  std::map<std::string, Duration> quiet_for_;
};

RegisterRequest Seeder::Request(std::string_view logical_id, std::string_view type, char zone,
                                Mode mode) {
  RegisterRequest r;
  r.logical_id = std::string(logical_id);
  r.instance_id = NewInstanceId();
  r.region = std::string(kRegion);
  r.facts.hostname = fmt::format("ip-10-0-{}-{}", zone - 'a', instances_ % 250);
  r.facts.instance_type = std::string(type);
  r.facts.az = fmt::format("{}{}", kRegion, zone);
  r.facts.ami_id = "ami-0c55b159cbfafe1f0";
  r.facts.agent_version = "4.0.0";
  r.facts.mode = mode;
  return r;
}

Process& Seeder::Start(const std::string& tenant_id, std::string_view logical_id,
                       std::string_view type, char zone, Mode mode) {
  Process p{.tenant_id = tenant_id, .logical_id = std::string(logical_id)};
  p.request = Request(logical_id, type, zone, mode);
  const RegisterResult r = Must(c_->Register(tenant_id, p.request), "register");
  p.agent_id = r.agent.id;
  p.registration_id = r.registration.registration.id;
  return processes_[p.logical_id] = std::move(p);
}

PricingReport Seeder::Report(std::string_view type, Time at) const {
  PricingReport report{.instance_type = std::string(type), .collected_at = at};
  report.on_demand_price = prices_.on_demand.at(std::string(type)).ToString();
  for (char zone : kZones) {
    const std::string pool = PoolId(type, zone);
    report.spot_pools.push_back({.pool_id = pool, .price = prices_.At(pool, at).ToString()});
  }
  report.current_spot_price = report.spot_pools.front().price;
  return report;
}

// The real history before the agents' own reports, imported as an operator would:
// each day's rows at the end of that day, never ahead of the clock.
void Seeder::ScheduleCatalog(const std::string& tenant_id) {
  const Time from = start_ - absl::Hours(72);  // so every pool has a price at the start
  std::map<Time, std::vector<CatalogPrice>> by_day;
  for (std::string_view type : kTypes) {
    by_day[from].push_back({.pool = {std::string(kRegion), "", std::string(type)},
                            .price = prices_.on_demand.at(std::string(type)),
                            .at = from});
  }
  for (const auto& [pool, rows] : prices_.steps) {
    for (const SpotPriceRow& r : rows) {
      const Time at = r.at + prices_.shift;
      if (at < from || at >= now_ - kDenseReports) continue;
      const Time day_end = from + absl::Hours(24) * (1 + (at - from) / absl::Hours(24));
      by_day[std::min(day_end, now_ - kDenseReports)].push_back(
          {.pool = {r.region, r.az, r.instance_type}, .price = r.price, .at = at});
    }
  }
  for (auto& [at, prices] : by_day) {
    At(at, [this, tenant_id, prices = std::move(prices)] {
      Must(c_->ImportPrices(tenant_id, prices), "import catalog prices");
    });
  }
}

void Seeder::ScheduleAcme(const std::string& tenant_id) {
  At(start_, [this, tenant_id] {
    Start(tenant_id, "web-1", "m5.large", 'a', Mode::kSpot);
    Start(tenant_id, "web-2", "m5.large", 'b', Mode::kSpot);
    Start(tenant_id, "api-1", "c5.xlarge", 'a', Mode::kSpot);
    Start(tenant_id, "db-1", "r5.large", 'a', Mode::kOnDemand);
    Start(tenant_id, "batch-1", "r5.large", 'a', Mode::kSpot);
    Start(tenant_id, "checkout-1", "c5.xlarge", 'c', Mode::kSpot);
    Start(tenant_id, "payments-1", "m5.large", 'a', Mode::kSpot);
    Start(tenant_id, "worker-1", "m5.large", 'c', Mode::kSpot);
    Start(tenant_id, "worker-2", "c5.xlarge", 'a', Mode::kSpot);
  });
  At(start_ + absl::Hours(24 * 5),
     [this, tenant_id] { Start(tenant_id, "api-2", "c5.xlarge", 'b', Mode::kSpot); });
  At(start_ + absl::Hours(24 * 20), [this, tenant_id] {
    const Process& p = Start(tenant_id, "web-3", "m5.large", 'c', Mode::kSpot);
    Must(c_->UpdateConfig(tenant_id, p.agent_id, {.replica_mode = ReplicaMode::kOff}),
         "web-3 runs without replicas");
  });
  // An operator switch queued and then thought better of.
  At(start_ + absl::Hours(24 * 12), [this] {
    const Process& p = processes_.at("api-2");
    const Command queued = Must(c_->EnqueueSwitch(p.tenant_id, p.agent_id,
                                                  {.target_mode = Mode::kOnDemand,
                                                   .reason = "capacity test",
                                                   .requested_by = "operator:seed",
                                                   .override_limits = true}),
                                "enqueue switch to cancel");
    Must(c_->CancelCommand(p.tenant_id, p.agent_id, queued.id, "not needed after all"),
         "cancel switch");
  });
  quiet_for_["worker-1"] = absl::Seconds(90);    // stale
  quiet_for_["worker-2"] = absl::Hours(24 * 2);  // offline
  ScheduleSwitch(tenant_id);
  ScheduleStandby();
  ScheduleInterruption(tenant_id);
  ScheduleReports(tenant_id);
  ScheduleDecisions(tenant_id);
}

// batch-1 moves from r5.large.eu-west-1a to 1c: the operator's switch, delivered by
// the poll, then carried out.
void Seeder::ScheduleSwitch(const std::string& tenant_id) {
  const Time at = start_ + absl::Hours(24 * 25);
  auto command = std::make_shared<std::string>();
  At(at, [this, tenant_id, command] {
    const Process& p = processes_.at("batch-1");
    *command = Must(c_->EnqueueSwitch(tenant_id, p.agent_id,
                                      {.target_mode = Mode::kSpot,
                                       .target_pool_id = PoolId("r5.large", 'c'),
                                       .reason = "operator: 1c is cheaper",
                                       .requested_by = "operator:seed",
                                       .override_limits = true}),
                    "enqueue switch")
                   .id;
    Must(c_->PollCommand(tenant_id, p.registration_id), "poll switch");
  });
  At(at + absl::Minutes(4),
     [this, command] { CompleteSwitch("batch-1", 'c', *command, "manual"); });
}

// The agent's side of a delivered switch to `zone`, minutes after its poll: the
// successor registers in the target pool, reports the switch, and the old instance
// acks the command.
void Seeder::CompleteSwitch(const std::string& logical_id, char zone, const std::string& command_id,
                            std::string_view trigger) {
  const Process old = processes_.at(logical_id);
  const std::string type = old.request.facts.instance_type;
  const Process& next = Start(old.tenant_id, logical_id, type, zone, Mode::kSpot);
  SwitchReport report;
  for (auto [side, p] :
       {std::pair{&report.old_instance, &old}, std::pair{&report.new_instance, &next}}) {
    *side = {.instance_id = p->request.instance_id,
             .instance_type = p->request.facts.instance_type,
             .region = p->request.region,
             .az = p->request.facts.az,
             .mode = Mode::kSpot,
             .pool_id = fmt::format("{}.{}", p->request.facts.instance_type, p->request.facts.az)};
  }
  const Time t = clock_->Now();
  report.on_demand_price = prices_.on_demand.at(type).ToString();
  report.old_spot_price = prices_.At(report.old_instance.pool_id, t).ToString();
  report.new_spot_price = prices_.At(report.new_instance.pool_id, t).ToString();
  report.timings = {.initiated_at = t - absl::Minutes(4),
                    .launched_at = t - absl::Minutes(3),
                    .ready_at = t - absl::Seconds(40),
                    .traffic_switched_at = t - absl::Seconds(38)};
  report.trigger = std::string(trigger);
  report.command_id = command_id;
  Must(c_->ReportSwitch(old.tenant_id, old.registration_id, report), "switch report");
  Must(c_->AckCommand(old.tenant_id, old.registration_id, command_id, true, "Switch completed"),
       "ack switch");
}

// checkout-1 keeps a manual standby: requested, launched by the replica poll, synced,
// ready two days ago and still standing by.
void Seeder::ScheduleStandby() {
  const Time at = now_ - absl::Hours(48);
  auto replica = std::make_shared<std::string>();
  At(at, [this, replica] {
    const Process& p = processes_.at("checkout-1");
    Must(c_->UpdateConfig(p.tenant_id, p.agent_id, {.replica_mode = ReplicaMode::kManualStandby}),
         "manual standby");
    *replica = Must(c_->RequestReplica(
                        p.tenant_id, p.agent_id,
                        {.pool_id = PoolId("c5.xlarge", 'a'), .requested_by = "operator:seed"}),
                    "request replica")
                   .id;
    Must(c_->LeaseReplicaLaunches(p.tenant_id, p.registration_id), "replica poll");
  });
  At(at + absl::Minutes(3), [this, replica] {
    const Process& p = processes_.at("checkout-1");
    Must(c_->ReportReplicaInstance(p.tenant_id, p.registration_id, *replica, NewInstanceId(),
                                   ReplicaReport::kSyncing),
         "replica launched");
  });
  At(at + absl::Minutes(9), [this, replica] {
    const Process& p = processes_.at("checkout-1");
    Must(c_->ReportReplicaStatus(p.tenant_id, p.registration_id, *replica, ReplicaReport::kReady,
                                 clock_->Now(), ""),
         "replica ready");
  });
}

// payments-1 (m5.large.eu-west-1a): a rebalance recommendation gets an emergency
// replica in the cheapest other AZ; the termination notice 20 minutes later promotes
// it; the replica's agent registers as the new primary.
void Seeder::ScheduleInterruption(const std::string& tenant_id) {
  const Time at = start_ + absl::Hours(24 * 30);
  auto replica = std::make_shared<Replica>();
  At(at, [this, replica] {
    const Process& p = processes_.at("payments-1");
    Must(c_->ReportPrices(p.tenant_id, p.registration_id, Report("m5.large", clock_->Now())),
         "payments prices");
    const SignalReport rebalance{.signal = Signal::kRebalanceRecommendation,
                                 .instance_id = p.request.instance_id,
                                 .detected_at = clock_->Now()};
    const EmergencyReplicaResult emergency = Must(
        c_->CreateEmergencyReplica(p.tenant_id, p.registration_id, rebalance), "emergency replica");
    if (!emergency.replica) Fail("emergency replica", emergency.error);
    *replica = *emergency.replica;
    Must(c_->RebalanceRecommendation(p.tenant_id, p.registration_id, rebalance), "rebalance");
    Must(c_->LeaseReplicaLaunches(p.tenant_id, p.registration_id), "replica poll");
  });
  At(at + absl::Minutes(4), [this, replica] {
    const Process& p = processes_.at("payments-1");
    replica->instance_id = NewInstanceId();
    Must(c_->ReportReplicaInstance(p.tenant_id, p.registration_id, replica->id,
                                   replica->instance_id, ReplicaReport::kSyncing),
         "emergency replica launched");
  });
  At(at + absl::Minutes(12), [this, replica] {
    const Process& p = processes_.at("payments-1");
    Must(c_->ReportReplicaStatus(p.tenant_id, p.registration_id, replica->id, ReplicaReport::kReady,
                                 clock_->Now(), ""),
         "emergency replica ready");
  });
  At(at + absl::Minutes(20), [this, tenant_id, replica] {
    const Process old = processes_.at("payments-1");
    const SignalReport notice{.signal = Signal::kTerminationNotice,
                              .instance_id = old.request.instance_id,
                              .notice_time = clock_->Now() + absl::Seconds(120),
                              .detected_at = clock_->Now()};
    Must(c_->CreateEmergencyReplica(tenant_id, old.registration_id, notice), "notice");
    const TerminationResult promoted =
        Must(c_->TerminationImminent(tenant_id, old.registration_id, notice), "termination");
    if (!promoted.success) Fail("termination", promoted.error);
    Process next{.tenant_id = tenant_id, .logical_id = "payments-1"};
    next.request = Request("payments-1", "m5.large", replica->pool.az.back(), Mode::kSpot);
    next.request.instance_id = replica->instance_id;
    const RegisterResult r = Must(c_->Register(tenant_id, next.request), "promoted registers");
    next.agent_id = r.agent.id;
    next.registration_id = r.registration.registration.id;
    processes_["payments-1"] = std::move(next);
  });
}

// The agents' pricing reports of the last three days, every 5 minutes, one reporter
// per instance type. The m5.large reporter misses an hour (interpolated) and five
// hours (too long: a gap).
void Seeder::ScheduleReports(const std::string& tenant_id) {
  const std::pair<std::string_view, std::string_view> reporters[] = {
      {"m5.large", "web-1"}, {"c5.xlarge", "api-1"}, {"r5.large", "batch-1"}};
  const Time first = now_ - kDenseReports;
  const auto outage = [&](Time t) {
    const Time short_from = now_ - absl::Hours(30);
    const Time long_from = now_ - absl::Hours(12);
    return (t >= short_from && t < short_from + absl::Hours(1)) ||
           (t >= long_from && t < long_from + absl::Hours(5));
  };
  for (Time t = first; t <= now_ - absl::Minutes(1); t += kReportEvery) {
    for (const auto& [type, logical_id] : reporters) {
      if (type == "m5.large" && outage(t)) continue;
      At(t, [this, tenant_id, type, logical_id] {
        const Process& p = processes_.at(std::string(logical_id));
        Must(c_->ReportPrices(tenant_id, p.registration_id, Report(type, clock_->Now())),
             "pricing report");
      });
    }
  }
}

DecisionRunReport Seeder::Decide(const std::string& tenant_id, std::vector<std::string> logical_ids,
                                 int acted) {
  DecisionScope scope{.tenant_id = tenant_id};
  for (const std::string& id : logical_ids) scope.agent_ids.push_back(processes_.at(id).agent_id);
  // As a host does: periodic work first (expired commands no longer count), then decide.
  Must(c_->Tick(clock_->Now()), "tick");
  const DecisionRunReport report = Must(c_->RunDecisions(clock_->Now(), scope), "decide");
  if (report.acted != acted) {
    std::string why;
    for (const decision::DecisionRecord& r :
         Must(c_->ListTenantDecisions(tenant_id, {.limit = static_cast<size_t>(report.logged)}),
              "decision log")) {
      if (r.acted) why += fmt::format("; {}", r.decision.message);
    }
    Fail("decide", fmt::format("acted {} times, not {}{}", report.acted, acted, why));
  }
  return report;
}

decision::DecisionRecord Seeder::LatestDecision(const std::string& logical_id) {
  const Process& p = processes_.at(logical_id);
  std::vector<decision::DecisionRecord> log =
      Must(c_->ListDecisions(p.tenant_id, p.agent_id, {.limit = 1}), "decision log");
  if (log.empty()) Fail("decision log", logical_id);
  return std::move(log.front());
}

// acme's decisions over the three days of reports (the rules, unless said otherwise):
//   - 70 h ago the first fleet run: everyone stays (db-1, kept on demand by the
//     operator, has auto switch off);
//   - 24 h ago acme activates its own engine, acme-bidder, which fails: from then on
//     the rules answer for it and every entry says why;
//   - 20 h ago c5.xlarge.eu-west-1b dips to 45 %: the run moves api-1 there (its
//     poll gets the switch, it carries it out) and worker-2 (offline, so the switch
//     expires);
//   - 30 minutes later 1c dips to 30 % for half an hour: api-1 would move again, but
//     its cooldown holds it;
//   - 16 h ago acme rolls back to the rules;
//   - 11 h ago 1b is back to its real price;
//   - 10 h ago, in the m5.large reporter's long outage: the m5.large agents stay
//     for want of a price;
//   - 5 h ago web-3 (replicas off) gets a termination notice in m5.large.eu-west-1c:
//     the engine's emergency switch to the safest pool, carried out, which leaves
//     1c the riskiest pool of the day;
//   - 4 minutes ago the last run: worker-1 and payments-1, in 1c, are moved out of
//     it (their switches wait for their next poll).
void Seeder::ScheduleDecisions(const std::string& tenant_id) {
  const Time dip = now_ - absl::Hours(20);
  prices_.dips = {
      {std::string(kDipPool), dip, now_ - absl::Hours(11), 45},
      {std::string(kDeepDipPool), dip + absl::Minutes(30), dip + absl::Minutes(60), 30}};
  At(start_, [this, tenant_id] {
    Must(c_->UpdateConfig(tenant_id, processes_.at("db-1").agent_id, {.auto_switch = false}),
         "db-1 stays on demand");
  });
  At(now_ - absl::Hours(70), [this, tenant_id] { Decide(tenant_id, {}, 0); });
  At(now_ - absl::Hours(24), [this, tenant_id] {
    Must(c_->RegisterEngine(std::make_shared<BidderEngine>(), BidderEngine::kSha256,
                            "acme's bid service client"),
         "register acme-bidder");
    Must(c_->ActivateEngine(tenant_id, "acme-bidder", "0.3.0"), "activate acme-bidder");
  });
  // Decisions a minute after the reports (every 5 minutes from 72 h ago), so they see
  // the newest prices.
  auto command = std::make_shared<std::string>();
  At(dip + absl::Minutes(6), [this, tenant_id, command] {
    Decide(tenant_id, {"api-1", "worker-2"}, 2);
    *command = LatestDecision("api-1").command_id;
    Must(c_->PollCommand(tenant_id, processes_.at("api-1").registration_id), "poll decided switch");
  });
  At(dip + absl::Minutes(10),
     [this, command] { CompleteSwitch("api-1", kDipPool.back(), *command, "automatic"); });
  At(dip + absl::Minutes(36), [this, tenant_id] {
    Decide(tenant_id, {"api-1"}, 0);
    if (LatestDecision("api-1").decision.guard != decision::Guard::kCooldown) {
      Fail("decide", "api-1's second move is not held by its cooldown");
    }
  });
  At(now_ - absl::Hours(16),
     [this, tenant_id] { Must(c_->RollbackEngine(tenant_id), "roll back to the rules"); });
  At(now_ - absl::Hours(10) + absl::Minutes(1), [this, tenant_id] { Decide(tenant_id, {}, 0); });
  const Time notice = now_ - absl::Hours(5);
  auto emergency = std::make_shared<Command>();
  At(notice, [this, tenant_id, emergency] {
    const Process& p = processes_.at("web-3");
    const TerminationResult r =
        Must(c_->TerminationImminent(tenant_id, p.registration_id,
                                     {.signal = Signal::kTerminationNotice,
                                      .instance_id = p.request.instance_id,
                                      .notice_time = clock_->Now() + absl::Seconds(120),
                                      .detected_at = clock_->Now()}),
             "web-3's termination notice");
    if (r.success) Fail("web-3's termination notice", "promoted a replica it should not have");
    const std::optional<Command> polled =
        Must(c_->PollCommand(tenant_id, p.registration_id), "poll the emergency switch");
    if (!polled || !polled->target_pool_id) Fail("web-3's switch", "no spot pool to go to");
    *emergency = *polled;
  });
  At(notice + absl::Seconds(100), [this, emergency] {
    CompleteSwitch("web-3", emergency->target_pool_id->back(), emergency->id, "automatic");
  });
  At(now_ - absl::Minutes(4), [this, tenant_id] { Decide(tenant_id, {}, 2); });
}

// The bulk tenant: many agents over the whole history, so their time in placement
// varies; most beat at the end (online), a few a little earlier (stale), the rest
// are offline.
void Seeder::ScheduleBulk(const std::string& tenant_id, int agents) {
  bulk_.reserve(static_cast<size_t>(agents));
  const Duration span = now_ - absl::Hours(73) - start_;
  for (int i = 0; i < agents; ++i) {
    At(start_ + span * i / std::max(1, agents), [this, tenant_id, i] {
      const std::string_view type = kTypes[i % 3];
      const char zone = kZones[(i / 3) % 3];
      const Mode mode = i % 10 == 9 ? Mode::kOnDemand : Mode::kSpot;
      Process p{.tenant_id = tenant_id, .logical_id = fmt::format("node-{:05}", i)};
      p.request = Request(p.logical_id, type, zone, mode);
      const RegisterResult r = Must(c_->Register(tenant_id, p.request), "bulk register");
      p.agent_id = r.agent.id;
      p.registration_id = r.registration.registration.id;
      bulk_.push_back(std::move(p));
    });
  }
}

void Seeder::Play() {
  std::stable_sort(timeline_.begin(), timeline_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [t, step] : timeline_) {
    clock_->Set(t);
    step();
  }
}

boost::json::object Seeder::Run(int bulk_agents) {
  clock_->Set(start_ - absl::Hours(72));
  std::map<std::string, CreatedTenant> tenants;
  for (std::string_view name : {"acme", "globex", "initech", "bulk"}) {
    tenants[std::string(name)] = Must(c_->CreateTenant(name), "create tenant");
  }
  ScheduleCatalog(tenants["acme"].tenant.id);
  ScheduleAcme(tenants["acme"].tenant.id);
  At(start_ + absl::Hours(24 * 10), [this, id = tenants["globex"].tenant.id] {
    Start(id, "etl-1", "m5.large", 'b', Mode::kSpot);
    Start(id, "etl-2", "m5.large", 'c', Mode::kSpot);
    Start(id, "report-1", "c5.xlarge", 'b', Mode::kOnDemand);
  });
  At(start_ + absl::Hours(24 * 15), [this, id = tenants["initech"].tenant.id] {
    Start(id, "legacy-1", "r5.large", 'b', Mode::kSpot);
  });
  ScheduleBulk(tenants["bulk"].tenant.id, bulk_agents);
  // The last beats: every process, less those that went quiet.
  for (auto& [logical_id, quiet] : quiet_for_) {
    At(now_ - quiet, [this, id = logical_id] { Beat(processes_.at(id)); });
  }
  At(now_, [this] {
    for (const auto& [logical_id, p] : processes_) {
      if (!quiet_for_.contains(logical_id)) Beat(p);
    }
    for (size_t i = 0; i < bulk_.size(); ++i) {
      if (i % 20 < 17) Beat(bulk_[i]);  // 85% online
    }
  });
  At(now_ - absl::Seconds(90), [this] {
    for (size_t i = 0; i < bulk_.size(); ++i) {
      if (i % 20 == 17) Beat(bulk_[i]);  // 5% stale
    }
  });
  Play();
  Must(c_->SuspendTenant(tenants["initech"].tenant.id), "suspend initech");
  Must(c_->Tick(now_), "tick");

  boost::json::object out_tenants;
  for (const auto& [name, created] : tenants) {
    out_tenants[name] = {{"id", created.tenant.id}, {"token", created.token}};
  }
  boost::json::object agents;
  for (const auto& [logical_id, p] : processes_) {
    agents[logical_id] = {{"tenant_id", p.tenant_id},
                          {"id", p.agent_id},
                          {"registration_id", p.registration_id},
                          {"instance_id", p.request.instance_id}};
  }
  return {{"tenants", std::move(out_tenants)},
          {"agents", std::move(agents)},
          {"region", kRegion},
          {"history_start", FormatTimestamp(start_)},
          {"now", FormatTimestamp(now_)},
          {"bulk_agents", bulk_.size()}};
}

int Main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    fmt::print(stderr, "usage: seed_fleet DB DATA_DIR [BULK_AGENTS]\n");
    return 2;
  }
  // A second seed into the same file would make a second acme, and so on.
  if (std::filesystem::exists(argv[1])) Fail("open database", "it exists already");
  const int bulk = argc == 4 ? std::atoi(argv[3]) : 0;
  // Whole seconds, so the history's days line up with the real data's.
  const Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const Time today =
      absl::FromCivil(absl::ToCivilDay(now, absl::UTCTimeZone()), absl::UTCTimeZone());
  RealPrices prices = ReadPrices(argv[2], today);
  auto clock = std::make_shared<ManualClock>(now);
  std::unique_ptr<SqliteStore> store = Must(SqliteStore::Open(argv[1]), "open database");
  auto controller = std::make_unique<Controller>(std::move(store), clock);
  // The feed the test's server loads, so the logged risks are those it would see.
  const std::string feed =
      std::string(argv[2]) + "/aws-spot-advisor/spot-advisor-data_2025-06.json";
  std::ifstream feed_file(feed);
  if (!feed_file) Fail("read the Advisor feed", feed);
  Must(controller->LoadAdvisorFeed(std::string(std::istreambuf_iterator<char>(feed_file), {})),
       "load the Advisor feed");
  Seeder seeder(clock, std::move(controller), std::move(prices), now);
  const boost::json::object out = seeder.Run(bulk);
  std::puts(boost::json::serialize(out).c_str());
  return 0;
}

}  // namespace
}  // namespace spotopt

int main(int argc, char** argv) { return spotopt::Main(argc, argv); }
