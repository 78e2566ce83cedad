// SqliteStore: the embedded default. One database file in WAL mode, shared safely by
// threads of this process and by other processes: write transactions take SQLite's
// write lock (BEGIN IMMEDIATE) and wait up to `busy_timeout` for it, then fail with
// Unavailable. The schema is versioned and migrated in one transaction on open.
// One background thread per store writes held heartbeats and price observations and
// checkpoints the WAL (with its own connection), so that no request waits for them.
#ifndef SPOTOPT_STORE_SQLITE_STORE_H_
#define SPOTOPT_STORE_SQLITE_STORE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "spotopt/store/store.h"

namespace spotopt {

struct SqliteOptions {
  Duration busy_timeout = absl::Seconds(5);
  // NORMAL in WAL mode: a commit survives a process crash; a power loss may lose the
  // last transactions but never corrupts the file. FULL also survives power loss.
  bool synchronous_full = false;
  // Connections, opened as concurrent transactions need them: readers run in
  // parallel, each on its own connection. A commit empties the page cache of the
  // others, which costs little while most work is reads (held heartbeats keep it
  // so). Other processes sharing the file are unaffected by this setting.
  int max_connections = 4;
  // How long a heartbeat may be held before it is written (Store::TouchRegistration),
  // and how many distinct registrations' beats are held at most. The background
  // thread writes a batch in one transaction instead of one per beat. A zero hold
  // writes every beat at once, in the caller's thread.
  Duration beat_hold = absl::Seconds(1);
  size_t beat_batch = 65536;
  // How long a pricing report's observations may be held before they are written
  // (Store::AddPriceObservations), with the held beats, in one transaction. The
  // store's transactions read held observations as written. A crash loses up to
  // this much of reports; closing the store writes them. A zero hold writes every
  // report at once, in the caller's thread. At most 65,536 observations are held:
  // past that, adding writes them first, in the caller's thread (and adds nothing
  // when it cannot, e.g. Unavailable after busy_timeout).
  Duration price_hold = absl::Seconds(1);
  // Decoded agents and registrations kept per store, each kind up to this many
  // (about 1 KiB a record), so an agent's request does not read and decode them
  // again; a full cache replaces records no longer used (src/store/clock_map.h).
  // Exact across processes: see src/store/record_cache.h. Zero keeps none.
  size_t cached_records = 20000;
};

class SPOTOPT_EXPORT SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path` and migrates its schema.
  // ":memory:" is refused: connections must share one database.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override;
  absl::Status TouchRegistration(std::string_view id, Time at) override;
  absl::Status FlushHeld() override;
  absl::Status AddPriceObservations(const std::vector<PriceObservation>& observations) override;

  // Runs PRAGMA integrity_check; OK when the database is sound.
  absl::Status CheckIntegrity();
  // The schema version this build writes.
  static int SchemaVersion();

  class Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_SQLITE_STORE_H_
