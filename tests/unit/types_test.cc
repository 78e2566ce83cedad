#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/enum_text.h"
#include "spotopt/types.h"

namespace spotopt {
namespace {

TEST_CASE("prices parse exactly into micro-dollars") {
  CHECK(Money::ParsePrice("0.0389", "p")->micros() == 38900);
  CHECK(Money::ParsePrice("12", "p")->micros() == 12'000'000);
  CHECK(Money::ParsePrice(" 1000 ", "p")->micros() == 1'000'000'000);
  CHECK(Money::ParsePrice("0.0000005", "p")->micros() == 1);  // rounds half up
  CHECK(Money::ParsePrice("0.00000149", "p")->micros() == 1);
  CHECK(Money::ParsePrice(".5", "p")->micros() == 500'000);
  CHECK(Money::PriceFromDouble(0.0389, "p")->micros() == 38900);
  CHECK(Money::PriceFromDouble(0.1, "p")->micros() == 100'000);
  CHECK(Money::PriceFromDouble(0.096, "p")->micros() == 96'000);
  CHECK(Money::FromMicros(38900).ToString() == "0.0389");
  CHECK(Money::FromMicros(12'000'000).ToString() == "12");
}

TEST_CASE("bad prices are refused with InvalidArgument naming the field") {
  for (const char* bad : {"", "abc", "0", "0.0", "-0.01", "1e3", "1000.000001", "0.0000004",
                          "1.2.3", "NaN", "inf", "0x10", "10000"}) {
    CAPTURE(bad);
    const auto p = Money::ParsePrice(bad, "on_demand_price");
    REQUIRE_FALSE(p.ok());
    CHECK(absl::IsInvalidArgument(p.status()));
    CHECK(std::string(p.status().message()).find("on_demand_price") != std::string::npos);
  }
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity(), 0.0, -0.0, -1.0, 1000.5, 1e300}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(Money::PriceFromDouble(bad, "price").status()));
  }
}

TEST_CASE("timestamps parse as UTC whatever the offset and format with Z and micros") {
  const auto t = ParseTimestamp("2025-11-23T10:15:02.481930+00:00");
  REQUIRE(t.ok());
  CHECK(FormatTimestamp(*t) == "2025-11-23T10:15:02.481930Z");
  CHECK(FormatTimestamp(*ParseTimestamp("2025-11-23T14:02:00Z")) == "2025-11-23T14:02:00.000000Z");
  CHECK(*ParseTimestamp("2025-11-23T15:45:00+05:30") == *ParseTimestamp("2025-11-23T10:15:00Z"));
  CHECK(*ParseTimestamp("2025-11-23T10:15:00") == *ParseTimestamp("2025-11-23T10:15:00Z"));
  CHECK(*ParseTimestamp("2025-11-23T10:15:00.123456789Z") >
        *ParseTimestamp("2025-11-23T10:15:00.123456Z"));
  for (const char* bad : {"", "garbage", "2025-13-01T00:00:00Z", "1969-12-31T23:59:59Z",
                          "2300-01-01T00:00:00Z", "2025-11-23 10:15"}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(ParseTimestamp(bad).status()));
  }
}

TEST_CASE("ids, instance ids and strings") {
  const std::string id = NewId();
  CHECK(IsCanonicalId(id));
  CHECK(NewId() != id);
  CHECK_FALSE(IsCanonicalId("3F6D1C2A-8B4E-4F7A-9C1D-2E5B7A9F0C34"));
  CHECK_FALSE(IsCanonicalId("None"));
  CHECK(IsInstanceId("i-0a1b2c3d4e5f67890"));
  CHECK(IsInstanceId("i-0a1b2c3d"));
  for (const char* bad :
       {"", "i-", "replica-123", "emergency-1", "i-0A1B2C3D", "i-0a1b2c3d4", "I-0a1b2c3d"}) {
    CHECK_FALSE(IsInstanceId(bad));
  }
  CHECK(ValidateShortString("checkout-api-1", "id").ok());
  CHECK(absl::IsInvalidArgument(ValidateShortString("", "id")));
  CHECK(absl::IsInvalidArgument(ValidateShortString(std::string(256, 'a'), "id")));
  CHECK(absl::IsInvalidArgument(ValidateShortString("a\nb", "id")));
  for (const char* bad : {"\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    CHECK_FALSE(IsValidUtf8(bad));
  }
  CHECK(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  // Free text is cut at a UTF-8 boundary and repaired, never refused.
  const std::string long_text = std::string(2047, 'a') + "\xe2\x82\xac";
  CHECK(SanitizeFreeText(long_text).size() == 2047);
  CHECK(SanitizeFreeText("ok\xff") == "ok\xef\xbf\xbd");
}

TEST_CASE("a forked child does not repeat its parent's ids") {
  NewId();  // the parent's generator exists before the fork
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string id = NewId();
    _exit(write(pipe_fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  const std::string mine = NewId();
  char theirs[64] = {};
  REQUIRE(read(pipe_fds[0], theirs, sizeof theirs - 1) == 36);
  close(pipe_fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(mine != std::string(theirs));
}

TEST_CASE("modes and pool ids follow the wire spellings") {
  CHECK(*ParseMode("spot") == Mode::kSpot);
  for (const char* s : {"ondemand", "on-demand", "ON_DEMAND", "OnDemand"}) {
    CHECK(*ParseMode(s) == Mode::kOnDemand);
  }
  CHECK(absl::IsInvalidArgument(ParseMode("spotty").status()));
  const auto pool = ParsePoolId("m5.large.us-east-1c", "us-east-1");
  REQUIRE(pool.ok());
  CHECK(pool->instance_type == "m5.large");
  CHECK(pool->az == "us-east-1c");
  CHECK(pool->id() == "m5.large.us-east-1c");
  for (const char* bad : {"", "m5large", ".us-east-1c", "m5.large.", "m5.large.eu-west-1a"}) {
    CHECK(absl::IsInvalidArgument(ParsePoolId(bad, "us-east-1").status()));
  }
}

TEST_CASE("every enum's text parses back to it") {
  const auto round_trip = [](auto e) { CHECK(ParseEnum<decltype(e)>(ToString(e)) == e); };
  round_trip(ReplicaState::kTerminating);
  round_trip(CommandState::kCancelled);
  round_trip(InstanceState::kLost);
  round_trip(EventKind::kOrphanInstance);
  round_trip(HeartbeatStatus::kDisabled);
  CHECK_FALSE(ParseEnum<ReplicaState>("bogus").has_value());
}

}  // namespace
}  // namespace spotopt
