// Authenticate's token cache: changes made through the same Controller apply at
// once, changes made through another Controller sharing the store (another process,
// in production) within auth_cache_ttl, and a rotated-out token stops at the end of
// its grace period whatever is cached. The cache is tested on its own (invalidation
// racing a fill, deterministically) and through the Controller on both stores.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "fixture.h"
#include "service/tokens.h"

namespace spotopt::testing {
namespace {

constexpr Duration kTtl = absl::Seconds(5);

// Two Controllers over one store and one manual clock, like two processes sharing a
// database file: for SQLite each has its own connection to the file.
class SharedStore {
 public:
  explicit SharedStore(StoreKind kind, ControllerOptions options = WithTtl(kTtl))
      : clock_(std::make_shared<ManualClock>(TestEpoch())) {
    if (kind == StoreKind::kMemory) {
      auto store = std::make_shared<MemoryStore>();
      a_ = std::make_unique<Controller>(store, clock_, options);
      b_ = std::make_unique<Controller>(store, clock_, options);
      return;
    }
    path_ = (std::filesystem::temp_directory_path() / fmt::format("spotopt-auth-{}.db", NewId()))
                .string();
    for (std::unique_ptr<Controller>* c : {&a_, &b_}) {
      absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(path_);
      REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
      *c = std::make_unique<Controller>(std::move(*opened), clock_, options);
    }
  }
  ~SharedStore() {
    a_.reset();
    b_.reset();
    if (path_.empty()) return;
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_ + suffix, ignored);
  }
  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  static ControllerOptions WithTtl(Duration ttl) {
    ControllerOptions o;
    o.auth_cache_ttl = ttl;
    return o;
  }

  Controller& a() { return *a_; }
  Controller& b() { return *b_; }
  ManualClock& clock() { return *clock_; }

