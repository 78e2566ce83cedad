// The one model of what a move costs and how long it takes, shared by the simulated
// agents (which follow its timings) and the oracle (which optimises over it), so the
// oracle pays exactly the switching costs the strategies pay, and its plan, replayed
// through the Controller, costs exactly what the ledger says.
//
// A switch decided at t (enqueued at t):
//   poll     the agent's next command poll after t (every 15 s, at a seeded phase);
//   ready    poll + launch latency (seeded per agent, target and moment, 60-180 s);
//   traffic  ready + cutover (the agent's pause before it moves traffic): downtime.
//            The new instance's agent registers as the expected successor here, and
//            the placement (and the ledger's primary run) moves to it.
//   drain    the old instance runs on for the terminate wait, then terminates itself.
// A relaunch after an interruption without a replica: the new instance, in the pool
// the strategy chose at the interruption, registers (re-home) after the launch latency.
//
// Billing follows the ledger (src/service, "run segments"):
//   - a primary is billed at its series' price from the moment the placement moves to
//     it until it moves away, with the on-demand price of its type as the baseline;
//   - except that a primary reclaimed at the deadline of a termination notice it had
//     stops costing at the deadline (the re-home, a late promotion or the Tick that
//     closes the failed incident ends its run there): the downtime until the next
//     primary costs nothing and has no baseline. A primary reclaimed without a notice
//     (it arrived in the pool after the notice went out) is billed until the re-home;
//   - an old primary is billed while it drains after a switch (a `drain` run segment,
//     from the move to the end of the command's terminate wait), with no baseline, even
//     when it was reclaimed before its successor registered (the ledger cannot tell);
//   - a replica is billed from when its instance is reported (SYNCING) until it is
//     promoted, fails or is terminated, with no baseline.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_COST_MODEL_H_
#define SPOTOPT_EXAMPLES_BACKTEST_COST_MODEL_H_

#include <optional>
#include <vector>

#include "market.h"

namespace spotopt::backtest {

struct Timing {
  uint64_t seed = 1;
  Sec poll_interval = 15;
  Sec launch_min = 60;
  Sec launch_max = 180;
  Sec cutover = 2;                 // agent v4 sleeps 2 s between ready and traffic switched
  Sec terminate_wait = 300;        // the agents' terminate wait (auto-terminate on)
  Sec replica_poll_interval = 30;  // agent v4's replica poll, fixed
};

// Where an agent's primary ran: `series` from `from` until the next leg (or the end),
// or until `until` when the ledger stopped billing it earlier (reclaimed at its
// deadline).
struct Leg {
  Sec from = 0;
  SeriesId series = 0;
  std::optional<Sec> until;
  friend bool operator==(const Leg&, const Leg&) = default;
};
// An instance billed beside the primary, without baseline, over [from, to): an old
// primary draining after a switch, or a replica.
struct Extra {
  SeriesId series = 0;
  Sec from = 0;
  Sec to = 0;
};
struct Path {
  std::vector<Leg> legs;
  std::vector<Extra> drains;
  std::vector<Extra> replicas;
};

class CostModel {
 public:
  CostModel(const Market& market, Timing timing) : market_(market), timing_(timing) {}

  const Market& market() const { return market_; }
  const Timing& timing() const { return timing_; }

  // The agent's first command poll strictly after t.
  Sec NextPoll(uint64_t agent, Sec t) const { return NextPollAt(PollPhase(agent), t); }
  // The agent's first replica poll strictly after t.
  Sec NextReplicaPoll(uint64_t agent, Sec t) const;
  // Seconds from launching an instance in `target` at `at` until it runs.
  Sec Launch(uint64_t agent, SeriesId target, Sec at) const {
    return LaunchFrom(LaunchKey(agent, target), at);
  }
  // The same in two steps, for the oracle's inner loop: the agent's poll phase in
  // [0, poll_interval), and the part of a launch draw fixed by (agent, target).
  Sec PollPhase(uint64_t agent) const;
  Sec NextPollAt(Sec phase, Sec t) const;
  uint64_t LaunchKey(uint64_t agent, SeriesId target) const;
  Sec LaunchFrom(uint64_t key, Sec at) const;

  struct Switch {
    Sec poll, ready, traffic;
  };
  Switch SwitchTimes(uint64_t agent, SeriesId target, Sec decided) const;
  // When a relaunch in `target` after an interruption at `at` takes the placement.
  Sec RelaunchAt(uint64_t agent, SeriesId target, Sec at) const {
    return at + Launch(agent, target, at);
  }

  // What the ledger bills for running `series` as the primary over [a, b).
  Units Run(SeriesId series, Sec a, Sec b) const { return market_.Integral(series, a, b); }
  // What an extra instance costs up to `end`.
  Units ExtraCost(const Extra& x, Sec end) const;
  // The drain of `old` after a switch that moved the placement away at `moved`.
  Extra DrainOf(SeriesId old, Sec moved) const {
    return Extra{old, moved, moved + timing_.terminate_wait};
  }

  // What a path costs up to `end`, and what on-demand would have cost over the same
  // time (the ledger's baseline: the on-demand price of each leg's type, over the time
  // the leg is billed).
  Units Cost(const Path& path, Sec end) const;
  Units Baseline(const Path& path, Sec end) const;

 private:
  const Market& market_;
  Timing timing_;
};

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_COST_MODEL_H_
