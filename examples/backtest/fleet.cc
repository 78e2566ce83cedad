#include "fleet.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace spotopt::backtest {
namespace {

struct FamilyName {
  std::string klass;  // letters before the generation
  bool arm = false;
};

FamilyName ParseFamily(std::string_view type) {
  const std::string_view family = type.substr(0, type.find('.'));
  FamilyName out;
  size_t k = 0;
  while (k < family.size() && std::isalpha(static_cast<unsigned char>(family[k]))) ++k;
  out.klass = std::string(family.substr(0, k));
  while (k < family.size() && std::isdigit(static_cast<unsigned char>(family[k]))) ++k;
  out.arm = family == "a1" || family.substr(k).find('g') != std::string_view::npos;
  return out;
}

}  // namespace

uint64_t HashKey(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across runs and platforms
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::vector<std::string> DefaultTypes(const Dataset& data, int min_pools) {
  std::vector<std::string> out;
  for (size_t k = 0; k < data.pools.size(); ++k) {
    const std::string& type = data.pools[k].instance_type;
    if (k > 0 && data.pools[k - 1].instance_type == type) continue;
    if (static_cast<int>(PoolsOf(data, type).size()) >= min_pools &&
        data.on_demand.contains(type)) {
      out.push_back(type);
    }
  }
  return out;  // data.pools is ordered by type
}

std::vector<std::string> CompatibleTypes(const Dataset& data, const std::string& type,
                                         const std::vector<std::string>& among) {
  auto shape = data.shapes.find(type);
  if (shape == data.shapes.end()) return {type};
  const FamilyName mine = ParseFamily(type);
  std::vector<std::string> out;
  for (const std::string& other : among) {
    auto s = data.shapes.find(other);
    if (s == data.shapes.end() || s->second.cores != shape->second.cores ||
        s->second.ram_gb != shape->second.ram_gb) {
      continue;
    }
    const FamilyName theirs = ParseFamily(other);
    if (theirs.klass == mine.klass && theirs.arm == mine.arm) out.push_back(other);
  }
  out.push_back(type);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Families FindFamilies(const Dataset& data, const std::vector<std::string>& types) {
  Families out;
  for (const std::string& type : types) out[type] = CompatibleTypes(data, type, types);
  return out;
}

Fleet BuildFleet(const Market& market, int per_type, const Families& families) {
  const std::vector<std::string> types = market.Types();
  const auto places_of = [&](const std::string& type) {
    std::vector<SeriesId> out = market.Pools(type);
    out.push_back(*market.OnDemand(type));
    return out;
  };
  Fleet fleet;
  for (const std::string& type : types) {
    std::vector<SeriesId> flex;
    std::vector<std::string> flex_types;
    auto family = families.find(type);
    for (const std::string& t :
         family == families.end() ? std::vector<std::string>{type} : family->second) {
      if (!market.OnDemand(t)) continue;  // not in this market
      for (SeriesId id : places_of(t)) flex.push_back(id);
      flex_types.push_back(t);
    }
    std::sort(flex.begin(), flex.end());
    std::sort(flex_types.begin(), flex_types.end());
    for (int n = 1; n <= per_type; ++n) {
      AgentSpec a;
      a.logical_id = fmt::format("{}#{}", type, n);
      a.instance_type = type;
      a.key = HashKey(a.logical_id);
      a.places = places_of(type);
      a.flex_places = flex;
      a.flex_types = flex_types;
      fleet.push_back(std::move(a));
    }
  }
  return fleet;
}

}  // namespace spotopt::backtest