 private:
  std::shared_ptr<ManualClock> clock_;
  std::string path_;
  std::unique_ptr<Controller> a_;
  std::unique_ptr<Controller> b_;
};

// ---- The cache on its own --------------------------------------------------------

Tenant TenantNamed(std::string_view id) {
  return Tenant{std::string(id), "acme", TenantState::kActive, TestEpoch(), TestEpoch()};
}

TEST_CASE("cache keys are keyed digests of the token") {
  AuthCache cache(kTtl);
  AuthCache other(kTtl);
  const std::string token = "sot_ABCDEFGHabcdefghijklmnopqrstuvwx";
  CHECK(cache.KeyOf(token) == cache.KeyOf(token));
  CHECK(cache.KeyOf(token) != cache.KeyOf("sot_ABCDEFGHabcdefghijklmnopqrstuvwy"));
  CHECK(cache.KeyOf(token) != other.KeyOf(token));  // a secret of its own
}

TEST_CASE("a cached answer lives for the TTL and never past its token's expiry") {
  AuthCache cache(kTtl);
  const Time now = TestEpoch();
  const AuthCache::Key plain = cache.KeyOf("a");
  const AuthCache::Key expiring = cache.KeyOf("b");
  cache.Insert(plain, TenantNamed("t1"), std::nullopt, now, cache.Generation());
  cache.Insert(expiring, TenantNamed("t1"), now + absl::Seconds(1), now, cache.Generation());
  REQUIRE(cache.Find(plain, now).has_value());
  CHECK(cache.Find(plain, now)->tenant.id == "t1");
  CHECK(cache.Find(plain, now + kTtl - absl::Nanoseconds(1)).has_value());
  CHECK_FALSE(cache.Find(plain, now + kTtl).has_value());
  CHECK(cache.Find(expiring, now + absl::Milliseconds(999)).has_value());
  CHECK_FALSE(cache.Find(expiring, now + absl::Seconds(1)).has_value());
  CHECK_FALSE(cache.Find(cache.KeyOf("c"), now).has_value());

  AuthCache off(absl::ZeroDuration());
  off.Insert(plain, TenantNamed("t1"), std::nullopt, now, off.Generation());
  CHECK_FALSE(off.Find(plain, now).has_value());
}

TEST_CASE("invalidation drops the tenant's answers and any fill that raced with it") {
  AuthCache cache(kTtl);
  const Time now = TestEpoch();
  const AuthCache::Key k1 = cache.KeyOf("a");
  const AuthCache::Key k2 = cache.KeyOf("b");
  cache.Insert(k1, TenantNamed("t1"), std::nullopt, now, cache.Generation());
  cache.Insert(k2, TenantNamed("t2"), std::nullopt, now, cache.Generation());

  // A lookup began (generation read), the tenant changed, then the lookup's
  // now-outdated answer arrives: it must not be kept.
  const uint64_t before_change = cache.Generation();
  cache.InvalidateTenant("t1");
  CHECK_FALSE(cache.Find(k1, now).has_value());
  CHECK(cache.Find(k2, now).has_value());  // other tenants keep theirs
  cache.Insert(k1, TenantNamed("t1"), std::nullopt, now, before_change);
  CHECK_FALSE(cache.Find(k1, now).has_value());

  cache.Insert(k1, TenantNamed("t1"), std::nullopt, now, cache.Generation());
  CHECK(cache.Find(k1, now).has_value());
}

// ---- Through the Controller -------------------------------------------------------

CreatedTenant NewTenant(Controller& c) {
  absl::StatusOr<CreatedTenant> created = c.CreateTenant("acme");
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return *std::move(created);
}

TEST_CASE_TEMPLATE("the owning Controller's tenant changes apply to cached tokens at once", S,
                   SPOTOPT_ALL_STORES) {
  SharedStore s(S::kKind);
  Controller& c = s.a();
  const CreatedTenant t = NewTenant(c);
  REQUIRE(c.Authenticate(t.token).ok());  // cached from here on

  REQUIRE(c.SuspendTenant(t.tenant.id).ok());
  CHECK(absl::IsPermissionDenied(c.Authenticate(t.token).status()));
  REQUIRE(c.ReactivateTenant(t.tenant.id).ok());
  CHECK(c.Authenticate(t.token).ok());
  REQUIRE(c.DeleteTenant(t.tenant.id).ok());
  CHECK(absl::IsUnauthenticated(c.Authenticate(t.token).status()));
}

TEST_CASE_TEMPLATE("another Controller's tenant changes are seen within the TTL", S,
                   SPOTOPT_ALL_STORES) {
  SharedStore s(S::kKind);
  const CreatedTenant t = NewTenant(s.a());
  REQUIRE(s.a().Authenticate(t.token).ok());

  REQUIRE(s.b().SuspendTenant(t.tenant.id).ok());
  CHECK(absl::IsPermissionDenied(s.b().Authenticate(t.token).status()));
  s.clock().Advance(kTtl - absl::Milliseconds(1));
  CHECK(s.a().Authenticate(t.token).ok());  // the cached answer, still fresh
  s.clock().Advance(absl::Milliseconds(1));
  CHECK(absl::IsPermissionDenied(s.a().Authenticate(t.token).status()));

  // A refusal is cached too, and expires the same way.
  REQUIRE(s.b().ReactivateTenant(t.tenant.id).ok());
  CHECK(absl::IsPermissionDenied(s.a().Authenticate(t.token).status()));
  s.clock().Advance(kTtl);
  CHECK(s.a().Authenticate(t.token).ok());

  REQUIRE(s.b().DeleteTenant(t.tenant.id).ok());
  s.clock().Advance(kTtl);
  CHECK(absl::IsUnauthenticated(s.a().Authenticate(t.token).status()));
}

TEST_CASE_TEMPLATE("a zero TTL reads the store on every call", S, SPOTOPT_ALL_STORES) {
  SharedStore s(S::kKind, SharedStore::WithTtl(absl::ZeroDuration()));
  const CreatedTenant t = NewTenant(s.a());
  REQUIRE(s.a().Authenticate(t.token).ok());
  REQUIRE(s.b().SuspendTenant(t.tenant.id).ok());
  CHECK(absl::IsPermissionDenied(s.a().Authenticate(t.token).status()));
}

TEST_CASE_TEMPLATE("a rotated-out token stops at the end of its grace whatever is cached", S,
                   SPOTOPT_ALL_STORES) {
  // A TTL far longer than the grace: only invalidation and the token's own expiry
  // can end the cached answer in time.
  ControllerOptions o = SharedStore::WithTtl(absl::Hours(1));
  o.token_grace = absl::Seconds(10);
  SharedStore s(S::kKind, o);
  Controller& c = s.a();
  const CreatedTenant t = NewTenant(c);
  REQUIRE(c.Authenticate(t.token).ok());  // cached without an expiry

  absl::StatusOr<std::string> rotated = c.RotateToken(t.tenant.id);
  REQUIRE(rotated.ok());
  CHECK(c.Authenticate(t.token).ok());  // re-read: now with the end of its grace
  CHECK(c.Authenticate(*rotated).ok());
  s.clock().Advance(absl::Seconds(10));
  CHECK(absl::IsUnauthenticated(c.Authenticate(t.token).status()));
  CHECK(c.Authenticate(*rotated).ok());
}

TEST_CASE_TEMPLATE("a rotation by another Controller is seen within the TTL", S,
                   SPOTOPT_ALL_STORES) {
  ControllerOptions o = SharedStore::WithTtl(kTtl);
  o.token_grace = absl::ZeroDuration();
  SharedStore s(S::kKind, o);
  const CreatedTenant t = NewTenant(s.a());
  REQUIRE(s.a().Authenticate(t.token).ok());
  REQUIRE(s.b().RotateToken(t.tenant.id).ok());
  CHECK(absl::IsUnauthenticated(s.b().Authenticate(t.token).status()));
  CHECK(s.a().Authenticate(t.token).ok());
  s.clock().Advance(kTtl);
  CHECK(absl::IsUnauthenticated(s.a().Authenticate(t.token).status()));
}

TEST_CASE_TEMPLATE("wrong tokens are refused before and after a right one is cached", S,
                   SPOTOPT_ALL_STORES) {
  SharedStore s(S::kKind);
  Controller& c = s.a();
  const CreatedTenant t = NewTenant(c);
  std::string wrong = t.token;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';  // same lookup prefix, other secret
  CHECK(absl::IsUnauthenticated(c.Authenticate(wrong).status()));
  REQUIRE(c.Authenticate(t.token).ok());
  CHECK(absl::IsUnauthenticated(c.Authenticate(wrong).status()));
  CHECK(c.Authenticate(t.token)->id == t.tenant.id);
}

// Threads authenticate while the main thread suspends and reactivates the tenant.
// Whenever a call ran entirely inside a window that began after SuspendTenant
// returned and ended before ReactivateTenant was called, it must be refused: a fill
// that read the store before the suspension must not land in the cache after it.
TEST_CASE_TEMPLATE("no call authenticated after a local suspension is admitted", S,
                   SPOTOPT_ALL_STORES) {
  SharedStore s(S::kKind, SharedStore::WithTtl(absl::Hours(1)));
  Controller& c = s.a();
  const CreatedTenant t = NewTenant(c);
  constexpr int kThreads = 3;
  constexpr int kRounds = 1000;
  // Odd: suspended and not yet being reactivated.
  std::atomic<int> phase{0};
  std::atomic<int64_t> calls{0};
  std::atomic<bool> done{false};
  std::vector<int> wrongly_admitted(kThreads, 0);
  std::vector<int> errors(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!done.load(std::memory_order_acquire)) {
        const int before = phase.load(std::memory_order_acquire);
        absl::StatusOr<Tenant> r = c.Authenticate(t.token);
        const int after = phase.load(std::memory_order_acquire);
        if (!r.ok() && !absl::IsPermissionDenied(r.status())) ++errors[i];
        if (before == after && before % 2 == 1 && r.ok()) ++wrongly_admitted[i];
        calls.fetch_add(1, std::memory_order_acq_rel);
      }
    });
  }
  // Lets the readers make `n` more calls.
  const auto let_readers_run = [&](int64_t n) {
    const int64_t target = calls.load(std::memory_order_acquire) + n;
    while (calls.load(std::memory_order_acquire) < target) std::this_thread::yield();
  };
  // Bounded in time as well, for a loaded machine where every hand-off between
  // threads costs a scheduler slice.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool failed_step = false;
  for (int round = 0;
       round < kRounds && !failed_step && std::chrono::steady_clock::now() < deadline; ++round) {
    failed_step = !c.SuspendTenant(t.tenant.id).ok();
    phase.fetch_add(1, std::memory_order_acq_rel);  // odd: suspension confirmed
    let_readers_run(2 * kThreads);
    phase.fetch_add(1, std::memory_order_acq_rel);  // even: about to reactivate
    failed_step = failed_step || !c.ReactivateTenant(t.tenant.id).ok();
    let_readers_run(1);  // a fill of the active state races the next suspension
  }
  done.store(true, std::memory_order_release);
  for (std::thread& th : threads) th.join();
  CHECK_FALSE(failed_step);
  for (int i = 0; i < kThreads; ++i) {
    CHECK(wrongly_admitted[i] == 0);
    CHECK(errors[i] == 0);
  }
}

}  // namespace
}  // namespace spotopt::testing
