// A simulated agent v4 and the instances it runs, speaking to the real Controller as
// the deployed agent does. Only the calls whose answer or effect the strategy or the
// ledger can see are made (README: "What the simulation leaves out"): registration,
// command polls when a command is waiting, the successor's registration, the switch
// report, the signal routes, the shutdown heartbeat of a reclaimed instance and the
// relaunched instance's registration.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_AGENT_H_
#define SPOTOPT_EXAMPLES_BACKTEST_AGENT_H_

#include <deque>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "events.h"
#include "spotopt/clock.h"
#include "spotopt/service/controller.h"
#include "strategy.h"

namespace spotopt::backtest {

// A placement change as the harness saw it.
struct MoveRecord {
  Sec at = 0;  // when the placement moved
  SeriesId from = 0;
  SeriesId to = 0;
  bool relaunch = false;  // after an interruption, not a switch
};

// What happened to one agent: its path (which the cost model prices, to check the
// ledger) and what the ledger does not count.
struct AgentOutcome {
  Path path;
  int switches = 0;
  int interruptions = 0;     // its primary was reclaimed
  int deadlines_missed = 0;  // ... after a 2-minute notice, with nothing taking over in time
  Sec downtime = 0;          // cutovers, and from each interruption to the relaunch
  std::vector<MoveRecord> moves;
};

class SimAgent;

// What the agents of one run share: the Controller and its clock, the strategy, the
// event queue, and which agents run in which pool.
class World {
 public:
  World(Controller& controller, ManualClock& clock, std::string tenant, const Scenario& scenario,
        Strategy& strategy, EventQueue& queue);

  Controller& controller() { return controller_; }
  const std::string& tenant() const { return tenant_; }
  const Scenario& scenario() const { return scenario_; }
  Strategy& strategy() { return strategy_; }
  // Moves the Controller's clock; every call after it happens at `at`.
  void SetNow(Sec at) { clock_.Set(ToTime(at)); }
  void Schedule(const Event& e) { queue_.Push(e); }
  std::string NewInstanceId() { return fmt::format("i-{:017x}", ++instances_); }

  // Where an agent may run under this strategy.
  std::span<const SeriesId> PlacesOf(const AgentSpec& spec) const;
  Decision Ask(const SimAgent& agent, Sec now) const;

  // The agents whose running primary is in a pool (signals and interruptions go there).
  const std::vector<int32_t>& Residents(SeriesId pool) const { return residents_[pool]; }
  void Arrive(int32_t agent, SeriesId pool) { residents_[pool].push_back(agent); }
  void Leave(int32_t agent, SeriesId pool);
  // The agent should be asked about prices at the next decision point.
  void MarkDirty(int32_t agent);
  std::vector<int32_t> TakeDirty();

 private:
  Controller& controller_;
  ManualClock& clock_;
  std::string tenant_;
  const Scenario& scenario_;
  Strategy& strategy_;
  EventQueue& queue_;
  uint64_t instances_ = 0;
  std::vector<std::vector<int32_t>> residents_;
  std::vector<int32_t> dirty_;
  std::vector<uint8_t> is_dirty_;
};

class SimAgent {
 public:
  SimAgent(int32_t index, const AgentSpec& spec) : index_(index), spec_(spec) {}

  // Registers the first instance at the start, where the strategy launches it.
  absl::Status Launch(World& w, Sec now);
  // Asks the Controller for a switch, as an operator: priority 75, limits overridden.
  absl::Status Move(World& w, Sec now, SeriesId target);

  absl::Status OnPoll(World& w, const Event& e);
  absl::Status OnLanding(World& w, const Event& e);
  absl::Status OnDrainEnd(World& w, const Event& e);
  absl::Status OnRebalance(World& w, const Event& e);
  absl::Status OnNotice(World& w, const Event& e, const Interruption& i);
  absl::Status OnInterruption(World& w, const Event& e);

  int32_t index() const { return index_; }
  const AgentSpec& spec() const { return spec_; }
  const std::string& agent_id() const { return agent_id_; }
  SeriesId at() const { return at_; }
  bool idle() const { return phase_ == Phase::kIdle; }
  uint32_t epoch() const { return epoch_; }
  const AgentOutcome& outcome() const { return out_; }

 private:
  enum class Phase {
    kIdle,
    kPending,      // a switch is enqueued, not yet polled
    kInFlight,     // a switch is being executed
    kRelaunching,  // the primary was reclaimed; a new instance is on its way
  };
  // An old primary draining after its switch, to report the switch when it ends.
  struct Draining {
    std::string registration;
    std::string instance;
    SeriesId at;
    SeriesId target;
    std::string new_instance;
    SwitchTimings timings;
  };

  absl::Status Fail(std::string_view step, const absl::Status& s) const;
  RegisterRequest Registration(const World& w, const std::string& instance, SeriesId where) const;
  SwitchInstance Describe(const World& w, const std::string& instance, SeriesId where) const;
  // The new instance registers and takes the placement.
  absl::Status TakeOver(World& w, Sec now, SeriesId where);
  void Moved(World& w, Sec now, SeriesId to, bool relaunch);

  int32_t index_;
  const AgentSpec& spec_;
  std::string agent_id_;      // the Controller's logical agent
  std::string registration_;  // of the primary instance
  std::string instance_;      // the primary instance
  SeriesId at_ = 0;           // where the primary runs
  bool alive_ = true;         // the primary instance is running
  bool noticed_ = false;      // ... and has its 2-minute notice
  Sec down_since_ = 0;        // when it was reclaimed
  Phase phase_ = Phase::kIdle;
  uint32_t epoch_ = 0;  // bumps when the primary changes or dies
  // The switch under way.
  std::string command_id_;
  SeriesId target_ = 0;
  std::string new_instance_;
  SwitchTimings timings_;
  std::deque<Draining> draining_;
  AgentOutcome out_;
};

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_AGENT_H_
