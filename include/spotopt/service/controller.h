// Controller: the service facade. One method per use case; each runs in exactly one
// store transaction, so a failure leaves the state fully before or fully after.
//
// Thread safety: a Controller may be called from any number of threads at once. The
// store serializes writers; the Controller's own state is caches and snapshots
// behind locks (authentication, the Spot Advisor feed, when retention last ran).
//
// Tenancy: every call names the tenant it acts for. An id that belongs to another
// tenant is answered exactly like an unknown id (NotFound) and changes nothing.
//
// Errors are absl::Status with canonical codes: InvalidArgument (bad input),
// NotFound, FailedPrecondition (illegal state transition or guard), AlreadyExists,
// Unauthenticated / PermissionDenied (tokens, suspended tenant), Unavailable (store
// busy). Every refused call changes nothing.
#ifndef SPOTOPT_SERVICE_CONTROLLER_H_
#define SPOTOPT_SERVICE_CONTROLLER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "spotopt/clock.h"
#include "spotopt/decision/decision.h"
#include "spotopt/decision/record.h"
#include "spotopt/decision/registry.h"
#include "spotopt/ledger/ledger.h"
#include "spotopt/pricing/advisor.h"
#include "spotopt/pricing/sef.h"
#include "spotopt/store/store.h"

namespace spotopt {

struct ControllerOptions {
  // Liveness: stale after offline_after / 2 without a heartbeat, offline after it.
  Duration offline_after = absl::Seconds(120);
  // How long a rotated-out token keeps working.
  Duration token_grace = absl::Hours(24);
  // Lease of a delivered switch: its terminate wait plus this.
  Duration switch_lease_extra = absl::Seconds(900);
  Duration create_replica_lease = absl::Seconds(900);
  // A delivered placement command still names the expected successor this long after
  // it closed (plus its terminate wait).
  Duration successor_window = absl::Minutes(30);
  Duration replica_requested_timeout = absl::Minutes(15);
  Duration replica_launch_timeout = absl::Minutes(10);
  Duration replica_sync_timeout = absl::Minutes(20);
  Duration rebalance_incident_close = absl::Hours(2);
  // manual_standby upkeep: at most this many replica requests per agent per hour.
  int standby_requests_per_hour = 3;
  // A collected_at further ahead of the server clock than this is not believed.
  Duration max_clock_skew = absl::Minutes(5);
  // A spot price observed longer ago than this does not qualify a pool for an
  // emergency replica or a rebalance move.
  Duration fresh_price = absl::Minutes(15);
  // The price pipeline: bucket width, gap and fill limits (spotopt/pricing/sef.h).
  sef::Options sef;
  // Raw price observations older than this are thinned by Tick to the ones that
  // decide a bucket (at most one per source), so clean series and the ledger keep
  // their history while the raw rows shrink ~to one per bucket.
  Duration raw_price_retention = absl::Hours(24 * 14);
  // Price history older than this is deleted outright.
  Duration price_history_retention = absl::Hours(24 * 400);
  // Authenticate keeps a verified token's tenant this long. A suspension, deletion
  // or token rotation made through this Controller applies at once; one made by
  // another Controller or process sharing the store is seen here within this long.
  // Zero: every call reads the store.
  Duration auth_cache_ttl = absl::Seconds(5);
  // Decisions: interruption signals from a pool count toward its risk this long.
  Duration signal_window = absl::Hours(24);
  // The decision log keeps this much history (and always each agent's latest entry).
  Duration decision_retention = absl::Hours(24 * 90);
  // The fleet run writes its log entries and commands in transactions of this many
  // agents, so a large fleet never holds the write lock for long.
  int decisions_per_write = 500;
};

// ---- Inputs ----------------------------------------------------------------

struct RegisterRequest {
  std::string logical_id;  // empty: the instance id (fallback identity)
  std::string instance_id;
  std::string region;
  InstanceFacts facts;  // instance_type, az, mode, ... ; empty = unknown
};

struct HeartbeatReport {
  HeartbeatStatus status = HeartbeatStatus::kOnline;
  std::string instance_id;    // empty = not sent
  std::string instance_type;  // empty = not sent
  std::string az;             // empty = not sent
};

struct SwitchRequest {
  Mode target_mode = Mode::kSpot;
  std::string target_pool_id;  // required for spot: "<instance_type>.<az>"
  Priority priority = Priority::kManual;
  std::string reason;
  std::string requested_by;
  // Manual switches only: skip the config's limits, recorded on the command.
  bool override_limits = false;
  std::optional<Duration> ttl;  // default: per priority class
  // What the decision engine expects of the target; automatic switches must carry
  // both and pass the config's min_savings_percent and risk_threshold.
  std::optional<double> expected_savings_percent;
  std::optional<double> target_risk;
};

struct ReplicaRequest {
  std::string pool_id;  // empty: the primary's pool
  std::string replica_type = "manual";
  std::string requested_by;
};

// What the agent posts about a replica's progress (section 5.10).
enum class ReplicaReport { kLaunching, kSyncing, kReady, kFailed, kTerminated };
SPOTOPT_EXPORT absl::StatusOr<ReplicaReport> ParseReplicaReport(std::string_view text);

struct SignalReport {
  Signal signal = Signal::kTerminationNotice;
  std::string instance_id;          // empty: the registration's instance
  std::optional<Time> notice_time;  // termination time, for termination notices
  std::optional<Time> detected_at;  // as the agent saw it
};

// A price as the wire carried it: a JSON number, a decimal string, or nothing
// (null or absent: unknown). The Controller validates it (protocol section 4).
using ReportedPrice = std::variant<std::monostate, double, std::string>;

// One `pricing.spot_pools[]` entry; pool_id must agree with instance_type and az
// (either of those may be empty: taken from the pool id).
struct SpotPoolPrice {
  std::string pool_id;
  std::string instance_type;
  std::string az;
  ReportedPrice price;
};

// The pricing report (protocol section 5.6). The agent's `cheapest_pool` is not
// taken: the server derives it.
inline constexpr size_t kMaxSpotPools = 512;
struct PricingReport {
  std::string instance_type;  // instance.instance_type; empty: the registration's
  ReportedPrice on_demand_price;
  ReportedPrice current_spot_price;  // validated only: its pool is in spot_pools
  std::vector<SpotPoolPrice> spot_pools;
  std::optional<Time> collected_at;
};

// One side of a switch report; empty strings are unknown.
struct SwitchInstance {
  std::string instance_id;
  std::string instance_type;
  std::string region;
  std::string az;
  std::string ami_id;
  std::optional<Mode> mode;
  std::string pool_id;
};

// The switch report (protocol section 5.7) with the alias spellings of section 9
// already resolved by the protocol layer.
struct SwitchReport {
  SwitchInstance old_instance;
  SwitchInstance new_instance;
  ReportedPrice on_demand_price;
  ReportedPrice old_spot_price;
  ReportedPrice new_spot_price;
  SwitchTimings timings;
  std::string trigger;
  std::string command_id;  // empty: correlate by target
};

// POST replicas (protocol section 5.11): an instance the agent already launched.
struct ReplicaInstanceReport {
  std::string instance_id;
  std::string parent_instance_id;  // empty = not sent
  std::string pool_id;             // empty = not sent
  std::string replica_type = "manual";
  ReplicaReport status = ReplicaReport::kLaunching;  // launching or syncing
};

// The cleanup report (protocol section 5.15); a section may be an error variant.
struct CleanupReport {
  std::optional<CleanupSection> snapshots;
  std::optional<CleanupSection> amis;
  std::optional<Time> timestamp;
};
inline constexpr size_t kMaxCleanupIds = 10'000;

// ---- Outputs ---------------------------------------------------------------

struct CreatedTenant {
  Tenant tenant;
  std::string token;  // plaintext, shown once; only its salted hash is stored
};

struct RegistrationView {
  Registration registration;
  Role role = Role::kOther;
  Liveness liveness = Liveness::kOffline;
};

struct AgentView {
  Agent agent;
  Liveness liveness = Liveness::kOffline;  // of the registration on the primary
  int live_replicas = 0;                   // counted, never stored
  std::vector<RegistrationView> registrations;
};

// An agent's config with its live replica count (counted, never stored).
struct ConfigView {
  AgentConfig config;
  int live_replicas = 0;
};

struct RegisterResult {
  RegistrationView registration;
  Agent agent;
  bool created = false;  // a new registration (the wire answers 201)
};

struct SignalResult {
  Incident incident;
  bool repeat = false;  // the same signal was seen before
};

// POST replicas: the replica the instance is bound to.
struct ReplicaBinding {
  Replica replica;
  bool created = false;  // bound or created now (the wire answers 201), not a repeat
};

// The answer of create-emergency-replica (protocol section 5.12).
struct EmergencyReplicaResult {
  bool success = false;
  bool created = false;  // a replica was requested by this call (the wire answers 201)
  std::string error;     // when !success
  std::string message;
  std::string incident_id;
  std::string urgency;  // critical (termination) | high (rebalance)
  std::optional<Replica> replica;
};

// The answer of termination-imminent (protocol section 5.13).
struct TerminationResult {
  bool success = false;
  std::string error;    // when !success
  std::string message;  // when success
  std::string action;   // replica_promoted | none
  std::string incident_id;
  std::string replica_id;       // the promoted replica, or the one still on its way
  std::string new_instance_id;  // the new primary
  bool forced = false;          // a SYNCING replica was promoted with force
  std::optional<Time> deadline;
};

// The answer of rebalance-recommendation (protocol section 5.14).
struct RebalanceResult {
  std::string action;  // replica | switch | monitor
  std::string reason;
  std::string incident_id;
  std::string replica_id;          // action replica
  std::optional<Command> command;  // action switch: PENDING or LEASED
};

struct CleanupResult {
  CleanupLog log;
  int64_t deleted_snapshots = 0;
  int64_t deleted_amis = 0;
  int64_t failed = 0;
};

// A price of a report that was refused; the report's other prices were kept.
struct RefusedPrice {
  std::string field;  // e.g. "pricing.spot_pools[2].price"
  PriceError reason;
  friend bool operator==(const RefusedPrice&, const RefusedPrice&) = default;
};

struct PriceIngest {
  int accepted = 0;
  std::vector<RefusedPrice> refused;
};

// A price an operator imports: a spot pool's (az set) or an on-demand one (az empty)
// in effect from `at`. Stored with source catalog.
struct CatalogPrice {
  Pool pool;
  Money price;
  Time at;
};

// How a pool's clean series is read (the raw one is ListPriceObservations).
enum class SeriesView {
  kClean,         // one value per measured bucket
  kInterpolated,  // measured buckets plus interpolated ones, marked
};

// The newest clean price of a series and how old it is.
struct LatestPrice {
  Pool pool;  // az empty: on-demand
  sef::CleanPoint point;
  Time observed_at;
  Duration age;
};

// One candidate pool of a market view.
struct MarketPool {
  Pool pool;
  std::optional<LatestPrice> latest;  // absent: no observation yet
  double volatility_hour = 0;         // std deviation / mean of measured buckets, last hour
  double volatility_day = 0;          // same over the last 24 h
  // Interruption signals the tenant's agents reported from the pool within
  // ControllerOptions::signal_window, and the interruption risk (0..1) the decision
  // engines and the risk ceiling see for it (decision::Risk).
  int terminations = 0;
  int rebalances = 0;
  double risk = 0;
};

// Everything known about one (region, instance type) market.
struct MarketView {
  std::string region;
  std::string instance_type;
  std::vector<MarketPool> pools;  // by AZ
  std::optional<LatestPrice> on_demand;
  std::optional<AdvisorEntry> advisor;  // Linux entry of the loaded Advisor feed
};

// Controller::Decide: the decision the tenant's engine makes now, and what it saw.
struct DecisionPreview {
  decision::DecisionInput input;
  decision::Decision decision;
  std::string engine_asked;  // the tenant's engine, "name version"
  std::string fallback;      // why another engine answered; empty when it did not
};

// What one fleet run did (Controller::RunDecisions).
struct DecisionRunReport {
  int tenants = 0;
  int agents = 0;     // decided for
  int skipped = 0;    // auto-switch agents with no market to decide in (unknown type)
  int logged = 0;     // decision log entries written (changes and actions)
  int acted = 0;      // switches queued, replicas requested or promoted
  int held = 0;       // decisions a guard held back
  int refused = 0;    // actions the queue or the records refused when written
  int fallbacks = 0;  // decisions made by another engine than the tenant's
  friend bool operator==(const DecisionRunReport&, const DecisionRunReport&) = default;
};

// Which agents a fleet run decides for. A host that knows what changed (a pricing
// report, a completed switch, a backtest's price step) decides for just those agents
// instead of the whole fleet.
struct DecisionScope {
  std::string tenant_id;               // empty: every active tenant
  std::vector<std::string> agent_ids;  // empty: every agent (of tenant_id, if given)
};

// A page of the decision log, newest first: entries with seq < before_seq (0: from
// the newest), at most `limit` (1..1000).
struct DecisionPage {
  int64_t before_seq = 0;
  size_t limit = 100;
};

// A tenant's decision engines: the active one (the built-in rules until another is
// activated) and the one a rollback restores.
struct TenantEngines {
  EngineRef active;
  std::optional<EngineRef> previous;
  friend bool operator==(const TenantEngines&, const TenantEngines&) = default;
};

struct TickReport {
  int commands_expired = 0;
  int replicas_failed = 0;
  int replicas_requested = 0;
  int incidents_closed = 0;      // quiet rebalance incidents
  int replicas_promoted = 0;     // post-deadline recovery
  int instances_terminated = 0;  // old primaries past their deadline, now offline
  // Termination incidents finished: failed over, or failed with nothing to promote.
  int terminations_closed = 0;
  int64_t price_observations_pruned = 0;  // retention
  int64_t decisions_pruned = 0;           // decision log retention
  friend bool operator==(const TickReport&, const TickReport&) = default;
};

class SPOTOPT_EXPORT Controller {
 public:
  Controller(std::shared_ptr<Store> store, std::shared_ptr<const Clock> clock,
             ControllerOptions options = {});
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const ControllerOptions& options() const { return options_; }
  Store& store() { return *store_; }

