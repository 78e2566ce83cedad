// PostgresStore's shared state: the connection pool (pool.cc), the held heartbeats
// and the background thread that writes them (background.cc), and the lookup of a
// commit whose connection was lost. Transactions (transaction.h) borrow a
// connection from here.
#ifndef SPOTOPT_STORE_POSTGRES_STORE_IMPL_H_
#define SPOTOPT_STORE_POSTGRES_STORE_IMPL_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/store/postgres_store.h"
#include "store/held_beats.h"
#include "store/postgres/connection.h"
#include "store/postgres/statements.h"

namespace spotopt {

// Hidden, though nested in an exported class: its out-of-line members are no part of
// the shared library's interface.
class __attribute__((visibility("hidden"))) PostgresStore::Impl {
 public:
  Impl(std::string conninfo, PostgresOptions options);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Opens the first connection, migrates the schema on it and starts the background
  // thread.
  absl::Status Init();

  // Borrows a connection: an idle one that is still up, or a new one while the pool
  // has room; waits up to acquire_timeout for one to be returned.
  absl::StatusOr<std::unique_ptr<pg::Connection>> Acquire();
  // Takes a connection back; a broken one is closed, and so are the idle ones, which
  // a server restart broke too.
  void Release(std::unique_ptr<pg::Connection> conn);

  // Whether transaction `xid`, whose COMMIT lost its connection, committed: OK if it
  // did, Retryable(Unavailable) if it did not, Unavailable if the server could not
  // say within resolve_timeout.
  absl::Status ResolveCommit(const std::string& xid);

  // Holds the beat, and has it written at once (a zero hold) or by the background
  // thread (Store::TouchRegistration).
  absl::Status TouchRegistration(std::string_view id, Time at);
  // Writes the held beats in one statement. A batch that fails stays held.
  absl::Status FlushHeld();
  // Shows a held beat newer than what `r` was read with.
  void ApplyHeld(Registration& r) { held_.Apply(r); }

 private:
  absl::StatusOr<std::unique_ptr<pg::Connection>> Connect();
  absl::Status WriteHeld();  // with flush_mu_ held
  void Wake(bool* flag);
  void RunBackground();

  const std::string conninfo_;
  const PostgresOptions options_;
  std::array<std::string, pg::kStmtCount> sql_;
  const std::chrono::nanoseconds wait_;

  // Standard mutexes: ThreadSanitizer sees through them (docs/decisions.md).
  std::mutex mu_;  // guards idle_ and open_
  std::condition_variable conn_freed_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
  int open_ = 0;  // connections in idle_ or lent out

  std::mutex background_mu_;  // guards the three flags
  std::condition_variable background_wake_;
  bool beats_due_ = false;   // a batch is due now
  bool beats_held_ = false;  // a new batch began: due at the end of its hold
  bool stopping_ = false;
  std::thread background_;

  std::mutex flush_mu_;  // one batch of held beats at a time
  HeldBeats held_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_POSTGRES_STORE_IMPL_H_
