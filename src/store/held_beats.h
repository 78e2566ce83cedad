// Heartbeats a store holds in memory to write them in batches
// (Store::TouchRegistration): the newest beat per registration, when a batch is due,
// and the overlay that shows held beats to the store's own reads. Shared by
// SqliteStore and PostgresStore; each writes the batches on its own background thread.
// Internal to the store layer.
#ifndef SPOTOPT_STORE_HELD_BEATS_H_
#define SPOTOPT_STORE_HELD_BEATS_H_

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "spotopt/domain/agent.h"

namespace spotopt {

class HeldBeats {
 public:
  using Beats = std::vector<std::pair<std::string, Time>>;

  // A batch is due when its oldest beat was held for `hold` or `batch` registrations
  // are held.
  HeldBeats(std::chrono::nanoseconds hold, size_t batch) : hold_(hold), batch_(batch) {}
  HeldBeats(const HeldBeats&) = delete;
  HeldBeats& operator=(const HeldBeats&) = delete;

  struct Held {
    bool due;    // a batch is due
    bool first;  // nothing else was held: a new batch's hold starts
  };
  // Keeps the newer of the held beat and `at`.
  Held Hold(std::string_view id, Time at) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    const bool first = held_.empty();
    if (first) since_ = now;
    auto [it, inserted] = held_.try_emplace(std::string(id), at);
    if (!inserted && it->second < at) it->second = at;
    return {.due = held_.size() >= batch_ || now - since_ >= hold_, .first = first};
  }

  // What is held now, to write as one batch.
  Beats Take() {
    std::lock_guard lock(mu_);
    return Beats(held_.begin(), held_.end());
  }

  // Drops the written beats, except those renewed while the batch was written.
  void Forget(const Beats& written) {
    std::lock_guard lock(mu_);
    for (const auto& [id, at] : written) {
      auto it = held_.find(id);
      if (it != held_.end() && it->second == at) held_.erase(it);
    }
    since_ = std::chrono::steady_clock::now();
  }

  // Shows a held beat newer than what `r` was read with.
  void Apply(Registration& r) {
    std::lock_guard lock(mu_);
    if (held_.empty()) return;
    auto it = held_.find(r.id);
    if (it != held_.end() && it->second > r.last_seen_at) r.last_seen_at = it->second;
  }

  // A zero hold: every beat is written at once, in the caller's thread.
  bool write_through() const { return hold_ == std::chrono::nanoseconds::zero(); }

 private:
  const std::chrono::nanoseconds hold_;
  const size_t batch_;
  // A standard mutex: ThreadSanitizer sees through it (docs/decisions.md).
  std::mutex mu_;                                // guards held_ and since_
  absl::flat_hash_map<std::string, Time> held_;  // registration id -> newest beat
  std::chrono::steady_clock::time_point since_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_HELD_BEATS_H_