  // ---- Tenants and tokens ----
  absl::StatusOr<CreatedTenant> CreateTenant(std::string_view name);
  absl::StatusOr<Tenant> GetTenant(std::string_view tenant_id);
  absl::StatusOr<std::vector<Tenant>> ListTenants();
  absl::Status SuspendTenant(std::string_view tenant_id);
  absl::Status ReactivateTenant(std::string_view tenant_id);
  // Final: the tenant's tokens stop working; its records stay for the operator.
  absl::Status DeleteTenant(std::string_view tenant_id);
  // Issues a new token; the current ones keep working for `token_grace`.
  absl::StatusOr<std::string> RotateToken(std::string_view tenant_id);
  // Resolves a plaintext token to its tenant in constant time per candidate.
  // Unauthenticated: empty, malformed, unknown, expired token or deleted tenant.
  // PermissionDenied: the tenant is suspended. Answers for verified tokens are
  // cached for `auth_cache_ttl` (see ControllerOptions).
  absl::StatusOr<Tenant> Authenticate(std::string_view token);

  // ---- Agents and registrations ----
  // Section 3.3 of the agent protocol: find or create the logical agent and the
  // registration for (agent, instance); moves the placement only for an expected
  // successor or a re-home, else records an identity conflict.
  absl::StatusOr<RegisterResult> Register(std::string_view tenant_id,
                                          const RegisterRequest& request);
  // Records the beat (server clock) and returns the agent's config as of it. A beat
  // that only renews liveness is a read transaction plus Store::TouchRegistration,
  // which a store may hold briefly; a status change, new facts or a conflict are
  // written at once.
  absl::StatusOr<AgentConfig> Heartbeat(std::string_view tenant_id,
                                        std::string_view registration_id,
                                        const HeartbeatReport& report);
  absl::StatusOr<RegistrationView> GetRegistration(std::string_view tenant_id,
                                                   std::string_view registration_id);
  absl::StatusOr<AgentView> GetAgent(std::string_view tenant_id, std::string_view agent_id);
  absl::StatusOr<std::vector<AgentView>> ListAgents(std::string_view tenant_id);
  absl::Status SetEnabled(std::string_view tenant_id, std::string_view agent_id, bool enabled);
  // Final. Cancels every open command and retires every live replica atomically.
  absl::Status DeleteAgent(std::string_view tenant_id, std::string_view agent_id);
  absl::StatusOr<std::vector<AgentEvent>> ListEvents(std::string_view tenant_id,
                                                     std::string_view agent_id);

