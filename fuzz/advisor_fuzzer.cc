// The Spot Advisor feed parser (AdvisorFeed::Parse), on any text.
//
// Checked when a feed parses: its bands are numbered 0.. in order with a maximum
// of 0..100 percent, its regions are listed sorted and once each, and every entry
// the feed holds can be found again by its keys.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "fuzz/harness.h"
#include "spotopt/pricing/advisor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spotopt;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<AdvisorFeed> feed = AdvisorFeed::Parse(text);
  if (!feed.ok()) return 0;

  const std::vector<AdvisorBand>& bands = feed->bands();
  FUZZ_CHECK(!bands.empty(), "a feed without bands");
  for (size_t i = 0; i < bands.size(); ++i) {
    FUZZ_CHECK(bands[i].index == static_cast<int>(i), "band {} has index {}", i, bands[i].index);
    FUZZ_CHECK(bands[i].max_percent >= 0 && bands[i].max_percent <= 100, "band {} max {}", i,
               bands[i].max_percent);
  }
  const std::vector<std::string> regions = feed->Regions();
  FUZZ_CHECK(
      std::adjacent_find(regions.begin(), regions.end(), std::greater_equal<>()) == regions.end(),
      "regions not sorted and unique");

  // Every entry of the document is found under its own keys (the parse succeeded, so
  // the document has this shape).
  size_t entries = 0;
  const boost::json::value doc = boost::json::parse(text);
  for (const auto& [region, oses] : doc.at("spot_advisor").as_object()) {
    for (const auto& [os, types] : oses.as_object()) {
      for (const auto& [type, entry] : types.as_object()) {
        const std::optional<AdvisorEntry> found = feed->Find(region, os, type);
        FUZZ_CHECK(found.has_value(), "{}/{}/{} not found", std::string_view(region),
                   std::string_view(os), std::string_view(type));
        FUZZ_CHECK(found->band == bands.at(static_cast<size_t>(found->band.index)),
                   "{}/{}/{}: band {} is not the feed's", std::string_view(region),
                   std::string_view(os), std::string_view(type), found->band.index);
        ++entries;
      }
    }
  }
  FUZZ_CHECK(feed->size() == entries, "{} entries, the document has {}", feed->size(), entries);
  return 0;
}
