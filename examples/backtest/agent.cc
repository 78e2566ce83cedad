#include "agent.h"

#include <algorithm>

#include <fmt/format.h>

namespace spotopt::backtest {

World::World(Controller& controller, ManualClock& clock, std::string tenant,
             const Scenario& scenario, Strategy& strategy, EventQueue& queue)
    : controller_(controller),
      clock_(clock),
      tenant_(std::move(tenant)),
      scenario_(scenario),
      strategy_(strategy),
      queue_(queue),
      residents_(scenario.market.size()),
      is_dirty_(scenario.fleet.size(), 0) {}

std::span<const SeriesId> World::PlacesOf(const AgentSpec& spec) const {
  return strategy_.flexible() ? spec.flex_places : spec.places;
}

Decision World::Ask(const SimAgent& agent, Sec now) const {
  return Decision{static_cast<size_t>(agent.index()),
                  agent.spec(),
                  PlacesOf(agent.spec()),
                  agent.at(),
                  now,
                  scenario_};
}

void World::Leave(int32_t agent, SeriesId pool) {
  std::vector<int32_t>& r = residents_[pool];
  r.erase(std::find(r.begin(), r.end(), agent));
}

void World::MarkDirty(int32_t agent) {
  if (is_dirty_[agent]) return;
  is_dirty_[agent] = 1;
  dirty_.push_back(agent);
}

std::vector<int32_t> World::TakeDirty() {
  std::vector<int32_t> out;
  out.swap(dirty_);
  for (int32_t a : out) is_dirty_[a] = 0;
  return out;
}

absl::Status SimAgent::Fail(std::string_view step, const absl::Status& s) const {
  return absl::Status(s.code(),
                      fmt::format("{}: {}: {}", spec_.logical_id, step, std::string(s.message())));
}

RegisterRequest SimAgent::Registration(const World& w, const std::string& instance,
                                       SeriesId where) const {
  const Market& m = w.scenario().market;
  const Series& s = m.series(where);
  RegisterRequest r;
  r.logical_id = spec_.logical_id;
  r.instance_id = instance;
  r.region = m.region();
  r.facts.instance_type = s.instance_type;
  // An on-demand instance runs in some AZ too; which one does not change its price.
  r.facts.az = s.on_demand() ? m.region() + "a" : s.az;
  r.facts.mode = s.on_demand() ? Mode::kOnDemand : Mode::kSpot;
  return r;
}

SwitchInstance SimAgent::Describe(const World& w, const std::string& instance,
                                  SeriesId where) const {
  const RegisterRequest r = Registration(w, instance, where);
  SwitchInstance out;
  out.instance_id = instance;
  out.instance_type = r.facts.instance_type;
  out.region = r.region;
  out.az = r.facts.az;
  out.mode = r.facts.mode;
  if (!w.scenario().market.series(where).on_demand()) {
    out.pool_id = w.scenario().market.series(where).instance_type + "." + out.az;
  }
  return out;
}

absl::Status SimAgent::Launch(World& w, Sec now) {
  const SeriesId where = w.strategy().Initial(w.Ask(*this, now));
  instance_ = w.NewInstanceId();
  w.SetNow(now);
  absl::StatusOr<RegisterResult> r =
      w.controller().Register(w.tenant(), Registration(w, instance_, where));
  if (!r.ok()) return Fail("register", r.status());
  agent_id_ = r->agent.id;
  registration_ = r->registration.registration.id;
  AgentConfigPatch config = w.strategy().Config();
  config.auto_terminate = true;
  config.terminate_wait_seconds = w.scenario().costs.timing().terminate_wait;
  if (absl::StatusOr<AgentConfig> c = w.controller().UpdateConfig(w.tenant(), agent_id_, config);
      !c.ok()) {
    return Fail("config", c.status());
  }
  at_ = where;
  if (!w.scenario().market.series(where).on_demand()) w.Arrive(index_, where);
  out_.path.legs.push_back(Leg{now, where});
  return absl::OkStatus();
}

absl::Status SimAgent::Move(World& w, Sec now, SeriesId target) {
  const Series& s = w.scenario().market.series(target);
  SwitchRequest req;
  req.target_mode = s.on_demand() ? Mode::kOnDemand : Mode::kSpot;
  if (!s.on_demand()) req.target_pool_id = s.instance_type + "." + s.az;
  req.priority = Priority::kManual;
  req.reason = "backtest: " + w.strategy().name();
  req.requested_by = "operator";
  req.override_limits = true;
  w.SetNow(now);
  absl::StatusOr<Command> c = w.controller().EnqueueSwitch(w.tenant(), agent_id_, req);
  if (!c.ok()) return Fail("enqueue switch", c.status());
  command_id_ = c->id;
  target_ = target;
  phase_ = Phase::kPending;
  w.Schedule(Event{.at = w.scenario().costs.NextPoll(spec_.key, now),
                   .kind = EventKind::kPoll,
                   .agent = index_,
                   .epoch = epoch_});
  return absl::OkStatus();
}

absl::Status SimAgent::OnPoll(World& w, const Event& e) {
  if (e.epoch != epoch_ || phase_ != Phase::kPending) return absl::OkStatus();  // reclaimed
  w.SetNow(e.at);
  absl::StatusOr<std::optional<Command>> c = w.controller().PollCommand(w.tenant(), registration_);
  if (!c.ok()) return Fail("poll", c.status());
  if (!*c || (*c)->id != command_id_) {
    return Fail("poll", absl::InternalError("the switch it was sent is not what it polled"));
  }
  // Agent v4 acts on the command as delivered: its target mode and pool.
  const Market& m = w.scenario().market;
  std::optional<SeriesId> target = m.OnDemand(m.series(at_).instance_type);
  if ((*c)->target_mode == Mode::kSpot) {
    absl::StatusOr<Pool> pool = ParsePoolId((*c)->target_pool_id.value_or(""), m.region());
    if (!pool.ok()) return Fail("poll", pool.status());
    target = m.Find(pool->instance_type, pool->az);
  }
  if (!target) return Fail("poll", absl::InternalError("a target outside the market"));
  target_ = *target;
  // Agent v4: launch in the target, wait until it runs, pause, switch traffic.
  const CostModel& costs = w.scenario().costs;
  const Sec ready = e.at + costs.Launch(spec_.key, target_, e.at);
  timings_ = SwitchTimings{};
  timings_.initiated_at = ToTime(e.at);
  timings_.launched_at = ToTime(e.at);
  timings_.ready_at = ToTime(ready);
  timings_.traffic_switched_at = ToTime(ready + costs.timing().cutover);
  new_instance_ = w.NewInstanceId();
  phase_ = Phase::kInFlight;
  w.Schedule(
      Event{.at = ready + costs.timing().cutover, .kind = EventKind::kLanding, .agent = index_});
  return absl::OkStatus();
}

absl::Status SimAgent::TakeOver(World& w, Sec now, SeriesId where) {
  w.SetNow(now);
  absl::StatusOr<RegisterResult> r =
      w.controller().Register(w.tenant(), Registration(w, new_instance_, where));
  if (!r.ok()) return Fail("register the new instance", r.status());
  if (r->registration.role != Role::kPrimary) {
    return Fail("register the new instance",
                absl::InternalError("the Controller did not move the placement to it"));
  }
  if (alive_ && !w.scenario().market.series(at_).on_demand()) w.Leave(index_, at_);
  out_.moves.push_back(MoveRecord{now, at_, where, phase_ == Phase::kRelaunching});
  out_.path.legs.push_back(Leg{now, where});
  registration_ = r->registration.registration.id;
  instance_ = new_instance_;
  at_ = where;
  alive_ = true;
  noticed_ = false;
  ++epoch_;
  if (!w.scenario().market.series(where).on_demand()) w.Arrive(index_, where);
  return absl::OkStatus();
}

absl::Status SimAgent::OnLanding(World& w, const Event& e) {
  const CostModel& costs = w.scenario().costs;
  if (phase_ == Phase::kInFlight) {
    const bool drains = alive_;
    Draining d{registration_, instance_, at_, target_, new_instance_, timings_};
    if (absl::Status s = TakeOver(w, e.at, target_); !s.ok()) return s;
    ++out_.switches;
    if (drains) {
      // Agent v4 with a terminate wait: the old instance runs on, terminates itself,
      // and (when its process outlives the wait) reports the switch.
      out_.downtime += costs.timing().cutover;
      out_.path.drains.push_back(costs.DrainOf(d.at, e.at));
      d.timings.old_terminated_at = ToTime(e.at + costs.timing().terminate_wait);
      draining_.push_back(std::move(d));
      w.Schedule(Event{.at = e.at + costs.timing().terminate_wait,
                       .kind = EventKind::kDrainEnd,
                       .agent = index_});
    } else {
      out_.downtime += e.at - down_since_;  // reclaimed while the new one launched
    }
  } else {
    if (absl::Status s = TakeOver(w, e.at, target_); !s.ok()) return s;
    out_.downtime += e.at - down_since_;
  }
  phase_ = Phase::kIdle;
  w.MarkDirty(index_);
  return absl::OkStatus();
}

absl::Status SimAgent::OnDrainEnd(World& w, const Event& e) {
  const Draining d = std::move(draining_.front());
  draining_.pop_front();
  const Market& m = w.scenario().market;
  const auto price = [&](SeriesId s, Sec at) -> ReportedPrice {
    return Money::FromMicros(*m.PriceAt(s, at)).ToString();
  };
  const Sec switched = ToSec(*d.timings.traffic_switched_at);
  SwitchReport report;
  report.old_instance = Describe(w, d.instance, d.at);
  report.new_instance = Describe(w, d.new_instance, d.target);
  report.on_demand_price = price(*m.OnDemand(m.series(d.at).instance_type), switched);
  if (!m.series(d.at).on_demand()) report.old_spot_price = price(d.at, switched);
  if (!m.series(d.target).on_demand()) report.new_spot_price = price(d.target, switched);
  report.timings = d.timings;
  report.trigger = "manual";  // agent v4's label for priority >= 50
  w.SetNow(e.at);
  absl::StatusOr<SwitchRecord> r = w.controller().ReportSwitch(w.tenant(), d.registration, report);
  if (!r.ok()) return Fail("switch report", r.status());
  return absl::OkStatus();
}

absl::Status SimAgent::OnRebalance(World& w, const Event& e) {
  SignalReport signal;
  signal.signal = Signal::kRebalanceRecommendation;
  signal.instance_id = instance_;
  signal.detected_at = ToTime(e.at);
  w.SetNow(e.at);
  // Agent v4 asks for an emergency replica first, then reports the recommendation.
  if (absl::StatusOr<EmergencyReplicaResult> r =
          w.controller().CreateEmergencyReplica(w.tenant(), registration_, signal);
      !r.ok()) {
    return Fail("create-emergency-replica", r.status());
  }
  if (absl::StatusOr<RebalanceResult> r =
          w.controller().RebalanceRecommendation(w.tenant(), registration_, signal);
      !r.ok()) {
    return Fail("rebalance-recommendation", r.status());
  }
  if (!idle()) return absl::OkStatus();
  const std::optional<SeriesId> target = w.strategy().OnRebalance(w.Ask(*this, e.at));
  if (target && *target != at_) return Move(w, e.at, *target);
  return absl::OkStatus();
}

absl::Status SimAgent::OnNotice(World& w, const Event& e, const Interruption& i) {
  noticed_ = true;
  SignalReport signal;
  signal.signal = Signal::kTerminationNotice;
  signal.instance_id = instance_;
  signal.notice_time = ToTime(i.at);
  signal.detected_at = ToTime(e.at);
  w.SetNow(e.at);
  if (absl::StatusOr<EmergencyReplicaResult> r =
          w.controller().CreateEmergencyReplica(w.tenant(), registration_, signal);
      !r.ok()) {
    return Fail("create-emergency-replica", r.status());
  }
  if (absl::StatusOr<TerminationResult> r =
          w.controller().TerminationImminent(w.tenant(), registration_, signal);
      !r.ok()) {
    return Fail("termination-imminent", r.status());
  }
  return absl::OkStatus();
}

absl::Status SimAgent::OnInterruption(World& w, const Event& e) {
  ++out_.interruptions;
  // Nothing can take over within the deadline: replicas are off.
  if (noticed_) ++out_.deadlines_missed;
  alive_ = false;
  down_since_ = e.at;
  w.Leave(index_, at_);
  ++epoch_;  // a switch still waiting for its poll is never delivered
  // The reclaim shuts the OS down; agent v4 says goodbye on SIGTERM.
  HeartbeatReport beat;
  beat.status = HeartbeatStatus::kOffline;
  beat.instance_id = instance_;
  w.SetNow(e.at);
  if (absl::StatusOr<AgentConfig> c = w.controller().Heartbeat(w.tenant(), registration_, beat);
      !c.ok()) {
    return Fail("offline heartbeat", c.status());
  }
  if (phase_ == Phase::kInFlight) return absl::OkStatus();  // the new instance takes over
  // No move under way (or one never delivered): the workload relaunches where the
  // strategy says, and the new instance re-homes the agent when it registers.
  target_ = w.strategy().Relaunch(w.Ask(*this, e.at));
  new_instance_ = w.NewInstanceId();
  phase_ = Phase::kRelaunching;
  w.Schedule(Event{.at = w.scenario().costs.RelaunchAt(spec_.key, target_, e.at),
                   .kind = EventKind::kLanding,
                   .agent = index_});
  return absl::OkStatus();
}

}  // namespace spotopt::backtest