  // ---- Config ----
  absl::StatusOr<AgentConfig> GetConfig(std::string_view tenant_id, std::string_view agent_id);
  // The config as the registration's agent sees it (the wire's GET config).
  absl::StatusOr<ConfigView> GetConfigForRegistration(std::string_view tenant_id,
                                                      std::string_view registration_id);
  // `expected_version`, when given, must equal the current version (optimistic
  // concurrency for operators); else FailedPrecondition.
  absl::StatusOr<AgentConfig> UpdateConfig(std::string_view tenant_id, std::string_view agent_id,
                                           const AgentConfigPatch& patch,
                                           std::optional<int64_t> expected_version = {});

  // ---- Commands ----
  absl::StatusOr<Command> EnqueueSwitch(std::string_view tenant_id, std::string_view agent_id,
                                        const SwitchRequest& request);
  // Reserves a replica record (REQUESTED, launch path "command") in the same
  // transaction, so the one-live-replica rule holds while the agent works.
  absl::StatusOr<Command> EnqueueCreateReplica(std::string_view tenant_id,
                                               std::string_view agent_id,
                                               const ReplicaRequest& request);
  // The command poll: leases and returns the best deliverable command, or nothing.
  // A command is returned at most once, ever.
  absl::StatusOr<std::optional<Command>> PollCommand(std::string_view tenant_id,
                                                     std::string_view registration_id);
  // The acknowledgement. The lease is (command, registration): a command leased to
  // another registration or never delivered is FailedPrecondition; a repeat of an
  // ack is recorded and changes nothing.
  absl::StatusOr<Command> AckCommand(std::string_view tenant_id, std::string_view registration_id,
                                     std::string_view command_id, bool success,
                                     std::string_view message);
  absl::StatusOr<Command> CancelCommand(std::string_view tenant_id, std::string_view agent_id,
                                        std::string_view command_id, std::string_view reason);
  absl::StatusOr<Command> GetCommand(std::string_view tenant_id, std::string_view command_id);
  absl::StatusOr<std::vector<Command>> ListCommands(std::string_view tenant_id,
                                                    std::string_view agent_id);

