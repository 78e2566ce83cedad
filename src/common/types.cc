#include "spotopt/types.h"

#include <unistd.h>

#include <algorithm>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "absl/strings/ascii.h"

namespace spotopt {
namespace {

const Time kMinTime = absl::FromCivil(absl::CivilSecond(2000, 1, 1), absl::UTCTimeZone());
const Time kMaxTime = absl::FromCivil(absl::CivilSecond(2200, 1, 1), absl::UTCTimeZone());

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}{}{}", field, ": ", why));
}

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

absl::Status ValidateTime(Time t, std::string_view field) {
  if (t < kMinTime || t >= kMaxTime) {
    return Invalid(field, "timestamp out of range (2000-01-01 .. 2200-01-01 UTC)");
  }
  return absl::OkStatus();
}

std::string FormatTimestamp(Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<Time> ParseTimestamp(std::string_view text) {
  std::string error;
  Time t;
  const std::string s(Trim(text));
  // %Ez accepts "Z" and +-HH:MM; without an offset the time is UTC.
  if (!absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", s, absl::UTCTimeZone(), &t, &error) &&
      !absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S", s, absl::UTCTimeZone(), &t, &error)) {
    return Invalid("timestamp", fmt::format("{}{}{}", "cannot parse '", text.substr(0, 64), "'"));
  }
  if (absl::Status range = ValidateTime(t, "timestamp"); !range.ok()) return range;
  return t;
}

std::string_view ToString(PriceError e) {
  switch (e) {
    case PriceError::kNotANumber:
      return "not_a_number";
    case PriceError::kNotFinite:
      return "not_finite";
    case PriceError::kZero:
      return "zero";
    case PriceError::kNegative:
      return "negative";
    case PriceError::kAboveCeiling:
      return "above_ceiling";
  }
  return "unknown";
}

namespace {

std::string_view Describe(PriceError e) {
  switch (e) {
    case PriceError::kNotANumber:
      return "is not a decimal number";
    case PriceError::kNotFinite:
      return "price must be finite";
    case PriceError::kZero:
    case PriceError::kNegative:
      return "price must be > 0";
    case PriceError::kAboveCeiling:
      return "price above the USD 1000/h ceiling";
  }
  return "invalid price";
}

absl::StatusOr<Money> PriceOrStatus(const PriceOrError& p, std::string_view text,
                                    std::string_view field) {
  if (const Money* m = std::get_if<Money>(&p)) return *m;
  const PriceError e = std::get<PriceError>(p);
  if (e == PriceError::kNotANumber) {
    return Invalid(field, fmt::format("'{}' {}", text.substr(0, 64), Describe(e)));
  }
  return Invalid(field, std::string(Describe(e)));
}

}  // namespace

PriceOrError Money::ReadPrice(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return PriceError::kNotANumber;
  const bool negative = s.front() == '-';
  if (negative || s.front() == '+') s.remove_prefix(1);
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  const auto all_digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if ((whole.empty() && frac.empty()) || !all_digits(whole) || !all_digits(frac)) {
    const std::string lower = absl::AsciiStrToLower(absl::string_view(s.data(), s.size()));
    if (lower == "inf" || lower == "infinity" || lower == "nan") {
      return lower == "nan" ? PriceError::kNotANumber : PriceError::kNotFinite;
    }
    return PriceError::kNotANumber;
  }
  // Leading zeros do not count towards the size of the number.
  const size_t first = whole.find_first_not_of('0');
  const std::string_view significant =
      first == std::string_view::npos ? std::string_view() : whole.substr(first);
  if (significant.size() > 4) return negative ? PriceError::kNegative : PriceError::kAboveCeiling;
  int64_t micros = 0;
  for (char c : significant) micros = micros * 10 + (c - '0');
  for (size_t i = 0; i < 6; ++i) {
    micros = micros * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  }
  if (frac.size() > 6 && frac[6] >= '5') ++micros;  // round half away from zero
  if (micros == 0) return PriceError::kZero;
  if (negative) return PriceError::kNegative;
  if (micros > kPriceCeilingMicros) return PriceError::kAboveCeiling;
  return Money(micros);
}

PriceOrError Money::ReadPrice(double usd) {
  if (std::isnan(usd)) return PriceError::kNotANumber;
  if (!std::isfinite(usd)) return PriceError::kNotFinite;
  if (usd == 0) return PriceError::kZero;
  if (usd < 0) return PriceError::kNegative;
  if (usd > static_cast<double>(kPriceCeilingMicros) / 1e6) return PriceError::kAboveCeiling;
  // The shortest fixed spelling that round-trips is the decimal the sender meant.
  char buf[400];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), usd, std::chars_format::fixed);
  if (ec != std::errc()) return PriceError::kNotANumber;
  return ReadPrice(std::string_view(buf, end - buf));
}

