#include "spotopt/domain/report.h"

#include "spotopt/domain/run_segment.h"

namespace spotopt {

std::string_view ToString(PriceKind k) { return k == PriceKind::kSpot ? "spot" : "ondemand"; }

std::string_view ToString(PriceSource s) {
  switch (s) {
    case PriceSource::kCatalog:
      return "catalog";
    case PriceSource::kPrimary:
      return "primary";
    case PriceSource::kReplica:
      return "replica";
  }
  return "unknown";
}

std::string_view ToString(RunRole r) {
  switch (r) {
    case RunRole::kPrimary:
      return "primary";
    case RunRole::kReplica:
      return "replica";
    case RunRole::kDrain:
      return "drain";
  }
  return "unknown";
}

}  // namespace spotopt
