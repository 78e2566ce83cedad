// A simulated agent v4 and the instances it runs, speaking to the real Controller as
// the deployed agent does. Only the calls whose answer or effect the strategy or the
// ledger can see are made (README: "What the simulation leaves out"): registration,
// command polls when a command is waiting, the successor's registration, the switch
// report, the signal routes, the replica poll when a replica is waiting and its
// reports, the shutdown heartbeat of a reclaimed instance and the relaunched
// instance's registration.
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
  bool relaunch = false;  // after an interruption, not a switch (or a promotion)
};

// What happened to one agent: its path (which the cost model prices, to check the
// ledger) and what the ledger does not count.
struct AgentOutcome {
  Path path;
  int switches = 0;
  int promotions = 0;        // replicas that took over
  int interruptions = 0;     // its primary was reclaimed
  int deadlines_missed = 0;  // ... after a 2-minute notice, with nothing taking over in time
  Sec downtime = 0;          // cutovers, and from each interruption to the takeover
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
  const Strategy& strategy() const { return strategy_; }
  // Moves the Controller's clock; every call after it happens at `at`.
  void SetNow(Sec at) { clock_.Set(ToTime(at)); }
  void Schedule(const Event& e) { queue_.Push(e); }
  std::string NewInstanceId() { return fmt::format("i-{:017x}", ++instances_); }

  // Where an agent may run under this strategy.
  std::span<const SeriesId> PlacesOf(const AgentSpec& spec) const;
  Decision Ask(const SimAgent& agent, Sec now) const;

  // The agents whose running primary (or replica) is in a pool: signals and
  // interruptions go there.
  const std::vector<int32_t>& Residents(SeriesId pool, bool replicas) const {
    return (replicas ? replica_residents_ : residents_)[pool];
  }
  void Arrive(int32_t agent, SeriesId pool, bool replica = false);
  void Leave(int32_t agent, SeriesId pool, bool replica = false);
  // The agent should be decided for at the next decision point.
  void MarkDirty(int32_t agent);
  std::vector<int32_t> TakeDirty();

  // Deciding in the Controller: the host's importer re-reads the prices of `places` at
  // `now` (what AWS republishes and the agents report every 5 minutes), so decisions
  // read fresh quotes. Each pool once per moment.
  absl::Status Refresh(std::span<const SeriesId> places, Sec now);
  // A price change of the pool was imported at `at` (Refresh skips it then).
  void Imported(SeriesId pool, Sec at) { refreshed_[pool] = at; }

 private:
  Controller& controller_;
  ManualClock& clock_;
  std::string tenant_;
  const Scenario& scenario_;
  Strategy& strategy_;
  EventQueue& queue_;
  uint64_t instances_ = 0;
  std::vector<std::vector<int32_t>> residents_;
  std::vector<std::vector<int32_t>> replica_residents_;
  std::vector<int32_t> dirty_;
  std::vector<uint8_t> is_dirty_;
  std::vector<Sec> refreshed_;  // by pool: when its price was last imported
};

class SimAgent {
 public:
  SimAgent(int32_t index, const AgentSpec& spec) : index_(index), spec_(spec) {}

  // Registers the first instance at the start, where the strategy launches it.
  absl::Status Launch(World& w, Sec now);
  // Asks the Controller for a switch, as an operator: priority 75, limits overridden.
  absl::Status Move(World& w, Sec now, SeriesId target);
  // The Controller queued a command for the agent: it polls at its next poll tick.
  void Queued(World& w, Sec now);

  absl::Status OnPoll(World& w, const Event& e);
  absl::Status OnLanding(World& w, const Event& e);
  absl::Status OnDrainEnd(World& w, const Event& e);
  absl::Status OnRebalance(World& w, const Event& e);
  absl::Status OnNotice(World& w, const Event& e, const Interruption& i);
  absl::Status OnInterruption(World& w, const Event& e);
  absl::Status OnReplicaPoll(World& w, const Event& e);
  absl::Status OnReplicaReady(World& w, const Event& e);
  // A signal or an interruption of the pool its replica runs in.
  absl::Status OnReplicaSignal(World& w, const Event& e);
  // After a Tick: a replica the Controller promoted takes over; a standby whose
  // emergency is over is retired.
  absl::Status AfterTick(World& w, Sec now);

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
    kPending,          // a switch is queued, not yet polled
    kInFlight,         // a switch is being executed
    kRelaunching,      // the primary was reclaimed; a new instance is on its way
    kAwaitingReplica,  // the primary was reclaimed; its replica is to be promoted
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
  // The agent's live replica as the harness knows it.
  struct Standby {
    std::string id;
    SeriesId pool = 0;
    std::string instance;      // empty until launched
    std::string registration;  // its agent's, once the instance runs
    Sec syncing_at = 0;        // when the ledger starts billing it
    Sec ready_at = 0;          // when its instance runs
    bool ready = false;
  };

  absl::Status Fail(std::string_view step, const absl::Status& s) const;
  RegisterRequest Registration(const World& w, const std::string& instance, SeriesId where) const;
  SwitchInstance Describe(const World& w, const std::string& instance, SeriesId where) const;
  bool Deciding(const World& w) const;
  // The old primary's switch report, as agent v4 sends it.
  absl::Status Report(World& w, const Draining& d, Sec now);
  // The new instance registers and takes the placement.
  absl::Status TakeOver(World& w, Sec now, SeriesId where);
  // The Controller moved the placement to the replica at `now`.
  absl::Status Promoted(World& w, Sec now);
  // create-emergency-replica requested a replica: the next replica poll launches it.
  void Requested(World& w, Sec now, const std::string& replica_id);
  // The replica stops being billed at `now` (promoted, failed or terminated).
  void EndReplica(World& w, Sec now);
  // Relaunches the workload after its primary was reclaimed with nothing on its way.
  void Relaunch(World& w, Sec now);
  // Wakes the harness when a guard on this agent's moves may lift.
  void ScheduleGuardEnds(World& w, Sec now, bool switched);

  int32_t index_;
  const AgentSpec& spec_;
  std::string agent_id_;      // the Controller's logical agent
  std::string registration_;  // of the primary instance; empty until its agent registers
  std::string instance_;      // the primary instance
  SeriesId at_ = 0;           // where the primary runs
  bool alive_ = true;         // the primary instance is running
  bool noticed_ = false;      // ... and has its 2-minute notice
  Sec deadline_ = 0;          // ... ending then
  Sec down_since_ = 0;        // when it was reclaimed
  Sec ready_at_ = 0;          // when the primary's instance runs (a promoted replica's)
  Phase phase_ = Phase::kIdle;
  uint32_t epoch_ = 0;  // bumps when the primary changes or dies
  // The switch under way.
  std::string command_id_;  // the operator's; empty when the Controller queued it
  SeriesId target_ = 0;
  std::string new_instance_;
  SwitchTimings timings_;
  int32_t launches_ = 0;  // numbers the switches and relaunches: only the last one lands
  std::deque<Draining> draining_;
  std::optional<Standby> replica_;
  AgentOutcome out_;
};

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_AGENT_H_
