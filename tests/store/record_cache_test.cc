// The record cache's replacement (clock_map.h): a fleet larger than the cache still
// hits, records no longer used make way, and nothing stale is served; a commit of
// this process that a reader sees before its writer reports it keeps the cache.
#include <string>

#include <doctest/doctest.h>

#include "store/clock_map.h"
#include "store/record_cache.h"

namespace spotopt {
namespace {

std::string Id(int i) { return "r" + std::to_string(i); }

Registration MakeRegistration(int i, Time seen) {
  Registration r;
  r.id = Id(i);
  r.last_seen_at = seen;
  return r;
}

// Agents' requests come round in a cycle: each round asks for every registration
// once and fills what it missed, as a read transaction does.
int Round(RecordCache& cache, int first, int count, int64_t version) {
  int hits = 0;
  for (int i = first; i < first + count; ++i) {
    if (cache.FindRegistration(Id(i), version)) {
      ++hits;
    } else {
      cache.FillRegistration(MakeRegistration(i, absl::UnixEpoch()), version);
    }
  }
  return hits;
}

TEST_CASE("a fleet larger than the record cache still hits after warm-up") {
  constexpr int kCapacity = 100;
  RecordCache cache(kCapacity);
  REQUIRE(cache.Admit(1));
  for (int fleet : {kCapacity + 7, 3 * kCapacity, 10 * kCapacity}) {
    CAPTURE(fleet);
    Round(cache, 0, fleet, 1);
    for (int round = 0; round < 5; ++round) CHECK(Round(cache, 0, fleet, 1) >= kCapacity - 1);
  }
}

TEST_CASE("records no longer used make way for the ones in use") {
  constexpr int kCapacity = 100;
  RecordCache cache(kCapacity);
  REQUIRE(cache.Admit(1));
  Round(cache, 0, kCapacity, 1);
  CHECK(Round(cache, 0, kCapacity, 1) == kCapacity);
  // The fleet's instances are all replaced: new registrations, the old never back.
  int hits = 0;
  for (int round = 0; round < ClockMap<int>::kUses + 3; ++round) {
    hits = Round(cache, kCapacity, kCapacity, 1);
  }
  CHECK(hits == kCapacity);
}

TEST_CASE("an evicting cache serves only current records") {
  RecordCache cache(2);
  REQUIRE(cache.Admit(1));
  Round(cache, 0, 5, 1);
  // A committed heartbeat moves cached registrations on; a written record is dropped.
  const Time beat = absl::UnixEpoch() + absl::Seconds(30);
  CacheChanges changes;
  changes.seen = {{Id(0), beat}, {Id(1), beat}};
  changes.registrations = {Id(1)};
  cache.Committed(1, 2, changes);
  CHECK(cache.FindRegistration(Id(0), 2)->last_seen_at == beat);
  CHECK_FALSE(cache.FindRegistration(Id(1), 2));
  // The dropped record's slot takes the next fill at once.
  cache.FillRegistration(MakeRegistration(4, beat), 2);
  CHECK(cache.FindRegistration(Id(4), 2)->last_seen_at == beat);
  // A snapshot of another version is not served.
  CHECK_FALSE(cache.FindRegistration(Id(0), 1));
  CHECK_FALSE(cache.Admit(1));
}

TEST_CASE("a reader that sees this process's commit before its writer says so keeps the cache") {
  RecordCache cache(10);
  REQUIRE(cache.Admit(1));
  Round(cache, 0, 5, 1);
  CacheChanges changes;
  changes.agents = {"a1"};
  changes.registrations = {Id(1)};
  SUBCASE("the commit lands: only what it wrote is dropped") {
    cache.Committing(1, &changes);
    // COMMIT has returned; a reader's snapshot reads version 2 before Committed.
    REQUIRE(cache.Admit(2));
    CHECK(cache.FindRegistration(Id(0), 2));
    CHECK_FALSE(cache.FindRegistration(Id(1), 2));
    // A reader at 2 fills the new record; Committed then drops it once more.
    cache.FillRegistration(MakeRegistration(1, absl::UnixEpoch()), 2);
    cache.Committed(1, 2, changes);
    CHECK(Round(cache, 0, 5, 2) == 4);
    CHECK(Round(cache, 0, 5, 2) == 5);
  }
  SUBCASE("another process's version is never taken for this commit") {
    cache.Committing(1, &changes);
    REQUIRE(cache.Admit(3));
    CHECK(Round(cache, 0, 5, 3) == 0);
    cache.Committed(1, 2, changes);
    CHECK_FALSE(cache.Admit(2));  // the version does not go back
    CHECK(cache.Admit(3));
  }
  SUBCASE("a failed commit leaves the cache as it was") {
    cache.Committing(1, &changes);
    cache.Abandoned();
    CHECK(Round(cache, 0, 5, 1) == 5);
    // A later commit of another process is a newer version: everything goes.
    REQUIRE(cache.Admit(2));
    CHECK(Round(cache, 0, 5, 2) == 0);
  }
}

TEST_CASE("a record cache of capacity zero keeps nothing") {
  RecordCache cache(0);
  REQUIRE(cache.Admit(1));
  CHECK(Round(cache, 0, 3, 1) == 0);
  CHECK(Round(cache, 0, 3, 1) == 0);
}

}  // namespace
}  // namespace spotopt