  // ---- Replicas ----
  // Requests a standby through the replica listing (REQUESTED, launched by the
  // primary's next replica poll).
  absl::StatusOr<Replica> RequestReplica(std::string_view tenant_id, std::string_view agent_id,
                                         const ReplicaRequest& request);
  // The replica poll with status=launching: leases the agent's REQUESTED listing
  // replicas to the primary registration (REQUESTED -> LAUNCHING) and returns them.
  absl::StatusOr<std::vector<Replica>> LeaseReplicaLaunches(std::string_view tenant_id,
                                                            std::string_view registration_id);
  // The agent reports the real instance of a launched replica (PUT replica).
  absl::StatusOr<Replica> ReportReplicaInstance(std::string_view tenant_id,
                                                std::string_view registration_id,
                                                std::string_view replica_id,
                                                std::string_view instance_id, ReplicaReport status);
  absl::StatusOr<Replica> ReportReplicaStatus(std::string_view tenant_id,
                                              std::string_view registration_id,
                                              std::string_view replica_id, ReplicaReport status,
                                              std::optional<Time> at, std::string_view error);
  // Moves the placement to the replica's instance atomically; commands issued for
  // the old primary are cancelled. `force` allows a SYNCING replica (termination).
  absl::StatusOr<Replica> PromoteReplica(std::string_view tenant_id, std::string_view agent_id,
                                         std::string_view replica_id, bool force = false);
  // Retires a replica: TERMINATING until someone confirms the instance is gone.
  absl::StatusOr<Replica> TerminateReplica(std::string_view tenant_id, std::string_view agent_id,
                                           std::string_view replica_id);
  absl::StatusOr<std::vector<Replica>> ListReplicas(std::string_view tenant_id,
                                                    std::string_view agent_id);

