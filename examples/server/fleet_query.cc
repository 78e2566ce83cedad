#include "fleet_query.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <tuple>

#include "common/enum_text.h"

namespace spotopt::server {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of `key`, or nullopt when absent or empty (an empty filter is no filter).
std::optional<std::string> Param(const boost::urls::params_view& params, std::string_view key) {
  auto it = params.find(key);
  if (it == params.end() || (*it).value.empty()) return std::nullopt;
  return (*it).value;
}

template <class E>
absl::Status ParseEnumParam(const boost::urls::params_view& params, std::string_view key,
                            std::optional<E>* out) {
  const std::optional<std::string> text = Param(params, key);
  if (!text) return absl::OkStatus();
  *out = ParseEnum<E>(*text);
  if (!*out) return absl::InvalidArgumentError(fmt::format("{}: unknown value {}", key, *text));
  return absl::OkStatus();
}

absl::StatusOr<size_t> ParseCount(std::string_view key, std::string_view text) {
  size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(fmt::format("{}: not a count", key));
  }
  return n;
}

std::string PoolId(const AgentView& v) {
  const std::optional<Pool> pool = v.agent.placement.pool();
  return pool ? pool->id() : std::string();
}

bool Matches(const AgentView& v, const FleetQuery& q) {
  const Agent& a = v.agent;
  if (q.lifecycle && a.lifecycle != *q.lifecycle) return false;
  if (q.liveness && v.liveness != *q.liveness) return false;
  if (q.mode && a.placement.mode != *q.mode) return false;
  if (!q.pool.empty() && PoolId(v) != q.pool) return false;
  if (!q.ids.empty() && !std::binary_search(q.ids.begin(), q.ids.end(), a.id)) return false;
  if (q.text.empty()) return true;
  for (const std::string* field : {&a.logical_id, &a.id, &a.placement.instance_id}) {
    if (Lower(*field).find(q.text) != std::string::npos) return true;
  }
  return Lower(PoolId(v)).find(q.text) != std::string::npos;
}

// Ties fall back to the logical id, so every order is total and pages are stable.
bool Before(const AgentView& x, const AgentView& y, FleetQuery::SortKey key) {
  const Agent& a = x.agent;
  const Agent& b = y.agent;
  switch (key) {
    case FleetQuery::SortKey::kNone:
    case FleetQuery::SortKey::kName:
      break;
    case FleetQuery::SortKey::kLiveness:
      if (x.liveness != y.liveness) return x.liveness < y.liveness;
      break;
    case FleetQuery::SortKey::kMode:
      if (a.placement.mode != b.placement.mode) return a.placement.mode < b.placement.mode;
      break;
    case FleetQuery::SortKey::kPool:
      if (const std::string px = PoolId(x), py = PoolId(y); px != py) return px < py;
      break;
    case FleetQuery::SortKey::kSince:
      if (a.placement_since != b.placement_since) return a.placement_since < b.placement_since;
      break;
  }
  return std::tie(a.logical_id, a.id) < std::tie(b.logical_id, b.id);
}

}  // namespace

