#include "cost_model.h"

#include <algorithm>

#include "random.h"

namespace spotopt::backtest {

Sec CostModel::PollPhase(uint64_t agent) const {
  return static_cast<Sec>(Draw(timing_.seed, agent, 0x706f6c6c) %
                          static_cast<uint64_t>(timing_.poll_interval));
}

Sec CostModel::NextPollAt(Sec phase, Sec t) const {
  const Sec every = timing_.poll_interval;
  // The first phase + k * every > t (floor division, for any t).
  Sec k = (t - phase) / every;
  if (phase + k * every > t) --k;
  return phase + (k + 1) * every;
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

Units CostModel::DrainCost(const Drain& d, Sec end) const {
  if (!billing_.drain_overlap || d.from >= end) return 0;
  return Run(d.series, d.from, std::min(d.to, end));
}

Units CostModel::Cost(const Path& path, Sec end) const {
  Units total = 0;
  for (size_t k = 0; k < path.legs.size(); ++k) {
    const Sec to = k + 1 < path.legs.size() ? path.legs[k + 1].from : end;
    total += Run(path.legs[k].series, path.legs[k].from, std::min(to, end));
  }
  for (const Drain& d : path.drains) total += DrainCost(d, end);
  return total;
}

Units CostModel::Baseline(const Path& path, Sec end) const {
  Units total = 0;
  for (size_t k = 0; k < path.legs.size(); ++k) {
    const Sec to = k + 1 < path.legs.size() ? path.legs[k + 1].from : end;
    const Series& s = market_.series(path.legs[k].series);
    total += Run(*market_.OnDemand(s.instance_type), path.legs[k].from, std::min(to, end));
  }
  return total;
}

}  // namespace spotopt::backtest
