// The AWS Spot Advisor feed (spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json):
// per (region, OS, instance type), the interruption-frequency band of the trailing
// month and the typical savings over on-demand. An immutable value: a newer feed is
// parsed into a new AdvisorFeed and swapped in whole (Controller::LoadAdvisorFeed).
#ifndef SPOTOPT_PRICING_ADVISOR_H_
#define SPOTOPT_PRICING_ADVISOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "spotopt/types.h"

namespace spotopt {

// One interruption-frequency band, as the feed defines it ("<5%" ... ">20%").
struct AdvisorBand {
  int index = 0;      // 0 (rarest interruptions) .. 4
  std::string label;  // e.g. "5-10%"
  int max_percent = 0;
  friend bool operator==(const AdvisorBand&, const AdvisorBand&) = default;
};

struct AdvisorEntry {
  AdvisorBand band;
  // Savings over on-demand in percent; negative when spot costs more (real data).
  int savings_percent = 0;
  friend bool operator==(const AdvisorEntry&, const AdvisorEntry&) = default;
};

class SPOTOPT_EXPORT AdvisorFeed {
 public:
  // Parses the feed's JSON text. InvalidArgument naming the offending path when it is
  // not the feed's shape: `ranges` (bands with index, label, max) and `spot_advisor`
  // ({region: {os: {type: {"s": int, "r": band index}}}}). Unknown keys are ignored.
  static absl::StatusOr<AdvisorFeed> Parse(std::string_view json_text);

  // The entry for (region, OS, instance type); OS is the feed's spelling ("Linux",
  // "Windows"). nullopt when the feed has none.
  std::optional<AdvisorEntry> Find(std::string_view region, std::string_view os,
                                   std::string_view instance_type) const;

  size_t size() const { return entries_.size(); }
  const std::vector<AdvisorBand>& bands() const { return bands_; }
  std::vector<std::string> Regions() const;  // sorted

 private:
  std::vector<AdvisorBand> bands_;  // by index
  // Key: region + '\0' + os + '\0' + type.
  absl::flat_hash_map<std::string, AdvisorEntry> entries_;
};

}  // namespace spotopt

#endif  // SPOTOPT_PRICING_ADVISOR_H_