  // ---- Interruption signals ----
  // Upserts the incident keyed (agent, instance, signal, notice time); a repeat
  // updates last_seen and returns the same incident.
  absl::StatusOr<SignalResult> RecordSignal(std::string_view tenant_id,
                                            std::string_view registration_id,
                                            const SignalReport& report);
  absl::StatusOr<std::vector<Incident>> ListIncidents(std::string_view tenant_id,
                                                      std::string_view agent_id);
  // create-emergency-replica: upserts the incident, then names the live replica or
  // requests one in the cheapest other-AZ pool with a fresh spot price. Business
  // refusals are success = false, never an error; a repeat gives the same answer.
  absl::StatusOr<EmergencyReplicaResult> CreateEmergencyReplica(std::string_view tenant_id,
                                                                std::string_view registration_id,
                                                                const SignalReport& report);
  // termination-imminent: promotes a READY replica, or force-promotes a SYNCING one
  // with an instance id before the deadline; records the incident's phases.
  absl::StatusOr<TerminationResult> TerminationImminent(std::string_view tenant_id,
                                                        std::string_view registration_id,
                                                        const SignalReport& report);
  // rebalance-recommendation: replica, switch (a priority-100 switch is PENDING or
  // LEASED) or monitor.
  absl::StatusOr<RebalanceResult> RebalanceRecommendation(std::string_view tenant_id,
                                                          std::string_view registration_id,
                                                          const SignalReport& report);

