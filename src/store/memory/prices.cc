// MemoryTransaction: price observations (PriceStore, price_store.h).
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "fmt/format.h"
#include "store/memory/transaction.h"

namespace spotopt::memory {

absl::StatusOr<int64_t> MemoryTransaction::InsertPriceObservation(const PriceObservation& o) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  const int64_t seq = state_->next_price_seq++;
  state_->prices.Insert(o, seq);
  return seq;
}
absl::StatusOr<std::vector<PriceObservation>> MemoryTransaction::ListPriceObservations(
    std::string_view tenant_id, const Pool& pool, Time from, Time to) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->prices.Range(tenant_id, pool, from, to);
}
absl::StatusOr<std::vector<PriceObservation>> MemoryTransaction::ListLatestPrices(
    std::string_view tenant_id, std::string_view region, std::string_view instance_type) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->prices.Latest(tenant_id, region, instance_type);
}
absl::StatusOr<std::vector<PriceObservation>> MemoryTransaction::ListTenantPriceObservations(
    std::string_view tenant_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->prices.OfTenant(tenant_id);
}
absl::StatusOr<std::vector<Pool>> MemoryTransaction::ListPriceSeries(std::string_view tenant_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->prices.Pools(tenant_id);
}
absl::Status MemoryTransaction::DeletePriceObservations(const std::vector<int64_t>& seqs) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  auto deletion = std::make_unique<PriceDeletion>();
  state_->prices.Delete(seqs, deletion.get());
  if (!deletion->series.empty()) undo_.push_back(UndoEntry{0, std::move(deletion)});
  return absl::OkStatus();
}

}  // namespace spotopt::memory
