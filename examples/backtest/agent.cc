#include "agent.h"

#include <algorithm>
#include <cmath>

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
      replica_residents_(scenario.market.size()),
      is_dirty_(scenario.fleet.size(), 0),
      refreshed_(scenario.market.size(), INT64_MIN) {}

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

void World::Arrive(int32_t agent, SeriesId pool, bool replica) {
  (replica ? replica_residents_ : residents_)[pool].push_back(agent);
}

void World::Leave(int32_t agent, SeriesId pool, bool replica) {
  std::vector<int32_t>& r = (replica ? replica_residents_ : residents_)[pool];
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

absl::Status World::Refresh(std::span<const SeriesId> places, Sec now) {
  const Market& m = scenario_.market;
  std::vector<CatalogPrice> batch;
  for (SeriesId s : places) {
    const Series& x = m.series(s);
    const std::optional<int64_t> price = m.PriceAt(s, now);
    if (x.on_demand() || !price || refreshed_[s] == now) continue;
    refreshed_[s] = now;
    batch.push_back(CatalogPrice{Pool{m.region(), x.az, x.instance_type}, Money::FromMicros(*price),
                                 ToTime(now)});
  }
  if (batch.empty()) return absl::OkStatus();
  SetNow(now);
  return controller_.ImportPrices(tenant_, batch).status();
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

bool SimAgent::Deciding(const World& w) const { return w.strategy().decides_in_controller(); }

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
  if (w.strategy().flexible()) config.compatible_instance_types = spec_.flex_types;
  config.auto_terminate = true;
  config.terminate_wait_seconds = w.scenario().costs.timing().terminate_wait;
  if (absl::StatusOr<AgentConfig> c = w.controller().UpdateConfig(w.tenant(), agent_id_, config);
      !c.ok()) {
    return Fail("config", c.status());
  }
  at_ = where;
  if (!w.scenario().market.series(where).on_demand()) w.Arrive(index_, where);
  out_.path.legs.push_back(Leg{now, where});
  if (Deciding(w)) {
    w.MarkDirty(index_);
    ScheduleGuardEnds(w, now, false);
  }
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
  Queued(w, now);
  command_id_ = c->id;
  return absl::OkStatus();
}

void SimAgent::Queued(World& w, Sec now) {
  command_id_.clear();
  phase_ = Phase::kPending;
  w.Schedule(Event{.at = w.scenario().costs.NextPoll(spec_.key, now),
                   .kind = EventKind::kPoll,
                   .agent = index_,
                   .epoch = epoch_});
}

absl::Status SimAgent::OnPoll(World& w, const Event& e) {
  if (e.epoch != epoch_ || phase_ != Phase::kPending) return absl::OkStatus();  // reclaimed
  // A promoted replica's agent polls once its instance runs and it registered.
  if (registration_.empty()) return absl::OkStatus();
  w.SetNow(e.at);
  absl::StatusOr<std::optional<Command>> c = w.controller().PollCommand(w.tenant(), registration_);
  if (!c.ok()) return Fail("poll", c.status());
  if (!command_id_.empty() && (!*c || (*c)->id != command_id_)) {
    return Fail("poll", absl::InternalError("the switch it was sent is not what it polled"));
  }
  if (!*c || !(*c)->is_placement()) {
    // What the Controller queued was superseded meanwhile: decide again.
    phase_ = Phase::kIdle;
    w.MarkDirty(index_);
    return absl::OkStatus();
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
  w.Schedule(Event{.at = ready + costs.timing().cutover,
                   .kind = EventKind::kLanding,
                   .agent = index_,
                   .index = ++launches_});
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
  // A primary reclaimed at the deadline of its notice stopped costing there.
  if (!alive_ && noticed_) out_.path.legs.back().until = down_since_;
  out_.moves.push_back(MoveRecord{now, at_, where, phase_ == Phase::kRelaunching});
  out_.path.legs.push_back(Leg{now, where});
  registration_ = r->registration.registration.id;
  instance_ = new_instance_;
  at_ = where;
  alive_ = true;
  noticed_ = false;
  ++epoch_;
  if (!w.scenario().market.series(where).on_demand()) w.Arrive(index_, where);
  // A replica requested for the old primary and never launched: the new one's replica
  // poll picks it up.
  if (replica_ && replica_->instance.empty()) {
    w.Schedule(Event{.at = w.scenario().costs.NextReplicaPoll(spec_.key, now),
                     .kind = EventKind::kReplicaPoll,
                     .agent = index_});
  }
  return absl::OkStatus();
}

absl::Status SimAgent::OnLanding(World& w, const Event& e) {
  // A replica took over while this instance launched: its agent finds another primary
  // (an identity conflict, which nothing bills or reads).
  if (e.index != launches_) return absl::OkStatus();
  const CostModel& costs = w.scenario().costs;
  const bool switched = phase_ == Phase::kInFlight;
  if (switched) {
    const bool drains = alive_;
    Draining d{registration_, instance_, at_, target_, new_instance_, timings_};
    const Market& m = w.scenario().market;
    const bool cross = m.series(target_).instance_type != m.series(at_).instance_type;
    // The Controller does not recognise a successor of another instance type when it
    // registers (README: "What the library gets wrong"), so an agent that changes type
    // reports the switch before its successor registers, which moves the placement
    // the same way. Reclaimed meanwhile, it cannot: its successor re-homes the agent.
    if (cross && drains) {
      if (absl::Status s = Report(w, d, e.at); !s.ok()) return s;
    }
    if (absl::Status s = TakeOver(w, e.at, target_); !s.ok()) return s;
    ++out_.switches;
    // The successor's registration (or the report) bills the old primary's terminate
    // wait as a drain, even when it was reclaimed while the new one launched.
    if (!cross || drains) out_.path.drains.push_back(costs.DrainOf(d.at, e.at));
    if (drains) {
      // Agent v4 with a terminate wait: the old instance runs on, terminates itself,
      // and (when its process outlives the wait) reports the switch.
      out_.downtime += costs.timing().cutover;
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
  if (Deciding(w)) ScheduleGuardEnds(w, e.at, switched);
  return absl::OkStatus();
}

absl::Status SimAgent::OnDrainEnd(World& w, const Event& e) {
  const Draining d = std::move(draining_.front());
  draining_.pop_front();
  return Report(w, d, e.at);
}

absl::Status SimAgent::Report(World& w, const Draining& d, Sec now) {
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
  w.SetNow(now);
  absl::StatusOr<SwitchRecord> r = w.controller().ReportSwitch(w.tenant(), d.registration, report);
  if (!r.ok()) return Fail("switch report", r.status());
  return absl::OkStatus();
}

absl::Status SimAgent::OnRebalance(World& w, const Event& e) {
  SignalReport signal;
  signal.signal = Signal::kRebalanceRecommendation;
  signal.instance_id = instance_;
  signal.detected_at = ToTime(e.at);
  // The engine decides on what the agents reported up to now.
  if (Deciding(w)) {
    if (absl::Status s = w.Refresh(w.PlacesOf(spec_), e.at); !s.ok()) return s;
  }
  w.SetNow(e.at);
  // Agent v4 asks for an emergency replica first, then reports the recommendation.
  absl::StatusOr<EmergencyReplicaResult> replica =
      w.controller().CreateEmergencyReplica(w.tenant(), registration_, signal);
  if (!replica.ok()) return Fail("create-emergency-replica", replica.status());
  if (replica->created && replica->replica) Requested(w, e.at, replica->replica->id);
  absl::StatusOr<RebalanceResult> r =
      w.controller().RebalanceRecommendation(w.tenant(), registration_, signal);
  if (!r.ok()) return Fail("rebalance-recommendation", r.status());
  if (!idle()) return absl::OkStatus();
  if (Deciding(w)) {
    if (r->action == "switch") Queued(w, e.at);
    return absl::OkStatus();
  }
  const std::optional<SeriesId> target = w.strategy().OnRebalance(w.Ask(*this, e.at));
  if (target && *target != at_) return Move(w, e.at, *target);
  return absl::OkStatus();
}

absl::Status SimAgent::OnNotice(World& w, const Event& e, const Interruption& i) {
  noticed_ = true;
  deadline_ = i.at;
  SignalReport signal;
  signal.signal = Signal::kTerminationNotice;
  signal.instance_id = instance_;
  signal.notice_time = ToTime(i.at);
  signal.detected_at = ToTime(e.at);
  if (Deciding(w)) {
    if (absl::Status s = w.Refresh(w.PlacesOf(spec_), e.at); !s.ok()) return s;
  }
  w.SetNow(e.at);
  absl::StatusOr<EmergencyReplicaResult> replica =
      w.controller().CreateEmergencyReplica(w.tenant(), registration_, signal);
  if (!replica.ok()) return Fail("create-emergency-replica", replica.status());
  if (replica->created && replica->replica) Requested(w, e.at, replica->replica->id);
  absl::StatusOr<TerminationResult> r =
      w.controller().TerminationImminent(w.tenant(), registration_, signal);
  if (!r.ok()) return Fail("termination-imminent", r.status());
  if (r->success) {
    // The replica took over; agent v4 says goodbye and exits (AWS reclaims the
    // instance at the deadline).
    HeartbeatReport beat;
    beat.status = HeartbeatStatus::kOffline;
    beat.instance_id = instance_;
    if (absl::StatusOr<AgentConfig> c = w.controller().Heartbeat(w.tenant(), registration_, beat);
        !c.ok()) {
      return Fail("offline heartbeat", c.status());
    }
    return Promoted(w, e.at);
  }
  if (!Deciding(w) || !idle()) return absl::OkStatus();
  // Nothing to promote: the engine may have queued an emergency switch instead.
  absl::StatusOr<std::vector<Command>> commands =
      w.controller().ListCommands(w.tenant(), agent_id_);
  if (!commands.ok()) return Fail("list commands", commands.status());
  if (std::any_of(commands->begin(), commands->end(), [](const Command& c) {
        return c.is_placement() && c.state == CommandState::kPending;
      })) {
    Queued(w, e.at);
  }
  return absl::OkStatus();
}

absl::Status SimAgent::OnInterruption(World& w, const Event& e) {
  ++out_.interruptions;
  // A READY replica is promoted by the Tick that runs at this deadline; anything else
  // takes over after it, if at all.
  const bool covered = replica_ && replica_->ready;
  if (noticed_ && !covered) ++out_.deadlines_missed;
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
  // A launched replica of a noticed primary is promoted by the post-deadline recovery.
  if (noticed_ && replica_ && !replica_->instance.empty()) {
    phase_ = Phase::kAwaitingReplica;
    return absl::OkStatus();
  }
  Relaunch(w, e.at);
  return absl::OkStatus();
}

void SimAgent::Relaunch(World& w, Sec now) {
  // No move under way (or one never delivered): the workload relaunches where the
  // strategy says, and the new instance re-homes the agent when it registers.
  target_ = w.strategy().Relaunch(w.Ask(*this, now));
  new_instance_ = w.NewInstanceId();
  phase_ = Phase::kRelaunching;
  w.Schedule(Event{.at = w.scenario().costs.RelaunchAt(spec_.key, target_, now),
                   .kind = EventKind::kLanding,
                   .agent = index_,
                   .index = ++launches_});
}

void SimAgent::Requested(World& w, Sec now, const std::string& replica_id) {
  if (replica_) return;
  replica_ = Standby{.id = replica_id};
  w.Schedule(Event{.at = w.scenario().costs.NextReplicaPoll(spec_.key, now),
                   .kind = EventKind::kReplicaPoll,
                   .agent = index_});
}

absl::Status SimAgent::OnReplicaPoll(World& w, const Event& e) {
  // A dead primary polls nothing; its successor's poll is scheduled when it registers.
  if (!replica_ || !replica_->instance.empty() || !alive_ || registration_.empty()) {
    return absl::OkStatus();
  }
  w.SetNow(e.at);
  absl::StatusOr<std::vector<Replica>> work =
      w.controller().LeaseReplicaLaunches(w.tenant(), registration_);
  if (!work.ok()) return Fail("replica poll", work.status());
  if (work->empty()) {
    replica_.reset();  // failed or timed out meanwhile
    return absl::OkStatus();
  }
  // Agent v4 launches a spot instance of its own type in the listed AZ and reports it
  // right away; it runs after the launch latency.
  const Replica& r = work->front();
  const std::optional<SeriesId> pool =
      w.scenario().market.Find(w.scenario().market.series(at_).instance_type, r.pool.az);
  if (!pool) return Fail("replica poll", absl::InternalError("a replica pool outside the market"));
  const std::string instance = w.NewInstanceId();
  if (absl::StatusOr<Replica> put = w.controller().ReportReplicaInstance(
          w.tenant(), registration_, r.id, instance, ReplicaReport::kSyncing);
      !put.ok()) {
    return Fail("PUT replica", put.status());
  }
  const Sec ready = e.at + w.scenario().costs.Launch(spec_.key, *pool, e.at);
  replica_ = Standby{
      .id = r.id, .pool = *pool, .instance = instance, .syncing_at = e.at, .ready_at = ready};
  w.Arrive(index_, *pool, /*replica=*/true);
  w.Schedule(Event{.at = ready, .kind = EventKind::kReplicaReady, .agent = index_});
  return absl::OkStatus();
}

absl::Status SimAgent::OnReplicaReady(World& w, const Event& e) {
  w.SetNow(e.at);
  if (!replica_ || replica_->ready || replica_->ready_at != e.at) {
    // Promoted before it ran (forced, on a notice): its agent starts now, as primary.
    if (replica_ || !registration_.empty() || ready_at_ != e.at) return absl::OkStatus();
    absl::StatusOr<RegisterResult> r =
        w.controller().Register(w.tenant(), Registration(w, instance_, at_));
    if (!r.ok()) return Fail("register the promoted replica", r.status());
    registration_ = r->registration.registration.id;
    if (phase_ == Phase::kPending) Queued(w, e.at);
    return absl::OkStatus();
  }
  if (absl::StatusOr<Replica> r = w.controller().ReportReplicaStatus(
          w.tenant(), registration_, replica_->id, ReplicaReport::kReady, ToTime(e.at), "");
      !r.ok()) {
    return Fail("replica ready", r.status());
  }
  replica_->ready = true;
  // Its agent starts with the instance, as the standby.
  absl::StatusOr<RegisterResult> r =
      w.controller().Register(w.tenant(), Registration(w, replica_->instance, replica_->pool));
  if (!r.ok()) return Fail("register the replica", r.status());
  replica_->registration = r->registration.registration.id;
  if (phase_ != Phase::kAwaitingReplica) return absl::OkStatus();
  // The primary is gone: the post-deadline recovery promotes it now.
  if (absl::StatusOr<TickReport> t = w.controller().Tick(ToTime(e.at)); !t.ok()) {
    return Fail("tick", t.status());
  }
  return AfterTick(w, e.at);
}

absl::Status SimAgent::Promoted(World& w, Sec now) {
  const Standby r = *replica_;
  EndReplica(w, now);
  const Sec deadline = deadline_;
  if (alive_) {
    // Promoted inside the deadline: the old primary runs (and costs, as a drain) until
    // AWS reclaims it, and is no longer the agent's.
    out_.path.drains.push_back(Extra{at_, now, deadline});
    w.Leave(index_, at_);
    // A replica forced while it still launched runs from its ready time.
    if (r.ready_at > deadline) {
      out_.downtime += r.ready_at - deadline;
      ++out_.deadlines_missed;
    }
  } else {
    // Promoted by the post-deadline recovery: the old primary's run ended at the deadline.
    out_.path.legs.back().until = deadline;
    out_.downtime += now - down_since_;
  }
  out_.moves.push_back(MoveRecord{now, at_, r.pool, false});
  out_.path.legs.push_back(Leg{now, r.pool});
  ++out_.promotions;
  ++launches_;  // a switch under way is abandoned
  instance_ = r.instance;
  registration_ = r.registration;  // empty until its agent starts
  ready_at_ = r.ready_at;
  at_ = r.pool;
  alive_ = true;
  noticed_ = false;
  ++epoch_;
  w.Arrive(index_, r.pool);
  // Commands issued for the old primary were cancelled with the promotion.
  phase_ = Phase::kIdle;
  w.MarkDirty(index_);
  ScheduleGuardEnds(w, now, false);
  return absl::OkStatus();
}

void SimAgent::EndReplica(World& w, Sec now) {
  out_.path.replicas.push_back(Extra{replica_->pool, replica_->syncing_at, now});
  w.Leave(index_, replica_->pool, /*replica=*/true);
  replica_.reset();
}

absl::Status SimAgent::OnReplicaSignal(World& w, const Event& e) {
  if (!replica_ || replica_->instance.empty()) return absl::OkStatus();
  w.SetNow(e.at);
  if (!replica_->registration.empty() && e.kind != EventKind::kInterruption) {
    // The standby's own agent reports the signal first thing; the Controller marks
    // the standby lost.
    SignalReport signal;
    signal.signal = e.kind == EventKind::kNotice ? Signal::kTerminationNotice
                                                 : Signal::kRebalanceRecommendation;
    signal.instance_id = replica_->instance;
    if (absl::StatusOr<EmergencyReplicaResult> r =
            w.controller().CreateEmergencyReplica(w.tenant(), replica_->registration, signal);
        !r.ok()) {
      return Fail("create-emergency-replica from the replica", r.status());
    }
  } else if (e.kind == EventKind::kInterruption) {
    // Reclaimed while it launched: the primary's agent, waiting for it, reports it failed.
    if (absl::StatusOr<Replica> r =
            w.controller().ReportReplicaStatus(w.tenant(), registration_, replica_->id,
                                               ReplicaReport::kFailed, ToTime(e.at), "reclaimed");
        !r.ok()) {
      return Fail("replica failed", r.status());
    }
  } else {
    return absl::OkStatus();  // nobody on the instance to hear it yet
  }
  EndReplica(w, e.at);
  if (phase_ == Phase::kAwaitingReplica) Relaunch(w, e.at);
  return absl::OkStatus();
}

absl::Status SimAgent::AfterTick(World& w, Sec now) {
  if (!replica_) return absl::OkStatus();
  if (phase_ == Phase::kAwaitingReplica) {
    absl::StatusOr<AgentView> view = w.controller().GetAgent(w.tenant(), agent_id_);
    if (!view.ok()) return Fail("get agent", view.status());
    if (view->agent.placement.instance_id == replica_->instance) return Promoted(w, now);
    return absl::OkStatus();
  }
  if (!replica_->ready || !alive_ || noticed_) return absl::OkStatus();
  // The emergency is over (its incident closed after 2 h of quiet) and the standby
  // runs on: the host retires it, terminates the instance and says so (protocol 11.4:
  // the server retires it; the library leaves it live, so the host does).
  absl::StatusOr<std::vector<Incident>> incidents =
      w.controller().ListIncidents(w.tenant(), agent_id_);
  if (!incidents.ok()) return Fail("list incidents", incidents.status());
  if (std::any_of(incidents->begin(), incidents->end(),
                  [](const Incident& i) { return !i.closed_at; })) {
    return absl::OkStatus();
  }
  w.SetNow(now);
  if (absl::StatusOr<Replica> r =
          w.controller().TerminateReplica(w.tenant(), agent_id_, replica_->id);
      !r.ok()) {
    return Fail("retire the replica", r.status());
  }
  if (absl::StatusOr<Replica> r = w.controller().ReportReplicaStatus(
          w.tenant(), registration_, replica_->id, ReplicaReport::kTerminated, ToTime(now), "");
      !r.ok()) {
    return Fail("replica terminated", r.status());
  }
  EndReplica(w, now);
  return absl::OkStatus();
}

void SimAgent::ScheduleGuardEnds(World& w, Sec now, bool switched) {
  // The cooldown after a placement moves, and the day and week caps a switch counts in.
  const auto hours = w.strategy().Config().min_pool_duration_hours.value_or(0);
  std::vector<Sec> ends = {now + static_cast<Sec>(std::ceil(hours * 3600))};
  if (switched) ends.insert(ends.end(), {now + 86400, now + Sec{7} * 86400});
  for (Sec at : ends) w.Schedule(Event{.at = at, .kind = EventKind::kWakeup, .agent = index_});
}

}  // namespace spotopt::backtest
