// SqliteTransaction: price observations, stored in plain columns (no `doc`). Each
// operation first makes the observations held before the transaction began
// readable (ShowHeldPrices); inserting after them keeps seq in the order of arrival.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

// Binds the caller's strings in place (SQLITE_STATIC) and reads the seq back from
// the rowid: no copy, no document, no extra statement.
absl::StatusOr<int64_t> SqliteTransaction::InsertPriceObservation(const PriceObservation& o) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (absl::Status s = ShowHeldPrices(); !s.ok()) return s;
  Query q(*conn_, kInsertPrice);
  q.Bind(1, o.tenant_id);
  q.Bind(2, o.agent_id);
  q.Bind(3, o.registration_id);
  q.Bind(4, o.region);
  q.Bind(5, o.az);
  q.Bind(6, o.instance_type);
  q.Bind(7, ToString(o.kind));
  q.Bind(8, o.price.micros());
  q.Bind(9, o.observed_at);
  q.Bind(10, o.received_at);
  q.Bind(11, int64_t{o.server_received ? 1 : 0});
  q.Bind(12, ToString(o.source));
  const int rc = q.Step();
  if (rc != SQLITE_DONE) return q.Error(rc, "insert price observation");
  return sqlite3_last_insert_rowid(conn_->db);
}
absl::StatusOr<std::vector<PriceObservation>> SqliteTransaction::ListPriceObservations(
    std::string_view tenant_id, const Pool& pool, Time from, Time to) {
  if (absl::Status s = ShowHeldPrices(); !s.ok()) return s;
  return List<PriceObservation>(kListPrices, "list price observations", tenant_id,
                                std::string_view(pool.region), std::string_view(pool.instance_type),
                                std::string_view(pool.az), from, to);
}
absl::StatusOr<std::vector<PriceObservation>> SqliteTransaction::ListLatestPrices(
    std::string_view tenant_id, std::string_view region, std::string_view instance_type) {
  if (absl::Status s = ShowHeldPrices(); !s.ok()) return s;
  constexpr std::string_view kWhat = "list latest prices";
  std::vector<PriceObservation> out;
  // Kinds are never empty, so ("", "") comes before every stored pair.
  std::string az;
  std::string kind;
  for (;;) {
    {
      Query q(*conn_, kNextLatestPricePair);
      BindAll(q, tenant_id, region, instance_type, std::string_view(az), std::string_view(kind));
      const int rc = q.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return q.Error(rc, kWhat);
      az = q.Text(0);
      kind = q.Text(1);
    }
    Query q(*conn_, kLatestPriceOfPair);
    BindAll(q, tenant_id, region, instance_type, std::string_view(az), std::string_view(kind));
    const int rc = q.Step();
    if (rc != SQLITE_ROW) return q.Error(rc, kWhat);
    absl::StatusOr<PriceObservation> o = ReadRow<PriceObservation>(q);
    if (!o.ok()) return o.status();
    out.push_back(*std::move(o));
  }
  return out;
}
absl::StatusOr<std::vector<PriceObservation>> SqliteTransaction::ListTenantPriceObservations(
    std::string_view tenant_id) {
  if (absl::Status s = ShowHeldPrices(); !s.ok()) return s;
  return List<PriceObservation>(kListTenantPrices, "list price observations", tenant_id);
}
absl::StatusOr<std::vector<Pool>> SqliteTransaction::ListPriceSeries(std::string_view tenant_id) {
  if (absl::Status s = ShowHeldPrices(); !s.ok()) return s;
  std::vector<Pool> out;
  for (;;) {
    Query q(*conn_, out.empty() ? kFirstPriceSeries : kNextPriceSeries);
    if (out.empty()) {
      q.Bind(1, tenant_id);
    } else {
      const Pool& last = out.back();
      BindAll(q, tenant_id, std::string_view(last.region), std::string_view(last.instance_type),
              std::string_view(last.az));
    }
    const int rc = q.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return q.Error(rc, "list price series");
    out.push_back(Pool{.region = std::string(q.Text(0)),
                       .az = std::string(q.Text(2)),
                       .instance_type = std::string(q.Text(1))});
  }
  return out;
}
absl::Status SqliteTransaction::DeletePriceObservations(const std::vector<int64_t>& seqs) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  for (int64_t seq : seqs) {
    Query q(*conn_, kDeletePrice);
    q.Bind(1, seq);
    if (const int rc = q.Step(); rc != SQLITE_DONE) {
      return q.Error(rc, "delete price observations");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PriceObservation> SqliteTransaction::ReadPrice(Query& q) {
  PriceObservation o;
  o.seq = q.Int(0);
  o.tenant_id = q.Text(1);
  o.agent_id = q.Text(2);
  o.registration_id = q.Text(3);
  o.region = q.Text(4);
  o.az = q.Text(5);
  o.instance_type = q.Text(6);
  absl::Status s = codec::EnumFromText(q.Text(7), "price_observations.kind", &o.kind);
  if (!s.ok()) return s;
  o.price = Money::FromMicros(q.Int(8));
  o.observed_at = FromMicros(q.Int(9));
  o.received_at = FromMicros(q.Int(10));
  o.server_received = q.Int(11) != 0;
  s = codec::EnumFromText(q.Text(12), "price_observations.source", &o.source);
  if (!s.ok()) return s;
  return o;
}

}  // namespace spotopt::sqlite
