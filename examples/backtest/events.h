// The events of a run and their order. Events at one moment run in the order of their
// kinds below, then in the order they were scheduled; the oracle's program assumes
// exactly this order (a landing before an interruption, an interruption before a
// poll, prices before any decision).
#ifndef SPOTOPT_EXAMPLES_BACKTEST_EVENTS_H_
#define SPOTOPT_EXAMPLES_BACKTEST_EVENTS_H_

#include <cstdint>
#include <queue>
#include <tuple>
#include <vector>

#include "market.h"

namespace spotopt::backtest {

enum class EventKind : uint8_t {
  kLanding,       // a new instance takes the placement (a switch's successor, a relaunch)
  kReplicaReady,  // a replica's instance runs
  kInterruption,  // a pool's capacity is reclaimed
  kPrices,        // the host imports the prices of a decision point
  kRebalance,     // a pool's rebalance recommendation
  kNotice,        // a pool's 2-minute termination notice
  kPoll,          // an agent polls its commands
  kReplicaPoll,   // an agent polls its replica launch work
  kDecide,        // a decision point: strategies look at what changed
  kWakeup,        // a moment a strategy asked for (or, deciding in the Controller, a
                  // moment a guard may have lifted)
  kDrainEnd,      // an old primary terminates itself and reports its switch
  kTick,          // the host's periodic work, where a time-driven rule is due
};

struct Event {
  Sec at = 0;
  EventKind kind = EventKind::kTick;
  int32_t agent = -1;   // the agent it concerns, if any
  int32_t series = -1;  // the pool it concerns, if any
  uint32_t epoch = 0;   // the agent's epoch when scheduled; a stale event is dropped
  int32_t index = -1;   // the pool's interruption, for signals and interruptions
  uint64_t seq = 0;     // set by the queue
};

class EventQueue {
 public:
  void Push(Event e) {
    e.seq = next_seq_++;
    heap_.push(e);
  }
  bool empty() const { return heap_.empty(); }
  Event Pop() {
    Event e = heap_.top();
    heap_.pop();
    return e;
  }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return std::tie(a.at, a.kind, a.seq) > std::tie(b.at, b.kind, b.seq);
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_EVENTS_H_
