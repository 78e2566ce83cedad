// Price observations SqliteStore holds in memory to write them in batches
// (Store::AddPriceObservations): a pricing report then costs a read transaction
// instead of a write transaction of its own, whose WAL frames, commit and
// checkpoint were most of its time. Observations are numbered as they are held
// and written in that order, so the committed ones are always a prefix: a
// transaction that began after `written` reached `held` sees every observation
// added before it began. Internal to the store layer.
#ifndef SPOTOPT_STORE_HELD_PRICES_H_
#define SPOTOPT_STORE_HELD_PRICES_H_

#include <cstdint>
#include <iterator>
#include <mutex>
#include <utility>
#include <vector>

#include "spotopt/domain/report.h"

namespace spotopt {

class HeldPrices {
 public:
  HeldPrices() = default;
  HeldPrices(const HeldPrices&) = delete;
  HeldPrices& operator=(const HeldPrices&) = delete;

  // How many observations were ever held, and how many of them are committed.
  struct Mark {
    uint64_t held = 0;
    uint64_t written = 0;
  };
  Mark mark() {
    std::lock_guard lock(mu_);
    return {held_, written_};
  }

  struct Held {
    bool first;  // nothing else was held: a new batch's hold starts
    size_t size;
  };
  Held Hold(const std::vector<PriceObservation>& observations) {
    std::lock_guard lock(mu_);
    const bool first = queue_.empty();
    queue_.insert(queue_.end(), observations.begin(), observations.end());
    held_ += observations.size();
    return {first, queue_.size()};
  }

  // Everything held, oldest first, for the one writer (it holds the store's write
  // lock), which then calls Written or Return.
  std::vector<PriceObservation> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(queue_, {});
  }
  void Written(size_t count) {
    std::lock_guard lock(mu_);
    written_ += count;
  }
  // Not committed: back in front of what was held meanwhile, so the order stays.
  void Return(std::vector<PriceObservation> taken) {
    std::lock_guard lock(mu_);
    taken.insert(taken.end(), std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.end()));
    queue_ = std::move(taken);
  }

 private:
  // A standard mutex: ThreadSanitizer sees through it (docs/decisions.md).
  std::mutex mu_;  // guards everything below
  std::vector<PriceObservation> queue_;
  uint64_t held_ = 0;
  uint64_t written_ = 0;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_HELD_PRICES_H_
