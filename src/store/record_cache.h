// SqliteStore's cache of decoded agents and registrations, the two records every
// agent request reads. Internal to the store layer.
//
// Entries are exact, not eventually right: they belong to one version of the
// database. Every write transaction, of this process or another, bumps a counter in
// the file (store_version), and a transaction uses the cache only when the version
// its snapshot reads is the cache's:
// - a newer version means another process committed: the cache is emptied;
// - an older one means a commit of this process landed after the snapshot began:
//   the transaction reads SQL, as if there were no cache;
// - this process's commits name what they wrote, which is dropped while the
//   version moves on, so the rest of the cache stays.
// Only read transactions fill it, so no uncommitted record ever enters.
#ifndef SPOTOPT_STORE_RECORD_CACHE_H_
#define SPOTOPT_STORE_RECORD_CACHE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spotopt/domain/agent.h"
#include "store/clock_map.h"

namespace spotopt {

// What a committed write transaction changed in cached kinds.
struct CacheChanges {
  std::vector<std::string> agents;
  std::vector<std::string> registrations;
  std::vector<std::pair<std::string, Time>> seen;  // written heartbeats
  void Clear() {
    agents.clear();
    registrations.clear();
    seen.clear();
  }
};

class RecordCache {
 public:
  // Up to `capacity` records of each kind; a full kind makes room for new ones as
  // clock_map.h says.
  explicit RecordCache(size_t capacity) : agents_(capacity), registrations_(capacity) {}
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  // A transaction's snapshot reads `version`: true when the cache serves it.
  bool Admit(int64_t version) {
    std::lock_guard lock(mu_);
    if (version > version_) {
      if (pending_ != nullptr && version_ == pending_from_ && version == pending_from_ + 1) {
        // This process's commit, seen before its writer called Committed: the rest
        // of the cache stays, as it will then.
        Apply(*pending_);
        pending_seen_ = true;
      } else {
        ClearAll();
      }
      version_ = version;
    }
    return version == version_;
  }

  std::optional<Agent> FindAgent(std::string_view id, int64_t version) {
    return Find(agents_, id, version);
  }
  std::optional<Registration> FindRegistration(std::string_view id, int64_t version) {
    return Find(registrations_, id, version);
  }
  void FillAgent(const Agent& a, int64_t version) { Fill(agents_, a.id, a, version); }
  void FillRegistration(const Registration& r, int64_t version) {
    Fill(registrations_, r.id, r, version);
  }

  // This process's write transaction that began at `from` is about to commit
  // `changes` (which must live until Committed or Abandoned) as version from + 1.
  // Between its COMMIT and Committed a reader may already see that version; Admit
  // then keeps the cache but for `changes`, instead of emptying it as for another
  // process's commit. (Without this, every commit whose writer was descheduled
  // right after COMMIT emptied the whole cache.)
  void Committing(int64_t from, const CacheChanges* changes) {
    std::lock_guard lock(mu_);
    pending_ = changes;
    pending_from_ = from;
    pending_seen_ = false;
  }
  // The commit announced by Committing failed. Only a reader that saw version
  // from + 1 in between can have kept records on its word (another process's
  // commit, landing just then): the cache is emptied in that case.
  void Abandoned() {
    std::lock_guard lock(mu_);
    if (pending_seen_) ClearAll();
    pending_ = nullptr;
  }
  // A write transaction that began at `from` committed `changes` as version `to`.
  void Committed(int64_t from, int64_t to, const CacheChanges& changes) {
    std::lock_guard lock(mu_);
    if (from == version_ || (to == version_ && pending_seen_)) {
      Apply(changes);
      version_ = to;
    } else {
      // Another process committed in between: nothing here is known to be current.
      ClearAll();
      version_ = std::max(version_, to);
    }
    pending_ = nullptr;
    pending_seen_ = false;
  }

 private:
  template <class T>
  std::optional<T> Find(ClockMap<T>& map, std::string_view id, int64_t version) {
    std::lock_guard lock(mu_);
    if (version != version_) return std::nullopt;
    const T* found = map.Find(id);
    if (found == nullptr) return std::nullopt;
    return *found;
  }

  template <class T>
  void Fill(ClockMap<T>& map, const std::string& id, const T& record, int64_t version) {
    std::lock_guard lock(mu_);
    if (version == version_) map.Put(id, record);
  }

  void Apply(const CacheChanges& changes) {
    for (const std::string& id : changes.agents) agents_.Erase(id);
    for (const std::string& id : changes.registrations) registrations_.Erase(id);
    for (const auto& [id, at] : changes.seen) {
      Registration* r = registrations_.Peek(id);
      if (r != nullptr && r->last_seen_at < at) r->last_seen_at = at;
    }
  }
  void ClearAll() {
    agents_.Clear();
    registrations_.Clear();
  }

  std::mutex mu_;  // guards everything below
  int64_t version_ = -1;
  // The commit announced by Committing: its changes, the version it began at, and
  // whether a reader has already admitted the version it commits.
  const CacheChanges* pending_ = nullptr;
  int64_t pending_from_ = -1;
  bool pending_seen_ = false;
  ClockMap<Agent> agents_;
  ClockMap<Registration> registrations_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_RECORD_CACHE_H_
