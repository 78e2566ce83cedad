// SqliteStore's background thread does the writes no request should wait for:
// - held heartbeats, a batch at a time;
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

absl::Status SqliteStore::Impl::FlushHeld() {
  std::lock_guard flushing(flush_mu_);
  return WriteHeld();
}

absl::Status SqliteStore::Impl::WriteHeld() {
  const HeldBeats::Beats batch = held_.Take();
  if (batch.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<sqlite::SqliteTransaction>> tx =
      sqlite::StartTransaction(*this, TxMode::kWrite);
  if (!tx.ok()) return tx.status();
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
  std::unique_lock lock(background_mu_);
  while (true) {
    background_wake_.wait(lock, [this] { return checkpoint_due_ || beats_due_ || stopping_; });
    if (stopping_) return;
    const bool checkpoint = std::exchange(checkpoint_due_, false);
    const bool beats = std::exchange(beats_due_, false);
    lock.unlock();
    // A failed batch stays held for the next; a checkpoint that cannot finish (a
    // reader still needs old frames) runs again after later commits.
    if (beats) (void)FlushHeld();
    if (checkpoint) {
      sqlite3_wal_checkpoint_v2(checkpoints->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
    lock.lock();
  }
}

}  // namespace spotopt