  // ---- Agent reports ----
  // Stores one observation per priced pool plus the on-demand one, with source
  // primary when the registration is the agent's primary, else replica. A price that
  // is not a valid price (PriceError) refuses only its own observation and is listed
  // in the result; a malformed report (pool ids, collected_at, too many pools) is
  // InvalidArgument and stores nothing.
  absl::StatusOr<PriceIngest> ReportPrices(std::string_view tenant_id,
                                           std::string_view registration_id,
                                           const PricingReport& report);
  absl::StatusOr<std::vector<PriceObservation>> ListLatestPrices(std::string_view tenant_id,
                                                                 std::string_view region,
                                                                 std::string_view instance_type);
  // Creates or completes the switch record and, from the primary, moves the
  // placement (protocol section 5.7).
  absl::StatusOr<SwitchRecord> ReportSwitch(std::string_view tenant_id,
                                            std::string_view registration_id,
                                            const SwitchReport& report);
  absl::StatusOr<std::vector<SwitchRecord>> ListSwitches(std::string_view tenant_id,
                                                         std::string_view agent_id);
  // POST replicas: binds the instance to the replica reserved for a create_replica
  // command leased to the registration, or creates a manual_standby replica. A
  // refusal (FailedPrecondition) still records the instance as an orphan.
  absl::StatusOr<ReplicaBinding> ReportReplicaLaunch(std::string_view tenant_id,
                                                     std::string_view registration_id,
                                                     const ReplicaInstanceReport& report);
  // Records the cleanup log and the registration's last cleanup time. Error
  // variants are recorded, never refused.
  absl::StatusOr<CleanupResult> ReportCleanup(std::string_view tenant_id,
                                              std::string_view registration_id,
                                              const CleanupReport& report);
  absl::StatusOr<std::vector<CleanupLog>> ListCleanupLogs(std::string_view tenant_id,
                                                          std::string_view agent_id);

