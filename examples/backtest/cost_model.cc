#include "cost_model.h"

#include <algorithm>

#include "random.h"

namespace spotopt::backtest {

Sec CostModel::PollPhase(uint64_t agent) const {
  return static_cast<Sec>(Draw(timing_.seed, agent, 0x706f6c6c) %
                          static_cast<uint64_t>(timing_.poll_interval));
}

namespace {

// The first phase + k * every > t (floor division, for any t).
Sec NextTick(Sec phase, Sec every, Sec t) {
  Sec k = (t - phase) / every;
  if (phase + k * every > t) --k;
  return phase + (k + 1) * every;
}

}  // namespace

Sec CostModel::NextPollAt(Sec phase, Sec t) const {
  return NextTick(phase, timing_.poll_interval, t);
}

Sec CostModel::NextReplicaPoll(uint64_t agent, Sec t) const {
  const Sec every = timing_.replica_poll_interval;
  const auto phase =
      static_cast<Sec>(Draw(timing_.seed, agent, 0x7265706c) % static_cast<uint64_t>(every));
  return NextTick(phase, every, t);
}

uint64_t CostModel::LaunchKey(uint64_t agent, SeriesId target) const {
  return Mix(Mix(Mix(timing_.seed) ^ agent) ^ static_cast<uint64_t>(target));
}

Sec CostModel::LaunchFrom(uint64_t key, Sec at) const {
  const auto span = static_cast<uint64_t>(timing_.launch_max - timing_.launch_min) + 1;
  return timing_.launch_min + static_cast<Sec>(Mix(key ^ static_cast<uint64_t>(at)) % span);
}

CostModel::Switch CostModel::SwitchTimes(uint64_t agent, SeriesId target, Sec decided) const {
  Switch s;
  s.poll = NextPoll(agent, decided);
  s.ready = s.poll + Launch(agent, target, s.poll);
  s.traffic = s.ready + timing_.cutover;
  return s;
}

namespace {

// When leg k of a path stops being billed, up to `end`.
Sec LegEnd(const Path& path, size_t k, Sec end) {
  const Sec next = k + 1 < path.legs.size() ? path.legs[k + 1].from : end;
  return std::min({next, path.legs[k].until.value_or(next), end});
}

}  // namespace

Units CostModel::ExtraCost(const Extra& x, Sec end) const {
  if (x.from >= end) return 0;
  return Run(x.series, x.from, std::min(x.to, end));
}

Units CostModel::Cost(const Path& path, Sec end) const {
  Units total = 0;
  for (size_t k = 0; k < path.legs.size(); ++k) {
    total += Run(path.legs[k].series, path.legs[k].from, LegEnd(path, k, end));
  }
  for (const Extra& d : path.drains) total += ExtraCost(d, end);
  for (const Extra& r : path.replicas) total += ExtraCost(r, end);
  return total;
}

Units CostModel::Baseline(const Path& path, Sec end) const {
  Units total = 0;
  for (size_t k = 0; k < path.legs.size(); ++k) {
    const Series& s = market_.series(path.legs[k].series);
    total += Run(*market_.OnDemand(s.instance_type), path.legs[k].from, LegEnd(path, k, end));
  }
  return total;
}

}  // namespace spotopt::backtest
