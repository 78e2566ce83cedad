#include "market.h"

#include <algorithm>

#include <fmt/format.h>

namespace spotopt::backtest {

Time ToTime(Sec s) { return absl::FromUnixSeconds(s); }
Sec ToSec(Time t) { return absl::ToUnixSeconds(t); }

int64_t UnitsToMicros(Units u) {
  constexpr Units kPerMicro = 3600;
  const Units q = u / kPerMicro;
  const Units r = u % kPerMicro;
  if (2 * (r < 0 ? -r : r) >= kPerMicro) return q + (u < 0 ? -1 : 1);
  return q;
}

std::string Series::name() const {
  return on_demand() ? instance_type + " on-demand" : instance_type + "." + az;
}

absl::StatusOr<Market> Market::Create(std::string region, Sec start, Sec end, Sec grid) {
  if (grid <= 0 || start >= end || start % grid != 0 || end % grid != 0) {
    return absl::InvalidArgumentError(
        fmt::format("period: want start < end, both multiples of {} s", grid));
  }
  return Market(std::move(region), start, end, grid);
}

absl::StatusOr<SeriesId> Market::Add(Series s) {
  const std::string name = s.name();
  if (s.steps.empty()) return absl::InvalidArgumentError(name + ": no price");
  for (size_t k = 0; k < s.steps.size(); ++k) {
    if (s.steps[k].price <= 0) return absl::InvalidArgumentError(name + ": price must be > 0");
    if (k > 0 && (s.steps[k].at <= s.steps[k - 1].at || s.steps[k].price == s.steps[k - 1].price)) {
      return absl::InvalidArgumentError(name + ": steps must ascend and change the price");
    }
  }
  if (by_name_.contains(name)) return absl::InvalidArgumentError(name + ": added twice");
  const auto id = static_cast<SeriesId>(series_.size());
  by_name_[name] = id;
  if (s.on_demand()) {
    on_demand_[s.instance_type] = id;
  } else {
    pools_[s.instance_type].push_back(id);
  }
  series_.push_back(std::move(s));
  return id;
}

std::optional<SeriesId> Market::Find(const std::string& type, const std::string& az) const {
  auto it = by_name_.find(Series{type, az, {}}.name());
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

const std::vector<SeriesId>& Market::Pools(const std::string& type) const {
  static const std::vector<SeriesId> kNone;
  auto it = pools_.find(type);
  return it == pools_.end() ? kNone : it->second;
}

std::optional<SeriesId> Market::OnDemand(const std::string& type) const {
  auto it = on_demand_.find(type);
  if (it == on_demand_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Market::Types() const {
  std::vector<std::string> out;
  for (const auto& [type, id] : on_demand_) out.push_back(type);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<int64_t> Market::PriceAt(SeriesId id, Sec t) const {
  const std::vector<Step>& steps = series_[id].steps;
  auto it = std::upper_bound(steps.begin(), steps.end(), t,
                             [](Sec x, const Step& s) { return x < s.at; });
  if (it == steps.begin()) return std::nullopt;
  return std::prev(it)->price;
}

Units Market::Integral(SeriesId id, Sec a, Sec b) const {
  const std::vector<Step>& steps = series_[id].steps;
  auto it = std::upper_bound(steps.begin(), steps.end(), a,
                             [](Sec x, const Step& s) { return x < s.at; });
  Units total = 0;
  for (Sec from = a; from < b;) {
    const int64_t price = std::prev(it)->price;
    const Sec to = it == steps.end() ? b : std::min(b, it->at);
    total += price * (to - from);
    from = to;
    if (it != steps.end()) ++it;
  }
  return total;
}

std::span<const PoolHistory> PoolsOf(const Dataset& data, const std::string& type) {
  const auto by_type = [](const PoolHistory& p, const std::string& t) {
    return p.instance_type < t;
  };
  auto first = std::lower_bound(data.pools.begin(), data.pools.end(), type, by_type);
  auto last = first;
  while (last != data.pools.end() && last->instance_type == type) ++last;
  return {first, last};
}

absl::StatusOr<Market> SampleMarket(const Dataset& data, const std::vector<std::string>& types,
                                    Sec start, Sec end, Sec grid) {
  absl::StatusOr<Market> market = Market::Create(data.region, start, end, grid);
  if (!market.ok()) return market.status();
  std::vector<std::string> sorted = types;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& type : sorted) {
    auto od = data.on_demand.find(type);
    if (od == data.on_demand.end()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: no on-demand price in {}, so no savings to measure", type, data.region));
    }
    // The list predates the run (eu-west-1's is of 2020-07-02); it is loaded at the
    // start: the Controller's price retention (400 days) would drop an older price.
    Series on_demand{type, "", {Step{start, od->second.micros()}}};
    if (absl::StatusOr<SeriesId> s = market->Add(std::move(on_demand)); !s.ok()) return s.status();
    bool priced = false;
    for (const PoolHistory& history : PoolsOf(data, type)) {
      priced = true;
      Series pool{type, history.az, {}};
      // Each row moves the price from the first grid point at or after it; of several
      // rows before one grid point, the last one is what that point reads.
      for (const auto& [when, money] : history.rows) {
        const Sec t = ToSec(when);
        const Sec at = t <= start ? start : start + (t - start + grid - 1) / grid * grid;
        if (at >= end) break;
        const int64_t price = money.micros();
        if (!pool.steps.empty() && pool.steps.back().at == at) pool.steps.pop_back();
        if (!pool.steps.empty() && pool.steps.back().price == price) continue;
        pool.steps.push_back(Step{at, price});
      }
      if (!pool.steps.empty()) {
        if (absl::StatusOr<SeriesId> s = market->Add(std::move(pool)); !s.ok()) return s.status();
      }
    }
    if (!priced) {
      return absl::InvalidArgumentError(fmt::format("{}: no spot prices in {}", type, data.region));
    }
  }
  return market;
}

std::pair<Sec, Sec> DefaultPeriod(const Dataset& data, const std::vector<std::string>& types,
                                  Sec grid) {
  Sec first_row = INT64_MAX, last_row = INT64_MIN;
  std::vector<Sec> pool_firsts;
  for (const std::string& type : types) {
    for (const PoolHistory& p : PoolsOf(data, type)) {
      if (p.rows.empty()) continue;
      pool_firsts.push_back(ToSec(p.rows.front().first));
      first_row = std::min(first_row, pool_firsts.back());
      last_row = std::max(last_row, ToSec(p.rows.back().first));
    }
  }
  constexpr Sec kTwoDays = Sec{2} * 86400;
  Sec start = first_row;
  for (Sec t : pool_firsts) {
    if (t <= first_row + kTwoDays) start = std::max(start, t);
  }
  const Sec up = (start + grid - 1) / grid * grid;
  return {up, last_row / grid * grid};
}

}  // namespace spotopt::backtest