  // ---- Prices (spotopt/pricing/sef.h) ----
  // Imports prices an operator trusts (a price list, AWS's price history) with source
  // catalog, all or nothing, in one transaction; returns how many were stored. A
  // catalog on-demand price outranks any an agent reports.
  absl::StatusOr<int64_t> ImportPrices(std::string_view tenant_id,
                                       const std::vector<CatalogPrice>& prices);
  // Raw observations of one series (pool.az empty: on-demand) with
  // from <= observed_at < to, by observed_at then seq. Here and below, an infinite
  // `from` or `to` (absl::InfinitePast/InfiniteFuture) leaves that end open.
  absl::StatusOr<std::vector<PriceObservation>> ListPriceObservations(std::string_view tenant_id,
                                                                      const Pool& pool, Time from,
                                                                      Time to);
  // The clean series of buckets starting in [from, to): measured only (kClean) or
  // with interpolated buckets marked (kInterpolated).
  absl::StatusOr<std::vector<sef::CleanPoint>> PriceSeries(std::string_view tenant_id,
                                                           const Pool& pool, Time from, Time to,
                                                           SeriesView view);
  // The gaps of a series whose measured buckets start in [from, to).
  absl::StatusOr<std::vector<sef::Gap>> PriceGaps(std::string_view tenant_id, const Pool& pool,
                                                  Time from, Time to);
  // The newest clean price of every series of the tenant, by region, type, AZ.
  absl::StatusOr<std::vector<LatestPrice>> LatestCleanPrices(std::string_view tenant_id);
  // The candidate pools of (region, instance type) with their latest price, age,
  // volatility, interruption signals and risk, and the Advisor band.
  absl::StatusOr<MarketView> Market(std::string_view tenant_id, std::string_view region,
                                    std::string_view instance_type);
  // Replaces the Spot Advisor feed (shared by all tenants) with a newer one, at run
  // time; readers see the old feed or the new one, never a mix. Returns its entries.
  absl::StatusOr<size_t> LoadAdvisorFeed(std::string_view json_text);
  std::shared_ptr<const AdvisorFeed> advisor_feed() const;

  // ---- Savings ledger (spotopt/ledger/ledger.h) ----
  // The cost intervals of one agent, or of every agent of the tenant when agent_id
  // is empty, up to now: runs of primaries and replicas and switch downtimes.
  absl::StatusOr<std::vector<ledger::CostInterval>> CostIntervals(std::string_view tenant_id,
                                                                  std::string_view agent_id);
  // Daily, monthly or lifetime figures over those intervals (UTC).
  absl::StatusOr<std::vector<ledger::Figures>> Savings(std::string_view tenant_id,
                                                       std::string_view agent_id,
                                                       ledger::Period period);

