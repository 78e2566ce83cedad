#include "oracle.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "absl/container/flat_hash_map.h"

namespace spotopt::backtest {
namespace {

// A choice per (moment, place): stay, or the index of the place to go to.
constexpr int16_t kStay = -1;

// What the rest of a run is worth: its cost first; of equally cheap paths the one with
// the least downtime, then the fewest switches, so the oracle neither churns nor sits
// through interruptions it could avoid for free (the ledger charges neither).
struct Value {
  Units cost = 0;
  Sec downtime = 0;
  int64_t switches = 0;
  friend bool operator<(const Value& a, const Value& b) {
    return std::tie(a.cost, a.downtime, a.switches) < std::tie(b.cost, b.downtime, b.switches);
  }
  friend Value operator+(const Value& a, const Value& b) {
    return Value{a.cost + b.cost, a.downtime + b.downtime, a.switches + b.switches};
  }
};
constexpr Value kNever{std::numeric_limits<Units>::max() / 4, 0, 0};

// The moments the oracle may act at: every decision point and every signal or
// interruption of its places, in [start, end).
std::vector<Sec> Moments(const Market& market, const Interruptions& interruptions,
                         std::span<const SeriesId> places) {
  std::vector<Sec> signals;
  for (SeriesId s : places) {
    for (const Interruption& i : interruptions.Of(s)) {
      for (Sec x : {i.rebalance_at, i.notice_at, i.at}) {
        if (x >= market.start() && x < market.end()) signals.push_back(x);
      }
    }
  }
  std::sort(signals.begin(), signals.end());
  std::vector<Sec> t;
  t.reserve(static_cast<size_t>(market.grid_points()) + signals.size() + 1);
  size_t k = 0;
  for (int64_t g = 0; g < market.grid_points(); ++g) {
    const Sec point = market.start() + g * market.grid();
    for (; k < signals.size() && signals[k] <= point; ++k) t.push_back(signals[k]);
    t.push_back(point);
  }
  t.insert(t.end(), signals.begin() + static_cast<std::ptrdiff_t>(k), signals.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  t.push_back(market.end());  // a sentinel: the end of the run
  return t;
}

// One agent's program. Prices change only on decision points, which are all moments,
// so each place's price is constant between two consecutive moments.
//
// The ledger bills a primary reclaimed at the deadline of its termination notice only
// up to the deadline, but one that arrived in its pool after the notice went out (it
// never got it) until its successor registers (cost_model.h). So between a notice and
// its interruption an agent in that pool is in one of two states, noticed or not, and
// the program keeps a second value for those few (moment, place) pairs: `unnoticed_`.
class Program {
 public:
  Program(const CostModel& costs, const Interruptions& interruptions, uint64_t agent,
          std::span<const SeriesId> places)
      : costs_(costs),
        agent_(agent),
        phase_(costs.PollPhase(agent)),
        places_(places.begin(), places.end()),
        t_(Moments(costs.market(), interruptions, places)),
        n_(t_.size() - 1),
        s_(places_.size()),
        price_(n_ * s_, 0),
        cum_((n_ + 1) * s_, 0),
        hit_(n_ * s_, 0),
        next_hit_(n_ * s_, kNoHit),
        next_notice_(n_ * s_, kNoHit) {
    const Market& m = costs.market();
    for (size_t s = 0; s < s_; ++s) {
      launch_keys_.push_back(costs.LaunchKey(agent, places_[s]));
      const std::vector<Step>& steps = m.series(places_[s]).steps;
      size_t k = 0;
      for (size_t i = 0; i < n_; ++i) {
        while (k < steps.size() && steps[k].at <= t_[i]) ++k;
        price_[i * s_ + s] = k == 0 ? 0 : steps[k - 1].price;
        cum_[(i + 1) * s_ + s] = cum_[i * s_ + s] + price_[i * s_ + s] * (t_[i + 1] - t_[i]);
      }
      const std::vector<Interruption>& events = interruptions.Of(places_[s]);
      size_t e = 0;
      for (size_t i = 0; i < n_; ++i) {
        while (e < events.size() && events[e].at < t_[i]) ++e;
        if (e < events.size() && events[e].at == t_[i]) hit_[i * s_ + s] = 1;
        // The first interruption strictly after t_i.
        size_t f = e;
        while (f < events.size() && events[f].at <= t_[i]) ++f;
        if (f < events.size()) {
          next_hit_[i * s_ + s] = events[f].at;
          next_notice_[i * s_ + s] = events[f].notice_at;
        }
      }
    }
  }

  Plan Solve() {
    v_.assign((n_ + 1) * s_, Value{});
    choice_.assign(n_ * s_, kStay);
    land_value_.resize(s_);
    land_.resize(s_);
    const Sec cutover = costs_.timing().cutover;
    for (size_t i = n_; i-- > 0;) {
      const Sec poll = costs_.NextPollAt(phase_, t_[i]);
      // What arriving in each target by a switch decided now is worth from the landing
      // on: independent of where the agent comes from.
      for (size_t b = 0; b < s_; ++b) {
        if (!Priced(i, b)) continue;
        land_[b] = poll + costs_.LaunchFrom(launch_keys_[b], poll) + cutover;
        land_value_[b] = Arrive(b, land_[b], i);
      }
      for (size_t a = 0; a < s_; ++a) {
        if (!Priced(i, a)) {
          v_[i * s_ + a] = kNever;
          continue;
        }
        Decide(i, a, poll, /*noticed=*/true, v_[i * s_ + a], choice_[i * s_ + a]);
        // A notice that came before this moment was missed by an agent arriving now.
        if (Arrival(i, a, t_[i])) {
          Slot& u = unnoticed_[i * s_ + a];
          Decide(i, a, poll, /*noticed=*/false, u.value, u.choice);
        }
      }
    }
    return Walk();
  }

 private:
  static constexpr Sec kNoHit = std::numeric_limits<Sec>::max();
  struct Slot {
    Value value;
    int16_t choice = kStay;
  };

  bool Priced(size_t i, size_t s) const { return price_[i * s_ + s] > 0; }
  bool SameType(size_t a, size_t b) const {
    const Market& m = costs_.market();
    return m.series(places_[a]).instance_type == m.series(places_[b]).instance_type;
  }
  // A switch command to on-demand moves the agent to its own type's on-demand.
  bool Switchable(size_t a, size_t b) const {
    return !costs_.market().series(places_[b]).on_demand() || SameType(a, b);
  }

  // Whether an agent arriving in place s at x (t_k <= x < t_k+1) comes after the notice
  // of the interruption that will reclaim it, and so never gets it. A landing comes
  // before a notice at the same second.
  bool Arrival(size_t k, size_t s, Sec x) const {
    return (t_[k] == x && hit_[k * s_ + s]) || next_notice_[k * s_ + s] < x;
  }

  // The value of place s at moment k, noticed or not.
  const Value& At(size_t k, size_t s, bool noticed) const {
    return noticed ? v_[k * s_ + s] : unnoticed_.at(k * s_ + s).value;
  }

  // The best choice at moment i in place a: stay, switch, or, when reclaimed now,
  // relaunch (no staying). `noticed`: the agent got the notice of the interruption
  // that reclaims it next.
  void Decide(size_t i, size_t a, Sec poll, bool noticed, Value& best, int16_t& pick) const {
    const Sec now = t_[i];
    const Sec end = t_[n_];
    if (hit_[i * s_ + a]) {
      best = kNever;
      for (size_t b = 0; b < s_; ++b) {
        if (!Priced(i, b)) continue;
        const Sec at = now + costs_.LaunchFrom(launch_keys_[b], now);
        // Noticed: the ledger stopped billing the reclaimed primary at the deadline.
        const Units old = noticed ? 0 : RunFrom(a, i, at);
        const Value c = Value{old, at < end ? at - now : 0, 0} + Arrive(b, at, i);
        if (c < best) {
          best = c;
          pick = static_cast<int16_t>(b);
        }
      }
      return;
    }
    best = Value{price_[i * s_ + a] * (t_[i + 1] - now), 0, 0} + At(i + 1, a, noticed);
    pick = kStay;
    const Sec reclaimed = next_hit_[i * s_ + a];
    // A switch is delivered only if the instance is still there at the poll.
    if (reclaimed <= poll) return;
    for (size_t b = 0; b < s_; ++b) {
      if (b == a || !Priced(i, b) || !Switchable(a, b)) continue;
      const Sec land = land_[b];
      // Reclaimed while the new instance launched: billed to the deadline if noticed.
      const bool lost = reclaimed < std::min(land, end);
      Value c{RunFrom(a, i, lost && noticed ? reclaimed : land), 0, 1};
      if (land < end) {
        // The ledger bills the old primary's drain from the landing on, even when it
        // was reclaimed before the landing (a landing comes before an interruption at
        // the same moment), unless the successor of another type then re-homed the
        // agent (agent.cc); the workload was down from the reclaim on.
        if (!lost || SameType(a, b)) {
          c.cost += costs_.ExtraCost(costs_.DrainOf(places_[a], land), end);
        }
        c.downtime = lost ? land - reclaimed : costs_.timing().cutover;
      }
      c = c + land_value_[b];
      if (c < best) {
        best = c;
        pick = static_cast<int16_t>(b);
      }
    }
  }

  // The index of the moment interval [t_k, t_k+1) holding x (x < end), from k = i on.
  size_t IntervalOf(Sec x, size_t i) const {
    while (i + 1 < n_ && t_[i + 1] <= x) ++i;
    return i;
  }

  // What running place s costs from t_i to x.
  Units RunFrom(size_t s, size_t i, Sec x) const {
    if (x >= t_[n_]) return cum_[n_ * s_ + s] - cum_[i * s_ + s];
    const size_t k = IntervalOf(x, i);
    return cum_[k * s_ + s] - cum_[i * s_ + s] + price_[k * s_ + s] * (x - t_[k]);
  }

  // What being in place b from x (after a landing, past t_i) is worth: its price up to
  // the next moment, then the best from there.
  Value Arrive(size_t b, Sec x, size_t i) const {
    if (x >= t_[n_]) return Value{};
    const size_t k = IntervalOf(x, i);
    const bool noticed = !Arrival(k, b, x);
    if (t_[k] == x) return At(k, b, noticed);
    return Value{price_[k * s_ + b] * (t_[k + 1] - x), 0, 0} + At(k + 1, b, noticed);
  }

  // The first moment index at or after x.
  size_t MomentAt(Sec x, size_t i) const {
    while (i < n_ && t_[i] < x) ++i;
    return i;
  }

  Plan Walk() const {
    Plan plan;
    const auto entry = [&](size_t s) { return !Arrival(0, s, t_[0]); };
    size_t a = 0;
    for (size_t s = 1; s < s_; ++s) {
      if (At(0, s, entry(s)) < At(0, a, entry(a))) a = s;
    }
    plan.initial = places_[a];
    bool noticed = entry(a);
    plan.cost = At(0, a, noticed).cost;
    for (size_t i = 0; i < n_;) {
      const int16_t pick = noticed ? choice_[i * s_ + a] : unnoticed_.at(i * s_ + a).choice;
      if (pick == kStay) {
        ++i;
        continue;
      }
      const auto b = static_cast<size_t>(pick);
      Sec at;
      if (hit_[i * s_ + a]) {
        plan.relaunches.push_back({t_[i], places_[b]});
        at = costs_.RelaunchAt(agent_, places_[b], t_[i]);
      } else {
        plan.switches.push_back({t_[i], places_[b]});
        at = costs_.SwitchTimes(agent_, places_[b], t_[i]).traffic;
      }
      a = b;
      i = MomentAt(at, i);
      if (i < n_) noticed = !Arrival(t_[i] == at ? i : i - 1, b, at);
    }
    return plan;
  }

  const CostModel& costs_;
  uint64_t agent_;
  Sec phase_;  // of its polls
  std::vector<SeriesId> places_;
  std::vector<uint64_t> launch_keys_;  // by place
  std::vector<Sec> t_;                 // moments, then the end
  size_t n_, s_;
  // Row-major by moment: [i * s_ + s].
  std::vector<int64_t> price_;    // 0: not priced yet
  std::vector<Units> cum_;        // cost of running s from the start to t_i
  std::vector<uint8_t> hit_;      // t_i is an interruption of s
  std::vector<Sec> next_hit_;     // the first interruption of s after t_i
  std::vector<Sec> next_notice_;  // ... and its notice
  // The solution: values and choices of the noticed state, then of the unnoticed one.
  std::vector<Value> v_;
  std::vector<int16_t> choice_;
  absl::flat_hash_map<size_t, Slot> unnoticed_;
  // Scratch of one moment: where a switch decided then lands, and what that is worth.
  std::vector<Sec> land_;
  std::vector<Value> land_value_;
};

class Oracle final : public Strategy {
 public:
  explicit Oracle(bool flexible) : flexible_(flexible) {}
  std::string name() const override { return flexible_ ? "oracle-flex" : "oracle"; }
  bool flexible() const override { return flexible_; }

  absl::Status Prepare(const Scenario& sc) override {
    plans_.clear();
    for (const AgentSpec& a : sc.fleet) {
      plans_.push_back(
          PlanAgent(sc.costs, sc.interruptions, a.key, flexible_ ? a.flex_places : a.places));
    }
    return absl::OkStatus();
  }
  SeriesId Initial(const Decision& d) override { return plans_[d.agent].initial; }
  std::vector<Sec> Wakeups(size_t agent) const override {
    std::vector<Sec> out;
    for (const Plan::Action& a : plans_[agent].switches) out.push_back(a.at);
    return out;
  }
  std::optional<SeriesId> OnWakeup(const Decision& d) override {
    return Find(plans_[d.agent].switches, d.now);
  }
  SeriesId Relaunch(const Decision& d) override {
    // Off the plan only if the harness diverged from the cost model; the ledger check
    // against ExpectedCost then reports it.
    return Find(plans_[d.agent].relaunches, d.now).value_or(d.current);
  }
  std::optional<Units> ExpectedCost(size_t agent) const override { return plans_[agent].cost; }

 private:
  static std::optional<SeriesId> Find(const std::vector<Plan::Action>& actions, Sec at) {
    auto it = std::lower_bound(actions.begin(), actions.end(), at,
                               [](const Plan::Action& a, Sec t) { return a.at < t; });
    if (it == actions.end() || it->at != at) return std::nullopt;
    return it->target;
  }
  bool flexible_;
  std::vector<Plan> plans_;
};

}  // namespace

Plan PlanAgent(const CostModel& costs, const Interruptions& interruptions, uint64_t agent,
               std::span<const SeriesId> places) {
  return Program(costs, interruptions, agent, places).Solve();
}

std::unique_ptr<Strategy> MakeOracle(bool flexible) { return std::make_unique<Oracle>(flexible); }

}  // namespace spotopt::backtest
