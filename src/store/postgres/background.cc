// PostgresStore's background thread writes held heartbeats: a batch at a time, in one
// statement outside any transaction of the caller's, when the oldest held beat has
// waited beat_hold (it wakes for that even when no new beat arrives, so another
// process sees a lone beat within the hold) or beat_batch registrations are held.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/store_impl.h"

namespace spotopt {
namespace {

// Below the request threads: under full load a batch waits a little longer rather
// than delaying requests (Linux: nice applies per thread).
constexpr int kBackgroundNice = 10;

}  // namespace

PostgresStore::Impl::~Impl() {
  Wake(&stopping_);
  if (background_.joinable()) background_.join();
}

absl::Status PostgresStore::Impl::TouchRegistration(std::string_view id, Time at) {
  const HeldBeats::Held held = held_.Hold(id, at);
  if (held_.write_through()) return FlushHeld();
  if (held.due) {
    Wake(&beats_due_);
  } else if (held.first) {
    Wake(&beats_held_);
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::Impl::FlushHeld() {
  std::lock_guard flushing(flush_mu_);
  return WriteHeld();
}

absl::Status PostgresStore::Impl::WriteHeld() {
  HeldBeats::Beats batch = held_.Take();
  if (batch.empty()) return absl::OkStatus();
  // One order for every process's batches, so that two never wait on each other's
  // rows in a cycle.
  std::sort(batch.begin(), batch.end());
  std::vector<std::string_view> ids;
  std::vector<int64_t> times;
  ids.reserve(batch.size());
  times.reserve(batch.size());
  for (const auto& [id, at] : batch) {
    ids.push_back(id);
    times.push_back(ToMicros(at));
  }
  pg::Params p;
  p.AddArray(ids);
  p.AddArray(times);
  absl::StatusOr<std::unique_ptr<pg::Connection>> conn = Acquire();
  if (!conn.ok()) return conn.status();
  std::vector<pg::Result> results;
  // Outside BEGIN: the statement is its own transaction, READ COMMITTED, so a row
  // another process's batch wrote meanwhile is compared as it is now.
  absl::Status s = (*conn)->Run({{pg::kTouchRegistrations, &p}}, "write held heartbeats", &results);
  Release(*std::move(conn));
  if (s.ok()) held_.Forget(batch);
  return s;
}

void PostgresStore::Impl::Wake(bool* flag) {
  {
    std::lock_guard lock(background_mu_);
    *flag = true;
  }
  background_wake_.notify_one();
}

void PostgresStore::Impl::RunBackground() {
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice);
  const auto hold = absl::ToChronoNanoseconds(options_.beat_hold);
  std::unique_lock lock(background_mu_);
  while (true) {
    background_wake_.wait(lock, [this] { return beats_due_ || beats_held_ || stopping_; });
    // A new batch's first beat: wait out its hold, unless it fills sooner.
    if (!beats_due_) {
      background_wake_.wait_for(lock, hold, [this] { return beats_due_ || stopping_; });
    }
    if (stopping_) return;
    beats_due_ = false;
    beats_held_ = false;
    lock.unlock();
    // A failed batch stays held; the next beat or Tick tries again.
    (void)FlushHeld();
    lock.lock();
  }
}

}  // namespace spotopt
