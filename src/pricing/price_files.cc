#include "spotopt/pricing/price_files.h"

#include <vector>

#include <fmt/format.h>

#include "absl/strings/str_split.h"

namespace spotopt {
namespace {

absl::Status Bad(std::string_view what, std::string_view column, absl::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}: {}: {}", what, column, std::string(why)));
}

// "-0700" -> "-07:00"; anything else unchanged.
std::string ColonOffset(std::string_view ts) {
  if (ts.size() <= 5) return std::string(ts);
  const std::string_view offset = ts.substr(ts.size() - 5);
  if ((offset[0] != '+' && offset[0] != '-') || offset.find(':') != std::string_view::npos) {
    return std::string(ts);
  }
  return fmt::format("{}:{}", ts.substr(0, ts.size() - 2), offset.substr(3));
}

std::vector<std::string_view> Split(std::string_view line, char sep) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> out;
  for (absl::string_view part : absl::StrSplit(absl::string_view(line.data(), line.size()), sep)) {
    out.emplace_back(part.data(), part.size());
  }
  return out;
}

}  // namespace

absl::StatusOr<SpotPriceRow> ParseSpotPriceHistoryLine(std::string_view line) {
  constexpr std::string_view kWhat = "spot price history";
  const std::vector<std::string_view> cols = Split(line, '\t');
  if (cols.size() != 6)
    return Bad(kWhat, "line", fmt::format("{} columns, want 6", cols.size()).c_str());
  if (cols[0] != "SPOTINSTANCEPRICE") return Bad(kWhat, "column 1", "not SPOTINSTANCEPRICE");
  SpotPriceRow row;
  absl::StatusOr<Money> price = Money::ParsePrice(cols[1], "column 2 (price)");
  if (!price.ok()) return price.status();
  row.price = *price;
  absl::StatusOr<Time> at = ParseTimestamp(ColonOffset(cols[2]));
  if (!at.ok()) return Bad(kWhat, "column 3 (timestamp)", at.status().message());
  row.at = *at;
  for (int c : {3, 4, 5}) {
    if (absl::Status s = ValidateShortString(cols[c], fmt::format("column {}", c + 1)); !s.ok()) {
      return Bad(kWhat, fmt::format("column {}", c + 1), s.message());
    }
  }
  row.instance_type = std::string(cols[3]);
  row.product = std::string(cols[4]);
  row.az = std::string(cols[5]);
  // An AZ name is its region plus one letter.
  if (row.az.size() < 2 || row.az.back() < 'a' || row.az.back() > 'z') {
    return Bad(kWhat, "column 6 (az)", "not an AZ name such as eu-west-1a");
  }
  row.region = row.az.substr(0, row.az.size() - 1);
  return row;
}

absl::StatusOr<OnDemandRow> ParseOnDemandCsvLine(std::string_view line) {
  constexpr std::string_view kWhat = "on-demand price list";
  const std::vector<std::string_view> cols = Split(line, ',');
  if (cols.size() < 4 || cols.size() > 5)
    return Bad(kWhat, "line", fmt::format("{} columns, want 4 or 5", cols.size()).c_str());
  OnDemandRow row;
  for (int c : {0, 1}) {
    if (absl::Status s = ValidateShortString(cols[c], "column"); !s.ok()) {
      return Bad(kWhat, fmt::format("column {}", c + 1), s.message());
    }
  }
  row.region = std::string(cols[0]);
  row.instance_type = std::string(cols[1]);
  absl::StatusOr<Money> price = Money::ParsePrice(cols[2], "column 3 (usd_per_hour)");
  if (!price.ok()) return price.status();
  row.price = *price;
  if (cols[3].size() != 10) return Bad(kWhat, "column 4 (as_of)", "want YYYY-MM-DD");
  absl::StatusOr<Time> as_of = ParseTimestamp(fmt::format("{}T00:00:00Z", cols[3]));
  if (!as_of.ok()) return Bad(kWhat, "column 4 (as_of)", as_of.status().message());
  row.as_of = *as_of;
  return row;
}

}  // namespace spotopt
