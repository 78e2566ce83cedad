// Periodic work: Controller::Tick.
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "absl/container/flat_hash_set.h"

#include "service/use_case.h"

namespace spotopt {
namespace {

absl::StatusOr<std::optional<Registration>> FindOptionalRegistration(Transaction& tx,
                                                                     const Agent& agent,
                                                                     std::string_view instance) {
  absl::StatusOr<Registration> reg = tx.FindRegistration(agent.id, instance);
  if (absl::IsNotFound(reg.status())) return std::optional<Registration>();
  if (!reg.ok()) return reg.status();
  return std::optional<Registration>(*std::move(reg));
}

// Post-deadline recovery of one open termination incident (protocol section 10):
// once the deadline passed or the old primary is offline, a READY replica takes
// over; the old primary, offline past the deadline, is terminated; and the incident
// closes when nothing is left to do.
absl::Status RecoverFromTermination(Transaction& tx, Incident& i, const ControllerOptions& options,
                                    Time now, TickReport& report) {
  SPOTOPT_ASSIGN_OR_RETURN(Agent agent, tx.GetAgent(i.agent_id));
  if (agent.lifecycle == Lifecycle::kDeleted) return absl::OkStatus();
  const auto offline = [&](const std::optional<Registration>& reg) {
    return !reg || ComputeLiveness(*reg, now, options.offline_after) == Liveness::kOffline;
  };
  const bool past = now >= *i.deadline;
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Registration> old,
                           FindOptionalRegistration(tx, agent, i.instance_id));
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
  bool changed = false;
  if (!i.promoted_at && agent.placement.instance_id == i.instance_id && (past || offline(old)) &&
      agent.config.replica_mode != ReplicaMode::kOff && live &&
      live->state == ReplicaState::kReady && !live->instance_id.empty()) {
    SPOTOPT_RETURN_IF_ERROR(
        PromoteInTx(tx, agent, *live, false, PromotionCause::kTermination, now, i.deadline));
    i.promoted_at = now;
    if (!i.decided_at) i.decided_at = now;
    i.replica_id = live->id;
    i.decision = fmt::format("replica {} promoted after the deadline", live->id);
    live.reset();
    changed = true;
    ++report.replicas_promoted;
    SPOTOPT_ASSIGN_OR_RETURN(old, FindOptionalRegistration(tx, agent, i.instance_id));
  }
  if (old && past && offline(old) && old->instance_state == InstanceState::kTerminating) {
    old->instance_state = InstanceState::kTerminated;
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateRegistration(*old));
    ++report.instances_terminated;
  }
  const bool old_gone = !old || old->instance_state == InstanceState::kTerminated ||
                        old->instance_state == InstanceState::kLost;
  if (i.promoted_at && past && old_gone) {
    i.closed_at = now;
  } else if (!i.promoted_at && past && offline(old) && !live) {
    // Nothing can take over any more: the operator has to act. The instance stopped
    // running (and costing) at the deadline, whatever the placement still says.
    SPOTOPT_RETURN_IF_ERROR(EndPrimaryRun(tx, agent, i.instance_id, *i.deadline));
    i.closed_at = now;
    i.decision = "failed: no replica became ready before the primary was lost";
    SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(
        MakeEvent(agent, EventKind::kReplicaChanged, i.instance_id, i.decision, now)));
  }
  if (i.closed_at) {
    changed = true;
    ++report.terminations_closed;
  }
  return changed ? tx.UpdateIncident(i) : absl::OkStatus();
}

// Price retention over observed_at in [from, raw_cutoff): thins each series to the
// observations that decide a bucket (the clean series and the ledger are unchanged),
// and deletes everything observed before history_cutoff. Bucket-aligned, so no
// bucket is thinned by halves.
absl::StatusOr<int64_t> PrunePrices(Transaction& tx, Time from, Time raw_cutoff,
                                    Time history_cutoff, const sef::Options& o) {
  const Time thin_from = FromMicros(sef::BucketStart(ToMicros(std::max(from, history_cutoff)), o));
  const Time thin_to = FromMicros(sef::BucketStart(ToMicros(raw_cutoff), o));
  int64_t pruned = 0;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Tenant> tenants, tx.ListTenants());
  for (const Tenant& t : tenants) {
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Pool> series, tx.ListPriceSeries(t.id));
    for (const Pool& pool : series) {
      std::vector<int64_t> doomed;
      SPOTOPT_ASSIGN_OR_RETURN(
          std::vector<PriceObservation> expired,
          tx.ListPriceObservations(t.id, pool, absl::InfinitePast(), history_cutoff));
      doomed.reserve(expired.size());
      for (const PriceObservation& e : expired) doomed.push_back(e.seq);
      if (thin_from < thin_to) {
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<PriceObservation> old,
                                 tx.ListPriceObservations(t.id, pool, thin_from, thin_to));
        absl::flat_hash_set<int64_t> keep;
        for (const sef::MeasuredBucket& b : Measure(old, o)) {
          for (const std::optional<sef::Pick>& p : b.picks) {
            if (p) keep.insert(p->seq);
          }
        }
        for (const PriceObservation& e : old) {
          if (!keep.contains(e.seq)) doomed.push_back(e.seq);
        }
      }
      if (doomed.empty()) continue;
      SPOTOPT_RETURN_IF_ERROR(tx.DeletePriceObservations(doomed));
      pruned += static_cast<int64_t>(doomed.size());
    }
  }
  return pruned;
}

}  // namespace

