#include "store/memory/price_store.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace spotopt::memory {

void PriceStore::Insert(const PriceObservation& o, int64_t seq) {
  const SeriesKey key{strings_.Intern(o.tenant_id), strings_.Intern(o.region),
                      strings_.Intern(o.instance_type), strings_.Intern(o.az), o.kind};
  const uint32_t series = SeriesOf(key);
  const PriceRow row{seq,
                     ToMicros(o.observed_at),
                     ToMicros(o.received_at),
                     o.price.micros(),
                     Reporter(o.agent_id, o.registration_id),
                     static_cast<uint8_t>((o.server_received ? kServerReceived : 0) |
                                          static_cast<int>(o.source) << kSourceShift)};
  series_[series].rows.Insert(row);
  seqs_.Set(seq, series);
}

void PriceStore::Delete(const std::vector<int64_t>& seqs, PriceDeletion* undo) {
  std::vector<std::pair<uint32_t, int64_t>> found;  // (series, seq)
  for (int64_t seq : seqs) {
    if (uint32_t series = seqs_.Get(seq); series != SeqIndex::kNone) {
      found.emplace_back(series, seq);
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  for (auto begin = found.begin(); begin != found.end();) {
    const uint32_t series = begin->first;
    auto end = std::find_if(begin, found.end(), [&](const auto& f) { return f.first != series; });
    std::vector<PriceRow>& removed =
        undo->series.emplace_back(series, std::vector<PriceRow>()).second;
    series_[series].rows.EraseIf(
        static_cast<size_t>(end - begin),
        [&](const PriceRow& r) {
          return std::binary_search(begin, end, std::make_pair(series, r.seq));
        },
        [&](const PriceRow& r) { removed.push_back(r); });
    for (auto it = begin; it != end; ++it) seqs_.Clear(it->second);
    begin = end;
  }
}

void PriceStore::Restore(const PriceDeletion& deletion) {
  for (const auto& [series, rows] : deletion.series) {
    series_[series].rows.Merge(rows);
    for (const PriceRow& row : rows) seqs_.Set(row.seq, series);
  }
}

void PriceStore::RemoveInserted(int64_t first, int64_t end) {
  absl::flat_hash_map<uint32_t, size_t> per_series;
  for (int64_t seq = first; seq < end; ++seq) {
    if (uint32_t series = seqs_.Get(seq); series != SeqIndex::kNone) {
      ++per_series[series];
      seqs_.Clear(seq);
    }
  }
  for (const auto& [series, count] : per_series) {
    series_[series].rows.EraseIf(
        count, [&](const PriceRow& r) { return r.seq >= first; }, [](const PriceRow&) {});
  }
}

std::vector<PriceObservation> PriceStore::Range(std::string_view tenant_id, const Pool& pool,
                                                Time from, Time to) const {
  std::vector<PriceObservation> out;
  std::optional<GroupKey> group = FindGroup(tenant_id, pool.region, pool.instance_type);
  std::optional<uint32_t> az = strings_.Find(pool.az);
  if (!group || !az) return out;
  // An AZ's rows are in one series per kind (in practice one kind per AZ): each range
  // is in order already, two are merged.
  size_t first_series_end = 0;
  for (PriceKind kind : {PriceKind::kSpot, PriceKind::kOnDemand}) {
    first_series_end = out.size();
    auto it = series_by_key_.find(
        SeriesKey{group->tenant, group->region, group->instance_type, *az, kind});
    if (it == series_by_key_.end()) continue;
    const Series& s = series_[it->second];
    s.rows.ForEachIn(ToMicros(from), ToMicros(to),
                     [&](const PriceRow& row) { out.push_back(Materialize(s, row)); });
  }
  std::inplace_merge(out.begin(), out.begin() + static_cast<ptrdiff_t>(first_series_end), out.end(),
                     [](const PriceObservation& a, const PriceObservation& b) {
                       return std::tie(a.observed_at, a.seq) < std::tie(b.observed_at, b.seq);
                     });
  return out;
}

std::vector<PriceObservation> PriceStore::Latest(std::string_view tenant_id,
                                                 std::string_view region,
                                                 std::string_view instance_type) const {
  std::vector<PriceObservation> out;
  std::optional<GroupKey> group = FindGroup(tenant_id, region, instance_type);
  if (!group) return out;
  auto it = series_by_group_.find(*group);
  if (it == series_by_group_.end()) return out;
  for (uint32_t id : it->second) {
    const Series& s = series_[id];
    if (!s.rows.empty()) out.push_back(Materialize(s, s.rows.back()));
  }
  std::sort(out.begin(), out.end(), [](const PriceObservation& a, const PriceObservation& b) {
    return std::make_pair(std::string_view(a.az), ToString(a.kind)) <
           std::make_pair(std::string_view(b.az), ToString(b.kind));
  });
  return out;
}

std::vector<PriceObservation> PriceStore::OfTenant(std::string_view tenant_id) const {
  std::vector<std::pair<const Series*, const PriceRow*>> picked;
  for (uint32_t id : TenantSeries(tenant_id)) {
    const Series& s = series_[id];
    s.rows.ForEach([&](const PriceRow& row) { picked.emplace_back(&s, &row); });
  }
  std::sort(picked.begin(), picked.end(),
            [](const auto& a, const auto& b) { return a.second->seq < b.second->seq; });
  std::vector<PriceObservation> out;
  out.reserve(picked.size());
  for (const auto& [s, row] : picked) out.push_back(Materialize(*s, *row));
  return out;
}

std::vector<Pool> PriceStore::Pools(std::string_view tenant_id) const {
  std::vector<Pool> out;
  for (uint32_t id : TenantSeries(tenant_id)) {
    const Series& s = series_[id];
    if (s.rows.empty()) continue;
    out.push_back(Pool{std::string(strings_[s.key.region]), std::string(strings_[s.key.az]),
                       std::string(strings_[s.key.instance_type])});
  }
  auto order = [](const Pool& p) { return std::tie(p.region, p.instance_type, p.az); };
  std::sort(out.begin(), out.end(),
            [&](const Pool& a, const Pool& b) { return order(a) < order(b); });
  // A spot and an on-demand series of one AZ are one pool.
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
uint32_t PriceStore::SeriesOf(const SeriesKey& key) {
  auto [it, inserted] = series_by_key_.try_emplace(key, static_cast<uint32_t>(series_.size()));
  if (inserted) {
    series_.push_back(Series{key, {}});
    series_by_tenant_[key.tenant].push_back(it->second);
    series_by_group_[GroupKey{key.tenant, key.region, key.instance_type}].push_back(it->second);
  }
  return it->second;
}

uint32_t PriceStore::Reporter(std::string_view agent_id, std::string_view registration_id) {
  const std::pair<uint32_t, uint32_t> ids{strings_.Intern(agent_id),
                                          strings_.Intern(registration_id)};
  auto [it, inserted] = reporter_ids_.try_emplace(ids, static_cast<uint32_t>(reporters_.size()));
  if (inserted) reporters_.push_back(ids);
  return it->second;
}

std::optional<GroupKey> PriceStore::FindGroup(std::string_view tenant_id, std::string_view region,
                                              std::string_view instance_type) const {
  std::optional<uint32_t> tenant = strings_.Find(tenant_id);
  std::optional<uint32_t> r = strings_.Find(region);
  std::optional<uint32_t> type = strings_.Find(instance_type);
  if (!tenant || !r || !type) return std::nullopt;
  return GroupKey{*tenant, *r, *type};
}

const std::vector<uint32_t>& PriceStore::TenantSeries(std::string_view tenant_id) const {
  static const std::vector<uint32_t> kNoSeries;
  std::optional<uint32_t> tenant = strings_.Find(tenant_id);
  if (!tenant) return kNoSeries;
  auto it = series_by_tenant_.find(*tenant);
  return it == series_by_tenant_.end() ? kNoSeries : it->second;
}

PriceObservation PriceStore::Materialize(const Series& s, const PriceRow& row) const {
  const auto& [agent, registration] = reporters_[row.reporter];
  PriceObservation o;
  o.seq = row.seq;
  o.tenant_id = strings_[s.key.tenant];
  o.agent_id = strings_[agent];
  o.registration_id = strings_[registration];
  o.region = strings_[s.key.region];
  o.az = strings_[s.key.az];
  o.instance_type = strings_[s.key.instance_type];
  o.kind = s.key.kind;
  o.price = Money::FromMicros(row.price_micros);
  o.observed_at = FromMicros(row.observed_us);
  o.received_at = FromMicros(row.received_us);
  o.server_received = (row.flags & kServerReceived) != 0;
  o.source = static_cast<PriceSource>(row.flags >> kSourceShift);
  return o;
}

}  // namespace spotopt::memory
