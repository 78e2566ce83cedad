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
      agents_.Clear();
      registrations_.Clear();
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

  // A write transaction that began at `from` committed `changes` as version `to`.
  void Committed(int64_t from, int64_t to, const CacheChanges& changes) {
    std::lock_guard lock(mu_);
    if (from != version_) {
      // Another process committed in between: nothing here is known to be current.
      agents_.Clear();
      registrations_.Clear();
    } else {
      for (const std::string& id : changes.agents) agents_.Erase(id);
      for (const std::string& id : changes.registrations) registrations_.Erase(id);
      for (const auto& [id, at] : changes.seen) {
        Registration* r = registrations_.Peek(id);
        if (r != nullptr && r->last_seen_at < at) r->last_seen_at = at;
      }
    }
    version_ = to;
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

  std::mutex mu_;  // guards everything below
  int64_t version_ = -1;
  ClockMap<Agent> agents_;
  ClockMap<Registration> registrations_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_RECORD_CACHE_H_
