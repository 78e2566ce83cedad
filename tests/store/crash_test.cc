// SqliteStore durability: a writer killed at a random moment never loses a commit
// it saw succeed and never leaves a damaged file; handles on one file share state;
// reopening keeps data without re-running the migration; held heartbeats reach the
// file; the record cache never serves a stale record; checkpoints run in the
// background.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "spotopt/store/sqlite_store.h"
#include "sqlite_fixture.h"

namespace spotopt {
namespace {

using testing::kT0;
using testing::MakeAgent;
using testing::MakeRegistration;
using testing::MakeTenant;
using testing::TempDir;

Command MakeCommand(const std::string& id, const Agent& a) {
  Command c;
  c.id = id;
  c.tenant_id = a.tenant_id;
  c.agent_id = a.id;
  c.target_mode = Mode::kOnDemand;
  c.issued_for_instance = a.placement.instance_id;
  c.created_at = kT0;
  c.expires_at = kT0 + absl::Minutes(30);
  return c;
}

std::string Id(std::string_view kind, int round, int64_t i) {
  return fmt::format("{}-{}-{}", kind, round, i);
}

// The child's loop: each transaction inserts a tenant, an agent, its registration
// and a command, and heartbeats the round's first registration; after each
// successful Commit it reports the transaction number on `fd`. Never returns.
[[noreturn]] void RunWriter(const std::string& path, int round, int fd) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  if (!store.ok()) {
    fmt::print(stderr, "child: open: {}\n", store.status().ToString());
    _exit(2);
  }
  const std::string heartbeat_id = Id("r", round, 0);
  for (int64_t i = 0;; ++i) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    if (!tx.ok()) {
      fmt::print(stderr, "child: begin: {}\n", tx.status().ToString());
      _exit(2);
    }
    const Agent agent = MakeAgent(Id("a", round, i), Id("t", round, i));
    absl::Status s = (*tx)->InsertTenant(MakeTenant(agent.tenant_id));
    if (s.ok()) s = (*tx)->InsertAgent(agent);
    if (s.ok()) s = (*tx)->InsertRegistration(MakeRegistration(Id("r", round, i), agent));
    if (s.ok()) s = (*tx)->InsertCommand(MakeCommand(Id("c", round, i), agent)).status();
    if (s.ok()) {
      absl::StatusOr<Registration> r = (*tx)->GetRegistration(heartbeat_id);
      s = r.status();
      if (s.ok()) {
        r->last_seen_at = kT0 + absl::Microseconds(i);
        s = (*tx)->UpdateRegistration(*r);
      }
    }
    if (s.ok()) s = (*tx)->Commit();
    if (!s.ok()) {
      fmt::print(stderr, "child: transaction {}: {}\n", i, s.ToString());
      _exit(2);
    }
    if (write(fd, &i, sizeof(i)) != sizeof(i)) _exit(3);
  }
}

// Every transaction number the child reported before it died.
std::vector<int64_t> ReadReports(int fd) {
  std::vector<int64_t> ids;
  std::string buf;
  char chunk[4096];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    buf.append(chunk, static_cast<size_t>(n));
  }
  // Reports are single writes of 8 bytes, below PIPE_BUF, so none is torn.
  REQUIRE(buf.size() % sizeof(int64_t) == 0);
  ids.resize(buf.size() / sizeof(int64_t));
  std::copy(buf.begin(), buf.end(), reinterpret_cast<char*>(ids.data()));
  return ids;
}

