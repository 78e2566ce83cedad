// PgTransaction: price observations, stored in plain columns (no `doc`).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

// The caller's strings travel without a copy; the seq comes back from the insert.
absl::StatusOr<int64_t> PgTransaction::InsertPriceObservation(const PriceObservation& o) {
  Params p;
  p.Add(o.tenant_id);
  p.Add(o.agent_id);
  p.Add(o.registration_id);
  p.Add(o.region);
  p.Add(o.az);
  p.Add(o.instance_type);
  p.Add(ToString(o.kind));
  p.Add(o.price.micros());
  p.Add(o.observed_at);
  p.Add(o.received_at);
  // A boolean in binary form is one byte.
  p.Add(std::string_view(o.server_received ? "\x01" : "\x00", 1));
  p.Add(ToString(o.source));
  absl::StatusOr<Result> r = Write(kInsertPrice, p, "insert price observation", false);
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}
absl::StatusOr<std::vector<PriceObservation>> PgTransaction::ListPriceObservations(
    std::string_view tenant_id, const Pool& pool, Time from, Time to) {
  return List<PriceObservation>(kListPrices, "list price observations", tenant_id,
                                std::string_view(pool.region), std::string_view(pool.instance_type),
                                std::string_view(pool.az), from, to);
}
absl::StatusOr<std::vector<PriceObservation>> PgTransaction::ListLatestPrices(
    std::string_view tenant_id, std::string_view region, std::string_view instance_type) {
  return List<PriceObservation>(kListLatestPrices, "list latest prices", tenant_id, region,
                                instance_type);
}
absl::StatusOr<std::vector<PriceObservation>> PgTransaction::ListTenantPriceObservations(
    std::string_view tenant_id) {
  return List<PriceObservation>(kListTenantPrices, "list price observations", tenant_id);
}
absl::StatusOr<std::vector<Pool>> PgTransaction::ListPriceSeries(std::string_view tenant_id) {
  Params p(tenant_id);
  absl::StatusOr<Result> r = Exec(kListPriceSeries, p, "list price series");
  if (!r.ok()) return r.status();
  std::vector<Pool> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row) {
    out.push_back(Pool{.region = std::string(r->Text(row, 0)),
                       .az = std::string(r->Text(row, 2)),
                       .instance_type = std::string(r->Text(row, 1))});
  }
  return out;
}
absl::Status PgTransaction::DeletePriceObservations(const std::vector<int64_t>& seqs) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (seqs.empty()) return absl::OkStatus();
  Params p;
  p.AddArray(seqs);
  return Write(kDeletePrices, p, "delete price observations", false).status();
}

absl::StatusOr<PriceObservation> PgTransaction::ReadPrice(const Result& r, int row) {
  PriceObservation o;
  o.seq = r.Int(row, 0);
  o.tenant_id = r.Text(row, 1);
  o.agent_id = r.Text(row, 2);
  o.registration_id = r.Text(row, 3);
  o.region = r.Text(row, 4);
  o.az = r.Text(row, 5);
  o.instance_type = r.Text(row, 6);
  absl::Status s = codec::EnumFromText(r.Text(row, 7), "price_observations.kind", &o.kind);
  if (!s.ok()) return s;
  o.price = Money::FromMicros(r.Int(row, 8));
  o.observed_at = FromMicros(r.Int(row, 9));
  o.received_at = FromMicros(r.Int(row, 10));
  o.server_received = r.Int(row, 11) != 0;
  s = codec::EnumFromText(r.Text(row, 12), "price_observations.source", &o.source);
  if (!s.ok()) return s;
  return o;
}

}  // namespace spotopt::pg
