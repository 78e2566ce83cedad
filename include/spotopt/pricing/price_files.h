// Readers for the public price files operators import: AWS's spot price history as
// DescribeSpotPriceHistory prints it (text output, one row per line) and an on-demand
// price list in CSV. Each reads one line, so a caller can stream files of any size.
#ifndef SPOTOPT_PRICING_PRICE_FILES_H_
#define SPOTOPT_PRICING_PRICE_FILES_H_

#include <string>
#include <string_view>

#include "spotopt/types.h"

namespace spotopt {

// One row of a spot price history: the price in effect from `at` in the pool.
struct SpotPriceRow {
  std::string region;  // derived from the AZ name: "eu-west-1b" -> "eu-west-1"
  std::string az;
  std::string instance_type;
  std::string product;  // "Linux/UNIX", "Windows", ...
  Money price;
  Time at;
  friend bool operator==(const SpotPriceRow&, const SpotPriceRow&) = default;
};

// `SPOTINSTANCEPRICE<TAB>price<TAB>timestamp<TAB>type<TAB>product<TAB>az`. Timestamps
// may carry an offset with or without a colon (`-0700`, as old pulls do). A bad line
// is InvalidArgument naming the column.
SPOTOPT_EXPORT absl::StatusOr<SpotPriceRow> ParseSpotPriceHistoryLine(std::string_view line);

// One row of an on-demand price list.
struct OnDemandRow {
  std::string region;
  std::string instance_type;
  Money price;
  Time as_of;  // midnight UTC of the list's date
  friend bool operator==(const OnDemandRow&, const OnDemandRow&) = default;
};

// `region,instance_type,usd_per_hour,as_of[,source]` with as_of a YYYY-MM-DD date.
// The header line is InvalidArgument like any other bad line; callers skip line 1.
SPOTOPT_EXPORT absl::StatusOr<OnDemandRow> ParseOnDemandCsvLine(std::string_view line);

}  // namespace spotopt

#endif  // SPOTOPT_PRICING_PRICE_FILES_H_
