// SqliteStore's shared state: the connection pool and the writer queue (pool.cc),
// the held heartbeats and the background thread (background.cc), and the record
// cache. Transactions (transaction.h) borrow a connection from here.
#ifndef SPOTOPT_STORE_SQLITE_STORE_IMPL_H_
#define SPOTOPT_STORE_SQLITE_STORE_IMPL_H_

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/store/sqlite_store.h"
#include "store/held_beats.h"
#include "store/held_prices.h"
#include "store/record_cache.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/statements.h"

namespace spotopt {

// Hidden, though nested in an exported class: its out-of-line members are no part of
// the shared library's interface.
class __attribute__((visibility("hidden"))) SqliteStore::Impl {
 public:
  Impl(std::string path, SqliteOptions options);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Opens the first connection: WAL mode and the schema migration happen here, once.
  absl::Status Init();

  // Borrows a connection, opening one when none is idle and the pool has room.
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> Acquire();
  void Release(std::unique_ptr<sqlite::Connection> conn);

  // Writers of this process queue here, on a condition rather than by polling
  // SQLite's lock; BEGIN IMMEDIATE then only waits for other processes.
  absl::Status AcquireWriter();
  void ReleaseWriter();

  // Holds the beat, and has it written at once (a zero hold) or by the background
  // thread when a batch is due (full, or its oldest beat was held for beat_hold).
  absl::Status TouchRegistration(std::string_view id, Time at);

  // Holds a report's observations, and has them written at once (a zero hold) or
  // by the background thread within price_hold.
  absl::Status AddPriceObservations(const std::vector<PriceObservation>& observations);

  // Writes the held beats and observations in one transaction. A batch that fails
  // stays held.
  absl::Status FlushHeld();

  // Shows a held beat newer than what `r` was read with.
  void ApplyHeld(Registration& r) { held_.Apply(r); }

  HeldPrices& held_prices() { return held_prices_; }
  // Observations a transaction took but did not commit: held again, first in line,
  // and written after another hold.
  void HoldAgain(std::vector<PriceObservation> taken);

  RecordCache& cache() { return cache_; }

 private:
  absl::Status WriteHeld();  // with flush_mu_ held

  // The first connection enables WAL and migrates; the checkpoint connection runs
  // no statements of its own.
  enum class Purpose { kFirst, kPool, kCheckpoint };
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> Connect(Purpose purpose);

  // The background thread (background.cc) and what wakes it.
  static int OnWalCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  // Sets one of the background thread's flags and wakes it.
  void Wake(bool* flag);
  void RunBackground(std::unique_ptr<sqlite::Connection> checkpoints);

  const std::string path_;
  const SqliteOptions options_;
  std::array<std::string, sqlite::kStmtCount> sql_;

  const std::chrono::nanoseconds wait_;
  RecordCache cache_;

  // Standard mutexes rather than absl::Mutex: ThreadSanitizer sees through them
  // even when Abseil is a prebuilt, uninstrumented library.
  std::mutex mu_;  // guards idle_ and open_
  std::condition_variable conn_freed_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_;
  int open_ = 0;  // connections in idle_ or lent out

  std::mutex writer_mu_;  // guards writer_free_
  std::condition_variable writer_freed_;
  bool writer_free_ = true;

  // 16 MiB of 4 KiB pages: a checkpoint's worth of work, well short of the reads
  // slowing down on a long WAL.
  static constexpr int kCheckpointPages = 4096;
  static constexpr int kBackgroundNice = 10;
  // Held observations written at once rather than at the hold's end: a batch
  // short enough that the niced background thread holds the write lock briefly.
  static constexpr size_t kPriceBatch = 4096;
  // Held observations past which AddPriceObservations writes before holding more.
  static constexpr uint64_t kMaxHeldPrices = 16 * kPriceBatch;
  std::mutex background_mu_;  // guards the flags and prices_due_at_
  std::condition_variable background_wake_;
  bool checkpoint_due_ = false;
  bool beats_due_ = false;  // held beats and prices are to be written now
  bool prices_held_ = false;
  bool stopping_ = false;
  // When the oldest held observations must be written; max() when none are held.
  std::chrono::steady_clock::time_point prices_due_at_ =
      std::chrono::steady_clock::time_point::max();
  std::thread background_;

  std::mutex flush_mu_;  // one batch of held beats and prices at a time
  HeldBeats held_;
  HeldPrices held_prices_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_SQLITE_STORE_IMPL_H_
