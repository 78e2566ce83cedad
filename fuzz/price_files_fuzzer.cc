// The price file readers: every line of the input through both the spot price
// history reader and the on-demand CSV reader, as an import streams a file.
//
// Checked on every row read: a price the rules allow (> 0, at most the ceiling), a
// time in the accepted range, and for spot rows a region the AZ name ends with one
// letter after.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness.h"
#include "spotopt/pricing/price_files.h"

namespace spotopt::fuzz {
namespace {

void CheckPrice(Money price, Time at, std::string_view line) {
  FUZZ_CHECK(price.micros() > 0 && price.micros() <= Money::kPriceCeilingMicros,
             "price {} from '{}'", price.micros(), line);
  FUZZ_CHECK(ValidateTime(at, "at").ok(), "time {} from '{}'", FormatTimestamp(at), line);
}

}  // namespace
}  // namespace spotopt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spotopt;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (true) {
    const size_t eol = input.find('\n');
    const std::string_view line = input.substr(0, eol);
    if (absl::StatusOr<SpotPriceRow> row = ParseSpotPriceHistoryLine(line); row.ok()) {
      fuzz::CheckPrice(row->price, row->at, line);
      FUZZ_CHECK(!row->region.empty() && row->az.size() == row->region.size() + 1 &&
                     row->az.starts_with(row->region),
                 "region '{}' of az '{}'", row->region, row->az);
    }
    if (absl::StatusOr<OnDemandRow> row = ParseOnDemandCsvLine(line); row.ok()) {
      fuzz::CheckPrice(row->price, row->as_of, line);
    }
    if (eol == std::string_view::npos) break;
    input.remove_prefix(eol + 1);
  }
  return 0;
}