absl::StatusOr<Money> Money::ParsePrice(std::string_view text, std::string_view field) {
  return PriceOrStatus(ReadPrice(text), text, field);
}

absl::StatusOr<Money> Money::PriceFromDouble(double usd, std::string_view field) {
  return PriceOrStatus(ReadPrice(usd), "", field);
}

std::string Money::ToString() const {
  const int64_t abs = micros_ < 0 ? -micros_ : micros_;
  std::string frac = fmt::format("{}", abs % 1'000'000 + 1'000'000).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return fmt::format("{}{}{}{}", micros_ < 0 ? "-" : "", abs / 1'000'000, frac.empty() ? "" : ".",
                     frac);
}

std::string_view ToString(Mode m) { return m == Mode::kSpot ? "spot" : "ondemand"; }

absl::StatusOr<Mode> ParseMode(std::string_view text) {
  std::string m(text);
  std::transform(m.begin(), m.end(), m.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (m == "spot") return Mode::kSpot;
  if (m == "ondemand" || m == "on-demand" || m == "on_demand") return Mode::kOnDemand;
  return Invalid("mode", fmt::format("{}{}{}", "unknown mode '", text.substr(0, 64), "'"));
}

std::string NewId() {
  // Ids need uniqueness, not secrecy (tokens use OpenSSL's CSPRNG). A forked child
  // inherits its parent's generator state and would repeat the parent's (and its
  // siblings') next ids, so a new process seeds a new generator.
  struct Generator {
    pid_t pid = getpid();
    boost::uuids::random_generator_mt19937 next;
  };
  thread_local std::optional<Generator> generator;
  if (!generator || generator->pid != getpid()) generator.emplace();
  return boost::uuids::to_string(generator->next());
}

bool IsCanonicalId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !IsLowerHex(id[i])) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

absl::Status ValidateShortString(std::string_view value, std::string_view field) {
  if (value.empty()) return Invalid(field, "must not be empty");
  if (value.size() > kMaxShortString) return Invalid(field, "longer than 255 bytes");
  if (!IsValidUtf8(value)) return Invalid(field, "not valid UTF-8");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7F) return Invalid(field, "contains a control character");
  }
  return absl::OkStatus();
}

std::string SanitizeFreeText(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxFreeText));
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(text, i);
    const std::string_view piece = len == 0 ? "\xEF\xBF\xBD" : text.substr(i, len);
    if (out.size() + piece.size() > kMaxFreeText) break;
    out.append(piece);
    i += len == 0 ? 1 : len;
  }
  return out;
}

bool IsInstanceId(std::string_view id) {
  if (id.size() != 10 && id.size() != 19) return false;
  if (id.substr(0, 2) != "i-") return false;
  return std::all_of(id.begin() + 2, id.end(), IsLowerHex);
}

absl::Status ValidateInstanceId(std::string_view id, std::string_view field) {
  if (!IsInstanceId(id)) {
    return Invalid(field, "not an instance id (i- followed by 8 or 17 lowercase hex digits)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Pool> ParsePoolId(std::string_view pool_id, std::string_view region) {
  if (absl::Status s = ValidateShortString(pool_id, "pool_id"); !s.ok()) return s;
  const size_t dot = pool_id.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == pool_id.size()) {
    return Invalid("pool_id", "expected <instance_type>.<az>");
  }
  if (absl::Status s = ValidateShortString(region, "region"); !s.ok()) return s;
  // An AZ is named after its region (us-east-1c, us-east-1-bos-1a).
  if (pool_id.substr(dot + 1).substr(0, region.size()) != region) {
    return Invalid("pool_id",
                   fmt::format("AZ {} is not in region {}", pool_id.substr(dot + 1), region));
  }
  return Pool{std::string(region), std::string(pool_id.substr(dot + 1)),
              std::string(pool_id.substr(0, dot))};
}

}  // namespace spotopt