absl::StatusOr<FleetQuery> ParseFleetQuery(const boost::urls::params_view& params) {
  FleetQuery q;
  for (const absl::Status& s : {ParseEnumParam(params, "lifecycle", &q.lifecycle),
                                ParseEnumParam(params, "liveness", &q.liveness)}) {
    if (!s.ok()) return s;
  }
  if (const std::optional<std::string> mode = Param(params, "mode")) {
    absl::StatusOr<Mode> m = ParseMode(*mode);
    if (!m.ok()) return absl::InvalidArgumentError(fmt::format("mode: unknown value {}", *mode));
    q.mode = *m;
  }
  q.pool = Param(params, "pool").value_or("");
  q.text = Lower(Param(params, "q").value_or(""));
  if (const std::optional<std::string> ids = Param(params, "ids")) {
    for (std::string_view rest = *ids; !rest.empty();) {
      const size_t comma = std::min(rest.find(','), rest.size());
      if (comma > 0) q.ids.emplace_back(rest.substr(0, comma));
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
    if (q.ids.size() > kMaxFleetPage) {
      return absl::InvalidArgumentError(fmt::format("ids: at most {}", kMaxFleetPage));
    }
    std::sort(q.ids.begin(), q.ids.end());
  }
  if (std::optional<std::string> sort = Param(params, "sort")) {
    std::string_view key = *sort;
    q.descending = key.starts_with('-');
    if (q.descending) key.remove_prefix(1);
    static constexpr std::pair<std::string_view, FleetQuery::SortKey> kKeys[] = {
        {"name", FleetQuery::SortKey::kName},   {"liveness", FleetQuery::SortKey::kLiveness},
        {"mode", FleetQuery::SortKey::kMode},   {"pool", FleetQuery::SortKey::kPool},
        {"since", FleetQuery::SortKey::kSince},
    };
    const auto* found = std::find_if(std::begin(kKeys), std::end(kKeys),
                                     [&](const auto& k) { return k.first == key; });
    if (found == std::end(kKeys)) {
      return absl::InvalidArgumentError(fmt::format("sort: unknown key {}", key));
    }
    q.sort = found->second;
  }
  if (std::optional<std::string> offset = Param(params, "offset")) {
    absl::StatusOr<size_t> n = ParseCount("offset", *offset);
    if (!n.ok()) return n.status();
    q.offset = *n;
  }
  if (std::optional<std::string> limit = Param(params, "limit")) {
    absl::StatusOr<size_t> n = ParseCount("limit", *limit);
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > kMaxFleetPage) {
      return absl::InvalidArgumentError(fmt::format("limit: 1 to {}", kMaxFleetPage));
    }
    q.limit = *n;
  }
  return q;
}

FleetPage SelectFleet(const std::vector<AgentView>& agents, const FleetQuery& query) {
  std::vector<const AgentView*> matched;
  matched.reserve(agents.size());
  for (const AgentView& v : agents) {
    if (Matches(v, query)) matched.push_back(&v);
  }
  const size_t begin = std::min(query.offset, matched.size());
  const size_t end = std::min(matched.size(), begin + query.limit.value_or(matched.size()));
  if (query.sort != FleetQuery::SortKey::kNone) {
    auto less = [&](const AgentView* x, const AgentView* y) {
      return query.descending ? Before(*y, *x, query.sort) : Before(*x, *y, query.sort);
    };
    // Only the page needs to be in order: O(n log page) for a page of a big fleet.
    std::partial_sort(matched.begin(), matched.begin() + static_cast<std::ptrdiff_t>(end),
                      matched.end(), less);
  }
  FleetPage page{.matched = matched.size()};
  page.agents.assign(matched.begin() + static_cast<std::ptrdiff_t>(begin),
                     matched.begin() + static_cast<std::ptrdiff_t>(end));
  return page;
}

boost::json::object FleetSummaryJson(const std::vector<AgentView>& agents) {
  int64_t active = 0;
  int64_t deleted = 0;
  std::array<int64_t, EnumCount<Liveness>::value> liveness{};
  std::array<int64_t, EnumCount<Mode>::value> modes{};
  std::map<std::string, int64_t> pools;  // sorted: the dashboard lists them in order
  for (const AgentView& v : agents) {
    if (v.agent.lifecycle == Lifecycle::kDeleted) {
      ++deleted;
      continue;
    }
    ++active;
    ++liveness[static_cast<size_t>(v.liveness)];
    ++modes[static_cast<size_t>(v.agent.placement.mode)];
    if (std::string pool = PoolId(v); !pool.empty()) ++pools[std::move(pool)];
  }
  boost::json::object by_liveness;
  for (size_t i = 0; i < liveness.size(); ++i) {
    by_liveness[ToString(static_cast<Liveness>(i))] = liveness[i];
  }
  boost::json::object by_mode;
  for (size_t i = 0; i < modes.size(); ++i) by_mode[ToString(static_cast<Mode>(i))] = modes[i];
  boost::json::object by_pool;
  for (const auto& [pool, n] : pools) by_pool[pool] = n;
  return {{"active", active},
          {"deleted", deleted},
          {"liveness", std::move(by_liveness)},
          {"mode", std::move(by_mode)},
          {"pools", std::move(by_pool)}};
}

}  // namespace spotopt::server
