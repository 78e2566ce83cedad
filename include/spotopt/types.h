// Small value types shared by every layer: time, money, ids, modes, placement.
#ifndef SPOTOPT_TYPES_H_
#define SPOTOPT_TYPES_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "spotopt/export.h"

namespace spotopt {

// Time is an absl::Time instant; it has no time zone, so nothing can drift into local
// time. Stored and compared as int64 microseconds since the Unix epoch (UTC).
using Time = absl::Time;
using Duration = absl::Duration;

// Accepted range for timestamps coming from outside: 2000-01-01 .. 2200-01-01 UTC.
SPOTOPT_EXPORT absl::Status ValidateTime(Time t, std::string_view field);

// RFC 3339 in UTC with 'Z' and microseconds: 2025-11-23T10:15:02.481930Z.
SPOTOPT_EXPORT std::string FormatTimestamp(Time t);
// ISO 8601 / RFC 3339 with 'Z' or +-HH:MM, 0-9 fraction digits; no offset means UTC.
SPOTOPT_EXPORT absl::StatusOr<Time> ParseTimestamp(std::string_view text);

inline int64_t ToMicros(Time t) { return absl::ToUnixMicros(t); }
inline Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// Why a reported price is refused.
enum class PriceError { kNotANumber, kNotFinite, kZero, kNegative, kAboveCeiling };
// not_a_number | not_finite | zero | negative | above_ceiling
SPOTOPT_EXPORT std::string_view ToString(PriceError e);

class Money;
// A price, or why it is refused.
using PriceOrError = std::variant<Money, PriceError>;

// Exact money: integer micro-dollars. Prices are micro-dollars per hour.
class SPOTOPT_EXPORT Money {
 public:
  // Highest plausible hourly price (USD 1000/h); anything above is a data error.
  static constexpr int64_t kPriceCeilingMicros = 1'000'000'000;

  constexpr Money() = default;
  static constexpr Money FromMicros(int64_t micros) { return Money(micros); }

  // Parses a decimal USD amount ("0.0389", "12", "1e-3" is refused: decimal only),
  // rounding half away from zero to the nearest micro-dollar. Valid hourly price:
  // finite, > 0 and <= the ceiling; anything else is InvalidArgument naming `field`.
  static absl::StatusOr<Money> ParsePrice(std::string_view text, std::string_view field);
  // Same rules for a JSON number: converted through its shortest decimal spelling
  // so 0.0389 becomes exactly 38900 micro-dollars.
  static absl::StatusOr<Money> PriceFromDouble(double usd, std::string_view field);
  // The same rules, reporting a refusal as its typed reason.
  static PriceOrError ReadPrice(std::string_view text);
  static PriceOrError ReadPrice(double usd);

  constexpr int64_t micros() const { return micros_; }
  double usd() const { return static_cast<double>(micros_) / 1e6; }
  // Decimal text with six fraction digits, trailing zeros trimmed ("0.0389").
  std::string ToString() const;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
  friend constexpr auto operator<=>(Money, Money) = default;
  friend constexpr Money operator+(Money a, Money b) { return Money(a.micros_ + b.micros_); }
  friend constexpr Money operator-(Money a, Money b) { return Money(a.micros_ - b.micros_); }

 private:
  constexpr explicit Money(int64_t micros) : micros_(micros) {}
  int64_t micros_ = 0;
};

// Purchase option of an instance.
enum class Mode { kSpot, kOnDemand };
SPOTOPT_EXPORT std::string_view ToString(Mode m);  // "spot" | "ondemand"
// Accepts spot, ondemand, on-demand, on_demand in any case.
SPOTOPT_EXPORT absl::StatusOr<Mode> ParseMode(std::string_view text);

// Server-issued ids are lowercase UUIDs (URL-safe, compared byte for byte).
SPOTOPT_EXPORT std::string NewId();
SPOTOPT_EXPORT bool IsCanonicalId(std::string_view id);

// Identifiers and short strings coming from outside: non-empty, <= 255 bytes, UTF-8,
// no control characters.
inline constexpr size_t kMaxShortString = 255;
SPOTOPT_EXPORT absl::Status ValidateShortString(std::string_view value, std::string_view field);
SPOTOPT_EXPORT bool IsValidUtf8(std::string_view s);
// Free text is never refused: it is cut to 2048 bytes at a UTF-8 boundary, and
// invalid sequences are replaced so that stored text is always valid UTF-8.
inline constexpr size_t kMaxFreeText = 2048;
SPOTOPT_EXPORT std::string SanitizeFreeText(std::string_view text);

// "i-" + 8 or 17 lowercase hex digits.
SPOTOPT_EXPORT bool IsInstanceId(std::string_view id);
SPOTOPT_EXPORT absl::Status ValidateInstanceId(std::string_view id, std::string_view field);

// A spot capacity pool: (region, AZ, instance type). Written on the wire as
// "<instance_type>.<az>"; the region comes from the agent.
struct Pool {
  std::string region;
  std::string az;
  std::string instance_type;

  std::string id() const { return instance_type + "." + az; }
  friend bool operator==(const Pool&, const Pool&) = default;
};
// Splits a pool id at its last '.'; both halves must be non-empty short strings.
SPOTOPT_EXPORT absl::StatusOr<Pool> ParsePoolId(std::string_view pool_id, std::string_view region);

// Where a logical agent runs now: its primary instance and that instance's market.
struct Placement {
  std::string instance_id;
  std::string instance_type;  // empty = unknown
  std::string region;
  std::string az;  // empty = unknown
  Mode mode = Mode::kSpot;

  // The spot pool, when on spot with a known type and AZ.
  std::optional<Pool> pool() const {
    if (mode != Mode::kSpot || instance_type.empty() || az.empty()) return std::nullopt;
    return Pool{region, az, instance_type};
  }
  friend bool operator==(const Placement&, const Placement&) = default;
};

}  // namespace spotopt

#endif  // SPOTOPT_TYPES_H_
