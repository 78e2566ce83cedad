#include "spotopt/domain/report.h"

namespace spotopt {

std::string_view ToString(PriceKind k) { return k == PriceKind::kSpot ? "spot" : "ondemand"; }

std::string_view ToString(PriceSource s) {
  return s == PriceSource::kPrimary ? "primary" : "replica";
}

}  // namespace spotopt