  // ---- Decisions (spotopt/decision/) ----
  // The decision the tenant's engine makes for the agent now, with the input it saw.
  // Changes nothing. FailedPrecondition when the agent's instance type is unknown.
  absl::StatusOr<DecisionPreview> Decide(std::string_view tenant_id, std::string_view agent_id);
  // The fleet run: one decision for every active, enabled agent with auto switch on,
  // in every active tenant, acted on only through the command queue (priority 25, 50
  // when urgent) or the replica records; each change or action goes into the decision
  // log. An engine that is not registered here, fails or answers nonsense is replaced
  // by the tenant's previous engine, then the rules, and the log says so. Runs from
  // several threads or processes at once queue at most one switch per agent. The host
  // calls it on its own schedule (spotopt-server: every 60 s). `scope` limits it to a
  // tenant or to some of its agents (agent ids need tenant_id; an unknown or
  // foreign id is NotFound and nothing is decided).
  absl::StatusOr<DecisionRunReport> RunDecisions(Time now, const DecisionScope& scope = {});
  absl::StatusOr<std::vector<decision::DecisionRecord>> ListDecisions(std::string_view tenant_id,
                                                                      std::string_view agent_id,
                                                                      DecisionPage page = {});
  absl::StatusOr<std::vector<decision::DecisionRecord>> ListTenantDecisions(
      std::string_view tenant_id, DecisionPage page = {});

  // ---- Decision engines (spotopt/decision/registry.h) ----
  // A host's engine, pinned by the sha256 the host gives for its code. Its answers are
  // validated and guarded like any engine's.
  absl::Status RegisterEngine(std::shared_ptr<const decision::Engine> engine,
                              std::string_view sha256, std::string_view description);
  // A model engine from a manifest and the model file's bytes (spotopt/decision/model.h).
  // DataLoss for a model that does not match its manifest or that XGBoost cannot read;
  // nothing is registered then.
  absl::StatusOr<decision::EngineInfo> RegisterModel(std::string_view manifest_json,
                                                     std::string_view model_bytes);
  absl::Status UnregisterEngine(std::string_view name, std::string_view version);
  std::vector<decision::EngineInfo> ListEngines() const;
  absl::StatusOr<TenantEngines> GetTenantEngines(std::string_view tenant_id);
  // Makes a registered engine the tenant's, the current one its previous, atomically.
  absl::StatusOr<TenantEngines> ActivateEngine(std::string_view tenant_id, std::string_view name,
                                               std::string_view version);
  // Swaps the active and the previous engine; FailedPrecondition when there is none.
  absl::StatusOr<TenantEngines> RollbackEngine(std::string_view tenant_id);

  // ---- Periodic work ----
  // Writes the heartbeats the store holds (Store::FlushHeld), then expires commands and leases,
  // times out replicas, keeps manual standbys, closes quiet rebalance incidents, promotes a
  // termination incident's replica once it is READY after the deadline (or the old primary is
  // offline), and marks an old primary terminated once it is offline past its deadline. Idempotent:
  // twice, or from two threads at once, equals once.
  absl::StatusOr<TickReport> Tick(Time now);

 private:
  std::shared_ptr<Store> store_;
  std::shared_ptr<const Clock> clock_;
  ControllerOptions options_;
  // Token -> tenant answers of Authenticate (src/service/tokens.h), guarded by
  // their own lock.
  std::unique_ptr<class AuthCache> auth_cache_;
  // Price retention is hourly work; this is when it last ran (kNeverPruned: not yet
  // in this process, so the first tick covers all history).
  static constexpr int64_t kNeverPruned = INT64_MIN;
  static constexpr Duration kPricePruneInterval = absl::Hours(1);
  std::atomic<int64_t> last_price_prune_us_{kNeverPruned};
  // The Spot Advisor feed: swapped whole, read as a snapshot.
  mutable std::mutex advisor_mu_;
  // One Tick at a time in this process: on PostgreSQL write transactions run side by
  // side, and ticks touching the same records would abort each other.
  std::mutex tick_mu_;
  std::shared_ptr<const AdvisorFeed> advisor_;
  // The decision engines this process can run (thread-safe on its own).
  std::unique_ptr<decision::EngineRegistry> engines_;
};

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_CONTROLLER_H_