TEST_CASE("SqliteStore keeps every acknowledged commit when the writer is killed") {
  TempDir dir;
  const std::string path = dir.File("crash.db");
  std::random_device seed_source;
  const unsigned seed = seed_source();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(5, 60);
  size_t total_committed = 0;

  for (int round = 0; round < 50; ++round) {
    CAPTURE(round);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      RunWriter(path, round, fds[1]);
    }
    close(fds[1]);
    usleep(static_cast<useconds_t>(delay_ms(rng)) * 1000);
    REQUIRE(kill(pid, SIGKILL) == 0);
    int wstatus = 0;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    // The child only ends by our signal: an exit means it hit an error (on stderr).
    REQUIRE(WIFSIGNALED(wstatus));
    const std::vector<int64_t> committed = ReadReports(fds[0]);
    close(fds[0]);
    total_committed += committed.size();

    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    const absl::Status integrity = (*store)->CheckIntegrity();
    CHECK_MESSAGE(integrity.ok(), integrity.ToString());
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    for (int64_t i : committed) {
      CAPTURE(i);
      CHECK((*tx)->GetTenant(Id("t", round, i)).ok());
      CHECK((*tx)->GetAgent(Id("a", round, i)).ok());
      CHECK((*tx)->GetRegistration(Id("r", round, i)).ok());
      absl::StatusOr<Command> c = (*tx)->GetCommand(Id("c", round, i));
      REQUIRE(c.ok());
      CHECK(c->seq > 0);
    }
    if (!committed.empty()) {
      // The heartbeat of the last acknowledged transaction (or a later one that
      // committed before the kill but was not reported yet) survived.
      absl::StatusOr<Registration> r = (*tx)->GetRegistration(Id("r", round, 0));
      REQUIRE(r.ok());
      CHECK(r->last_seen_at >= kT0 + absl::Microseconds(committed.back()));
    }
    CHECK((*tx)->Commit().ok());
  }
  MESSAGE("transactions acknowledged before a kill: " << total_committed);
  CHECK(total_committed > 0);
}

TEST_CASE("Two SqliteStore handles on one file see each other's commits") {
  TempDir dir;
  const std::string path = dir.File("shared.db");
  SqliteOptions options;
  options.busy_timeout = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<SqliteStore>> first = SqliteStore::Open(path, options);
  absl::StatusOr<std::unique_ptr<SqliteStore>> second = SqliteStore::Open(path, options);
  REQUIRE(first.ok());
  REQUIRE(second.ok());

  auto insert = [](SqliteStore& store, const std::string& id) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    REQUIRE((*tx)->InsertTenant(MakeTenant(id)).ok());
    REQUIRE((*tx)->Commit().ok());
  };
  auto has = [](SqliteStore& store, const std::string& id) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    return (*tx)->GetTenant(id).ok();
  };

  insert(**first, "from-first");
  CHECK(has(**second, "from-first"));
  insert(**second, "from-second");
  CHECK(has(**first, "from-second"));

  SUBCASE("a writer of one handle holds off writers of the other, readers go on") {
    absl::StatusOr<std::unique_ptr<Transaction>> writer = (*first)->Begin(TxMode::kWrite);
    REQUIRE(writer.ok());
    REQUIRE((*writer)->InsertTenant(MakeTenant("uncommitted")).ok());
    absl::StatusOr<std::unique_ptr<Transaction>> blocked = (*second)->Begin(TxMode::kWrite);
    CHECK(blocked.status().code() == absl::StatusCode::kUnavailable);
    CHECK(has(**second, "from-first"));
    CHECK_FALSE(has(**second, "uncommitted"));
    writer->reset();  // rolls back
    CHECK_FALSE(has(**first, "uncommitted"));
    CHECK((*second)->Begin(TxMode::kWrite).ok());
  }

  SUBCASE("a forked process sees the parent's commits and the parent sees its") {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Connections are never used across fork: the child opens its own handle.
      absl::StatusOr<std::unique_ptr<SqliteStore>> mine = SqliteStore::Open(path);
      int code = 1;
      if (mine.ok()) {
        absl::StatusOr<std::unique_ptr<Transaction>> tx = (*mine)->Begin(TxMode::kWrite);
        if (tx.ok() && (*tx)->GetTenant("from-first").ok() &&
            (*tx)->InsertTenant(MakeTenant("from-child")).ok() && (*tx)->Commit().ok()) {
          code = 0;
        }
      }
      _exit(code);
    }
    int wstatus = 0;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    REQUIRE(WIFEXITED(wstatus));
    CHECK(WEXITSTATUS(wstatus) == 0);
    CHECK(has(**first, "from-child"));
  }
}

// Reads a PRAGMA's integer with a plain connection, outside the store.
int64_t Pragma(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

TEST_CASE("Reopening an existing SqliteStore keeps data and runs no migration") {
  TempDir dir;
  const std::string path = dir.File("reopen.db");
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    REQUIRE((*tx)->InsertTenant(MakeTenant("kept")).ok());
    REQUIRE((*tx)->Commit().ok());
  }
  CHECK(Pragma(path, "PRAGMA user_version") == SqliteStore::SchemaVersion());
  // The schema cookie changes with every DDL statement.
  const int64_t cookie = Pragma(path, "PRAGMA schema_version");

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  CHECK(Pragma(path, "PRAGMA schema_version") == cookie);
  CHECK(Pragma(path, "PRAGMA user_version") == SqliteStore::SchemaVersion());
  absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kRead);
  REQUIRE(tx.ok());
  absl::StatusOr<Tenant> kept = (*tx)->GetTenant("kept");
  REQUIRE(kept.ok());
  CHECK(kept->name == "tenant kept");
  tx->reset();  // the default store has one connection; the check needs it
  const absl::Status integrity = (*store)->CheckIntegrity();
  CHECK_MESSAGE(integrity.ok(), integrity.ToString());
}

