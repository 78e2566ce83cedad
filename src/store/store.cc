// What every Store does unless it can do better.
#include <cstdint>
#include <memory>
#include <vector>

#include "spotopt/store/store.h"

namespace spotopt {

absl::Status Store::AddPriceObservations(const std::vector<PriceObservation>& observations) {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = Begin(TxMode::kWrite);
  if (!tx.ok()) return tx.status();
  for (const PriceObservation& o : observations) {
    if (absl::StatusOr<int64_t> seq = (*tx)->InsertPriceObservation(o); !seq.ok()) {
      return seq.status();
    }
  }
  return (*tx)->Commit();
}

}  // namespace spotopt
