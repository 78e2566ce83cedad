// SqliteStore's background thread does the writes no request should wait for:
// - held heartbeats and price observations, a batch at a time;
// - checkpoints, which copy the WAL back into the database file and end with
//   fsyncs that can take a hundred milliseconds. A checkpoint runs on its own
//   connection, and readers and the writer go on while a passive checkpoint copies
//   what they no longer need.
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

#include "store/sqlite/store_impl.h"
#include "store/sqlite/transaction.h"

namespace spotopt {

SqliteStore::Impl::~Impl() {
  Wake(&stopping_);
  if (background_.joinable()) background_.join();
}

absl::Status SqliteStore::Impl::TouchRegistration(std::string_view id, Time at) {
  if (!held_.Hold(id, at).due) return absl::OkStatus();
  if (held_.write_through()) return FlushHeld();
  Wake(&beats_due_);
  return absl::OkStatus();
}

absl::Status SqliteStore::Impl::AddPriceObservations(
    const std::vector<PriceObservation>& observations) {
  if (observations.empty()) return absl::OkStatus();
  // A background thread that cannot keep up (the write lock held elsewhere, a flood
  // of reports) must not let the held rows grow without bound: past kMaxHeldPrices
  // the caller writes them first, and if it cannot, adds nothing.
  if (const HeldPrices::Mark mark = held_prices_.mark();
      mark.held - mark.written >= kMaxHeldPrices) {
    if (absl::Status s = FlushHeld(); !s.ok()) return s;
  }
  const HeldPrices::Held held = held_prices_.Hold(observations);
  if (options_.price_hold == absl::ZeroDuration()) return FlushHeld();
  if (held.size >= kPriceBatch) {
    Wake(&beats_due_);
  } else if (held.first) {
    Wake(&prices_held_);
  }
  return absl::OkStatus();
}

void SqliteStore::Impl::HoldAgain(std::vector<PriceObservation> taken) {
  held_prices_.Return(std::move(taken));
  Wake(&prices_held_);
}

absl::Status SqliteStore::Impl::FlushHeld() {
  std::lock_guard flushing(flush_mu_);
  return WriteHeld();
}

absl::Status SqliteStore::Impl::WriteHeld() {
  const HeldBeats::Beats batch = held_.Take();
  const HeldPrices::Mark mark = held_prices_.mark();
  if (batch.empty() && mark.written == mark.held) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<sqlite::SqliteTransaction>> tx =
      sqlite::StartTransaction(*this, TxMode::kWrite);
  if (!tx.ok()) return tx.status();
  if (absl::Status s = (*tx)->WriteHeldPrices(); !s.ok()) return s;
  for (const auto& [id, at] : batch) {
    if (absl::Status s = (*tx)->TouchRegistration(id, at); !s.ok()) return s;
  }
  if (absl::Status s = (*tx)->Commit(); !s.ok()) return s;
  held_.Forget(batch);
  return absl::OkStatus();
}

int SqliteStore::Impl::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*schema*/,
                                   int wal_pages) {
  if (wal_pages >= kCheckpointPages) {
    auto* impl = static_cast<Impl*>(self);
    impl->Wake(&impl->checkpoint_due_);
  }
  return SQLITE_OK;
}

void SqliteStore::Impl::Wake(bool* flag) {
  {
    std::lock_guard lock(background_mu_);
    *flag = true;
  }
  background_wake_.notify_one();
}

void SqliteStore::Impl::RunBackground(std::unique_ptr<sqlite::Connection> checkpoints) {
  // Below the request threads: under full load a batch waits a little longer
  // rather than delaying requests (Linux: nice applies per thread).
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice);
  using Clock = std::chrono::steady_clock;
  const auto hold = absl::ToChronoNanoseconds(options_.price_hold);
  const auto woken = [this] { return checkpoint_due_ || beats_due_ || prices_held_ || stopping_; };
  std::unique_lock lock(background_mu_);
  while (true) {
    if (prices_due_at_ == Clock::time_point::max()) {
      background_wake_.wait(lock, woken);
    } else {
      background_wake_.wait_until(lock, prices_due_at_, woken);
    }
    if (stopping_) return;
    // The first held observations start the hold; when it ends, they and whatever
    // was held since are written.
    if (std::exchange(prices_held_, false) && prices_due_at_ == Clock::time_point::max()) {
      prices_due_at_ = Clock::now() + hold;
    }
    if (Clock::now() >= prices_due_at_) {
      prices_due_at_ = Clock::time_point::max();
      beats_due_ = true;
    }
    const bool checkpoint = std::exchange(checkpoint_due_, false);
    const bool beats = std::exchange(beats_due_, false);
    lock.unlock();
    // A failed batch stays held for the next (its prices after another hold); a
    // checkpoint that cannot finish (a reader still needs old frames) runs again
    // after later commits.
    if (beats) (void)FlushHeld();
    if (checkpoint) {
      sqlite3_wal_checkpoint_v2(checkpoints->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
    lock.lock();
  }
}

}  // namespace spotopt