TEST_CASE(
    "SqliteStore holds beats until a batch, a flush or closing; other handles see them then") {
  TempDir dir;
  const std::string path = dir.File("beats.db");
  SqliteOptions holding;
  holding.beat_hold = absl::Hours(1);
  holding.beat_batch = 8;
  absl::StatusOr<std::unique_ptr<SqliteStore>> first = SqliteStore::Open(path, holding);
  absl::StatusOr<std::unique_ptr<SqliteStore>> second = SqliteStore::Open(path);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  const Agent agent = MakeAgent("a1", "t1");
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*first)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    REQUIRE((*tx)->InsertTenant(MakeTenant("t1")).ok());
    REQUIRE((*tx)->InsertAgent(agent).ok());
    for (int i = 0; i < 10; ++i) {
      Registration r = MakeRegistration(fmt::format("r{}", i), agent);
      r.instance_id = fmt::format("i-{:017x}", i);
      REQUIRE((*tx)->InsertRegistration(r).ok());
    }
    REQUIRE((*tx)->Commit().ok());
  }
  const auto seen = [](SqliteStore& store, const std::string& id) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    absl::StatusOr<Registration> r = (*tx)->GetRegistration(id);
    REQUIRE(r.ok());
    return r->last_seen_at;
  };
  const Time beat = kT0 + absl::Seconds(30);

  REQUIRE((*first)->TouchRegistration("r0", beat).ok());
  CHECK(seen(**first, "r0") == beat);
  CHECK(seen(**second, "r0") == kT0);
  REQUIRE((*first)->FlushHeld().ok());
  CHECK(seen(**second, "r0") == beat);

  SUBCASE("a full batch is written soon after, by the background thread") {
    for (int i = 1; i < 8; ++i) {
      REQUIRE((*first)->TouchRegistration(fmt::format("r{}", i), beat).ok());
      REQUIRE((*first)->TouchRegistration(fmt::format("r{}", i), beat).ok());  // still one
    }
    CHECK(seen(**second, "r7") == kT0);
    REQUIRE((*first)->TouchRegistration("r8", beat).ok());  // the 8th held
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (seen(**second, "r8") != beat && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(seen(**second, "r1") == beat);
    CHECK(seen(**second, "r8") == beat);
  }
  SUBCASE("closing writes what is held") {
    REQUIRE((*first)->TouchRegistration("r1", beat).ok());
    CHECK(seen(**second, "r1") == kT0);
    first->reset();
    CHECK(seen(**second, "r1") == beat);
  }
  SUBCASE("a zero hold writes every beat at once") {
    SqliteOptions at_once;
    at_once.beat_hold = absl::ZeroDuration();
    absl::StatusOr<std::unique_ptr<SqliteStore>> third = SqliteStore::Open(path, at_once);
    REQUIRE(third.ok());
    REQUIRE((*third)->TouchRegistration("r2", beat).ok());
    CHECK(seen(**second, "r2") == beat);
  }
  SUBCASE("a negative hold and an empty batch are refused") {
    SqliteOptions negative;
    negative.beat_hold = absl::Seconds(-1);
    CHECK(SqliteStore::Open(path, negative).status().code() == absl::StatusCode::kInvalidArgument);
    SqliteOptions empty;
    empty.beat_batch = 0;
    CHECK(SqliteStore::Open(path, empty).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE(
    "SqliteStore holds price observations for price_hold, or until a flush or closing; other "
    "handles see them then") {
  TempDir dir;
  const std::string path = dir.File("prices.db");
  SqliteOptions holding;
  holding.price_hold = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<SqliteStore>> first = SqliteStore::Open(path, holding);
  absl::StatusOr<std::unique_ptr<SqliteStore>> second = SqliteStore::Open(path);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*first)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    REQUIRE((*tx)->InsertTenant(MakeTenant("t1")).ok());
    REQUIRE((*tx)->Commit().ok());
  }
  const auto observation = [](int64_t micros) {
    PriceObservation o;
    o.tenant_id = "t1";
    o.region = "us-east-1";
    o.az = "us-east-1a";
    o.instance_type = "m5.large";
    o.price = Money::FromMicros(micros);
    o.observed_at = o.received_at = kT0;
    return o;
  };
  const auto stored = [](SqliteStore& store) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    absl::StatusOr<std::vector<PriceObservation>> all = (*tx)->ListTenantPriceObservations("t1");
    REQUIRE(all.ok());
    std::vector<int64_t> prices;
    for (const PriceObservation& o : *all) prices.push_back(o.price.micros());
    return prices;
  };

  REQUIRE((*first)->AddPriceObservations({observation(1), observation(2)}).ok());
  CHECK(stored(**second).empty());
  REQUIRE((*first)->FlushHeld().ok());
  CHECK(stored(**second) == std::vector<int64_t>{1, 2});

  SUBCASE("closing writes what is held") {
    REQUIRE((*first)->AddPriceObservations({observation(3)}).ok());
    CHECK(stored(**second) == std::vector<int64_t>{1, 2});
    first->reset();
    CHECK(stored(**second) == std::vector<int64_t>{1, 2, 3});
  }
  SUBCASE("a hold's end writes them, once and in order, also after a writer rolled back") {
    SqliteOptions briefly;
    briefly.price_hold = absl::Milliseconds(20);
    absl::StatusOr<std::unique_ptr<SqliteStore>> third = SqliteStore::Open(path, briefly);
    REQUIRE(third.ok());
    REQUIRE((*third)->AddPriceObservations({observation(3)}).ok());
    {
      // Taken by a writer past the hold's end, then rolled back.
      absl::StatusOr<std::unique_ptr<Transaction>> tx = (*third)->Begin(TxMode::kWrite);
      REQUIRE(tx.ok());
      CHECK((*tx)->ListTenantPriceObservations("t1")->size() == 3);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE((*third)->AddPriceObservations({observation(4)}).ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (stored(**second).size() < 4 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(stored(**second) == std::vector<int64_t>{1, 2, 3, 4});
  }
  SUBCASE("past 65,536 held observations an add writes them first, or adds nothing") {
    SqliteOptions bounded;
    bounded.price_hold = absl::Hours(1);
    bounded.busy_timeout = absl::Milliseconds(50);
    absl::StatusOr<std::unique_ptr<SqliteStore>> third = SqliteStore::Open(path, bounded);
    REQUIRE(third.ok());
    // Another handle keeps the write lock, so the background thread cannot write.
    absl::StatusOr<std::unique_ptr<Transaction>> lock = (*second)->Begin(TxMode::kWrite);
    REQUIRE(lock.ok());
    const std::vector<PriceObservation> batch(4096, observation(5));
    for (int i = 0; i < 16; ++i) REQUIRE((*third)->AddPriceObservations(batch).ok());
    const absl::Status refused = (*third)->AddPriceObservations({observation(6)});
    CHECK(refused.code() == absl::StatusCode::kUnavailable);
    lock->reset();  // rolled back: the lock is free
    REQUIRE((*third)->AddPriceObservations({observation(7)}).ok());
    // The bound was written by the add itself; the last one is still held.
    const std::vector<int64_t> after = stored(**second);
    REQUIRE(after.size() == 2 + 16 * 4096);
    CHECK(std::count(after.begin(), after.end(), 5) == 16 * 4096);
    CHECK(std::count(after.begin(), after.end(), 6) == 0);
    third->reset();
    CHECK(stored(**second).back() == 7);
  }
  SUBCASE("a zero hold writes every report at once") {
    SqliteOptions at_once;
    at_once.price_hold = absl::ZeroDuration();
    absl::StatusOr<std::unique_ptr<SqliteStore>> third = SqliteStore::Open(path, at_once);
    REQUIRE(third.ok());
    REQUIRE((*third)->AddPriceObservations({observation(3)}).ok());
    CHECK(stored(**second) == std::vector<int64_t>{1, 2, 3});
  }
  SUBCASE("a negative hold is refused") {
    SqliteOptions negative;
    negative.price_hold = absl::Seconds(-1);
    CHECK(SqliteStore::Open(path, negative).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("SqliteStore's record cache serves only what is committed and current") {
  TempDir dir;
  const std::string path = dir.File("cache.db");
  absl::StatusOr<std::unique_ptr<SqliteStore>> a = SqliteStore::Open(path);
  absl::StatusOr<std::unique_ptr<SqliteStore>> b = SqliteStore::Open(path);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const auto write = [](SqliteStore& store, const std::function<void(Transaction&)>& body) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    body(**tx);
    REQUIRE((*tx)->Commit().ok());
  };
  const auto read = [](SqliteStore& store) {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    return std::move(*tx);
  };
  const auto enabled = [](Transaction& tx) {
    absl::StatusOr<Agent> agent = tx.GetAgent("a1");
    REQUIRE(agent.ok());
    return agent->config.enabled;
  };
  const auto set_enabled = [&enabled](bool on) {
    return [on, &enabled](Transaction& tx) {
      absl::StatusOr<Agent> agent = tx.GetAgent("a1");
      REQUIRE(agent.ok());
      agent->config.enabled = on;
      REQUIRE(tx.UpdateAgent(*agent).ok());
      CHECK(enabled(tx) == on);  // a transaction reads its own write
    };
  };
  const Agent agent = MakeAgent("a1", "t1");
  write(**a, [&](Transaction& tx) {
    REQUIRE(tx.InsertTenant(MakeTenant("t1")).ok());
    REQUIRE(tx.InsertAgent(agent).ok());
    REQUIRE(tx.InsertRegistration(MakeRegistration("r1", agent)).ok());
  });
  CHECK(enabled(*read(**a)));  // now cached in both handles
  CHECK(enabled(*read(**b)));

  SUBCASE("another process's commit empties the cache") {
    write(**b, set_enabled(false));
    CHECK_FALSE(enabled(*read(**a)));
    const Time beat = kT0 + absl::Minutes(1);
    REQUIRE((*b)->TouchRegistration("r1", beat).ok());
    REQUIRE((*b)->FlushHeld().ok());
    CHECK((*read(**a)).GetRegistration("r1")->last_seen_at == beat);
  }
  SUBCASE("a reader keeps its snapshot across a commit of its own process") {
    std::unique_ptr<Transaction> before = read(**a);
    CHECK(enabled(*before));
    write(**a, set_enabled(false));
    CHECK(enabled(*before));
    CHECK_FALSE(enabled(*read(**a)));
    before.reset();
    CHECK_FALSE(enabled(*read(**b)));
  }
  SUBCASE("a rolled-back write leaves the cached record as committed") {
    {
      absl::StatusOr<std::unique_ptr<Transaction>> tx = (*a)->Begin(TxMode::kWrite);
      REQUIRE(tx.ok());
      set_enabled(false)(**tx);
    }
    CHECK(enabled(*read(**a)));
  }
  SUBCASE("written heartbeats update cached registrations") {
    const Time beat = kT0 + absl::Minutes(2);
    CHECK((*read(**a)).GetRegistration("r1")->last_seen_at == kT0);
    REQUIRE((*a)->TouchRegistration("r1", beat).ok());
    REQUIRE((*a)->FlushHeld().ok());
    CHECK((*read(**a)).GetRegistration("r1")->last_seen_at == beat);
    CHECK((*read(**b)).GetRegistration("r1")->last_seen_at == beat);
  }
}

TEST_CASE("SqliteStore checkpoints the WAL in the background, not in a commit") {
  TempDir dir;
  const std::string path = dir.File("checkpoint.db");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  const auto db_bytes = [&] { return std::filesystem::file_size(path); };
  const uintmax_t empty = db_bytes();
  // 24 MiB in one commit: past the 16 MiB mark that wakes the checkpointer.
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    for (int i = 0; i < 48; ++i) {
      Tenant t = MakeTenant(fmt::format("t{}", i));
      t.name.assign(512 * 1024, 'x');
      REQUIRE((*tx)->InsertTenant(t).ok());
    }
    REQUIRE((*tx)->Commit().ok());
  }
  // SQLite's own checkpoint is off; only the background one moves pages into the
  // database file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db_bytes() < empty + (20u << 20) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(db_bytes() >= empty + (20u << 20));
  const absl::Status integrity = (*store)->CheckIntegrity();
  CHECK_MESSAGE(integrity.ok(), integrity.ToString());
}

TEST_CASE("SqliteStore refuses databases its connections cannot share") {
  CHECK(SqliteStore::Open(":memory:").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(SqliteStore::Open("").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("SqliteStore refuses a database written by a newer schema") {
  TempDir dir;
  const std::string path = dir.File("newer.db");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const std::string sql = fmt::format("PRAGMA user_version = {}", SqliteStore::SchemaVersion() + 1);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK(SqliteStore::Open(path).status().code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace spotopt