// ---- Periodic work -------------------------------------------------------------

absl::StatusOr<TickReport> Controller::Tick(Time now) {
  SPOTOPT_RETURN_IF_ERROR(ValidateTime(now, "now"));
  const std::lock_guard<std::mutex> one_tick(tick_mu_);
  // Held heartbeats reach the store at least once per tick, even when beats stop.
  SPOTOPT_RETURN_IF_ERROR(store_->FlushHeld());
  // One transaction: concurrent ticks serialize, and each sees what the previous
  // one did, so running it twice equals running it once.
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<TickReport> {
    TickReport report;

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> due, tx.ListDueCommands(now));
    for (Command& c : due) {
      const bool leased = c.state == CommandState::kLeased;
      SPOTOPT_RETURN_IF_ERROR(TransitionCommand(
          c, CommandEvent::kExpire, now,
          leased ? "lease expired; outcome unknown" : "not delivered before its TTL"));
      SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
      ++report.commands_expired;
      if (c.replica_id) {
        SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(*c.replica_id));
        if (r.state == ReplicaState::kRequested) {
          SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, "create_replica command expired", now));
          ++report.replicas_failed;
        }
      }
    }

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> live, tx.ListLiveReplicas());
    for (Replica& r : live) {
      const auto entered = [&](ReplicaState s) {
        return r.entered_at[static_cast<size_t>(s)].value_or(r.created_at);
      };
      std::string why;
      if (r.state == ReplicaState::kRequested &&
          now - entered(ReplicaState::kRequested) >= options_.replica_requested_timeout) {
        why = "requested replica not picked up";
      } else if (r.state == ReplicaState::kLaunching && r.instance_id.empty() &&
                 r.lease_expires_at && *r.lease_expires_at <= now) {
        why = "launch not confirmed";
      } else if (r.state == ReplicaState::kSyncing &&
                 now - entered(ReplicaState::kSyncing) >= options_.replica_sync_timeout) {
        why = "not ready before the sync timeout";
      }
      if (why.empty()) continue;
      SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, why, now));
      ++report.replicas_failed;
      if (!r.instance_id.empty()) {
        SPOTOPT_ASSIGN_OR_RETURN(Agent agent, tx.GetAgent(r.agent_id));
        SPOTOPT_RETURN_IF_ERROR(
            tx.InsertEvent(MakeEvent(agent, EventKind::kOrphanInstance, r.instance_id,
                                     fmt::format("replica {}: {}", r.id, why), now)));
      }
    }

    // manual_standby keeps one standby at all times, within a request budget.
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Agent> standby_agents,
                             tx.ListAgentsByReplicaMode(ReplicaMode::kManualStandby));
    for (const Agent& agent : standby_agents) {
      if (!agent.config.enabled || agent.placement.instance_type.empty() ||
          agent.placement.az.empty()) {
        continue;
      }
      SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
      const bool has_live = std::any_of(replicas.begin(), replicas.end(),
                                        [](const Replica& r) { return IsLive(r.state); });
      const auto recent = std::count_if(replicas.begin(), replicas.end(), [&](const Replica& r) {
        return r.created_at > now - absl::Hours(1) && r.created_at <= now;
      });
      if (has_live || recent >= options_.standby_requests_per_hour) continue;
      SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ResolveReplicaPool(agent, ""));
      SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(
          NewReplica(agent, std::move(pool), "standby", LaunchPath::kListing, now)));
      ++report.replicas_requested;
    }

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> open, tx.ListOpenIncidents());
    for (Incident& i : open) {
      if (i.signal != Signal::kRebalanceRecommendation ||
          now - i.last_seen < options_.rebalance_incident_close) {
        continue;
      }
      i.closed_at = now;
      SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
      ++report.incidents_closed;
    }

    for (Incident& i : open) {
      if (i.signal != Signal::kTerminationNotice || !i.deadline) continue;
      SPOTOPT_RETURN_IF_ERROR(RecoverFromTermination(tx, i, options_, now, report));
    }

    // Retention (prices, the decision log) runs hourly; the first tick of a process
    // covers all history once.
    const int64_t last = last_price_prune_us_.load();
    if (last == kNeverPruned || now - FromMicros(last) >= kPricePruneInterval) {
      const Time raw_cutoff = now - options_.raw_price_retention;
      const Time from = last == kNeverPruned
                            ? absl::InfinitePast()
                            : raw_cutoff - (now - FromMicros(last)) - options_.sef.bucket;
      SPOTOPT_ASSIGN_OR_RETURN(
          report.price_observations_pruned,
          PrunePrices(tx, from, raw_cutoff, now - options_.price_history_retention, options_.sef));
      SPOTOPT_ASSIGN_OR_RETURN(report.decisions_pruned,
                               tx.DeleteDecisionsBefore(now - options_.decision_retention));
      last_price_prune_us_.store(ToMicros(now));
    }
    return report;
  });
}

}  // namespace spotopt
