#include "config.h"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "strategy.h"

namespace spotopt::backtest {
namespace {

namespace json = boost::json;

absl::Status Bad(std::string_view key, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("config.{}: {}", key, why));
}

absl::StatusOr<std::string> String(std::string_view key, const json::value& v) {
  if (!v.is_string()) return Bad(key, "want a string");
  return std::string(v.as_string());
}

absl::StatusOr<int64_t> Integer(std::string_view key, const json::value& v, int64_t lo,
                                int64_t hi) {
  if (!v.is_int64() && !v.is_uint64()) return Bad(key, "want an integer");
  if (v.is_uint64() && v.as_uint64() > static_cast<uint64_t>(hi)) {
    return Bad(key, fmt::format("want {} .. {}", lo, hi));
  }
  const int64_t x = v.is_int64() ? v.as_int64() : static_cast<int64_t>(v.as_uint64());
  if (x < lo || x > hi) return Bad(key, fmt::format("want {} .. {}", lo, hi));
  return x;
}

absl::StatusOr<std::vector<std::string>> Strings(std::string_view key, const json::value& v) {
  if (!v.is_array()) return Bad(key, "want a list of strings");
  std::vector<std::string> out;
  for (const json::value& x : v.as_array()) {
    if (!x.is_string() || x.as_string().empty()) return Bad(key, "want a list of strings");
    out.emplace_back(x.as_string());
  }
  return out;
}

// [min, max] with lo <= min <= max <= hi.
absl::StatusOr<std::pair<int64_t, int64_t>> Range(std::string_view key, const json::value& v,
                                                  int64_t lo, int64_t hi) {
  if (!v.is_array() || v.as_array().size() != 2) return Bad(key, "want [min, max]");
  absl::StatusOr<int64_t> a = Integer(key, v.as_array()[0], lo, hi);
  if (!a.ok()) return a.status();
  absl::StatusOr<int64_t> b = Integer(key, v.as_array()[1], lo, hi);
  if (!b.ok()) return b.status();
  if (*a > *b) return Bad(key, "want min <= max");
  return std::pair{*a, *b};
}

absl::StatusOr<Time> Moment(std::string_view key, const json::value& v) {
  absl::StatusOr<std::string> s = String(key, v);
  if (!s.ok()) return s.status();
  absl::StatusOr<Time> t = ParseTimestamp(*s);
  if (!t.ok()) return Bad(key, "want an RFC 3339 time, e.g. 2022-01-01T00:00:00Z");
  return *t;
}

const char* ModeName(InterruptionMode m) {
  switch (m) {
    case InterruptionMode::kNone:
      return "none";
    case InterruptionMode::kHazard:
      return "hazard";
    case InterruptionMode::kReplay:
      return "replay";
  }
  return "?";
}

// One key's reader: stores the value into the config or says why it cannot.
using Reader = std::function<absl::Status(std::string_view, const json::value&, Config&)>;

template <class T, class Set>
absl::Status Store(const absl::StatusOr<T>& v, Set set) {
  if (!v.ok()) return v.status();
  set(*v);
  return absl::OkStatus();
}

const std::map<std::string, Reader, std::less<>>& Readers() {
  static const auto* readers = new std::map<std::string, Reader, std::less<>>{
      {"data_dir", [](auto k, auto& v,
                      Config& c) { return Store(String(k, v), [&](auto x) { c.data_dir = x; }); }},
      {"region", [](auto k, auto& v,
                    Config& c) { return Store(String(k, v), [&](auto x) { c.region = x; }); }},
      {"types", [](auto k, auto& v,
                   Config& c) { return Store(Strings(k, v), [&](auto x) { c.types = x; }); }},
      {"min_pools",
       [](auto k, auto& v, Config& c) {
         return Store(Integer(k, v, 1, 100), [&](auto x) { c.min_pools = static_cast<int>(x); });
       }},
      {"agents_per_type",
       [](auto k, auto& v, Config& c) {
         return Store(Integer(k, v, 1, 1000),
                      [&](auto x) { c.agents_per_type = static_cast<int>(x); });
       }},
      {"family",
       [](auto k, auto& v, Config& c) {
         if (v.is_null()) return (c.family.clear(), absl::OkStatus());
         return Store(String(k, v), [&](auto x) { c.family = x; });
       }},
      {"family_types",
       [](auto k, auto& v, Config& c) {
         return Store(Strings(k, v), [&](auto x) { c.family_types = x; });
       }},
      {"strategies",
       [](auto k, auto& v, Config& c) -> absl::Status {
         absl::StatusOr<std::vector<std::string>> names = Strings(k, v);
         if (!names.ok()) return names.status();
         const std::vector<std::string> known = StrategyNames();
         for (const std::string& n : *names) {
           if (std::find(known.begin(), known.end(), n) == known.end()) {
             return Bad(k, fmt::format("no strategy '{}'; known: {}", n, fmt::join(known, ", ")));
           }
         }
         c.strategies = *names;
         return absl::OkStatus();
       }},
      {"seed",
       [](auto k, auto& v, Config& c) {
         return Store(Integer(k, v, 0, INT64_MAX), [&](auto x) {
           c.interruptions.seed = static_cast<uint64_t>(x);
           c.timing.seed = static_cast<uint64_t>(x);
         });
       }},
      {"interruptions",
       [](auto k, auto& v, Config& c) -> absl::Status {
         absl::StatusOr<std::string> s = String(k, v);
         if (!s.ok()) return s.status();
         for (InterruptionMode m :
              {InterruptionMode::kNone, InterruptionMode::kHazard, InterruptionMode::kReplay}) {
           if (*s == ModeName(m)) return (c.interruptions.mode = m, absl::OkStatus());
         }
         return Bad(k, "want hazard, replay or none");
       }},
      {"start", [](auto k, auto& v,
                   Config& c) { return Store(Moment(k, v), [&](auto x) { c.start = x; }); }},
      {"end",
       [](auto k, auto& v, Config& c) { return Store(Moment(k, v), [&](auto x) { c.end = x; }); }},
      {"poll_seconds",
       [](auto k, auto& v, Config& c) {
         return Store(Integer(k, v, 1, 3600), [&](auto x) { c.timing.poll_interval = x; });
       }},
      {"launch_seconds",
       [](auto k, auto& v, Config& c) {
         return Store(Range(k, v, 1, 3600), [&](auto x) {
           c.timing.launch_min = x.first;
           c.timing.launch_max = x.second;
         });
       }},
      {"cutover_seconds",
       [](auto k, auto& v, Config& c) {
         return Store(Integer(k, v, 0, 3600), [&](auto x) { c.timing.cutover = x; });
       }},
      // At least 1: agent v4 reads 0 as "keep the old instance", which nobody would
      // then terminate (protocol section 6.1).
      {"terminate_wait_seconds",
       [](auto k, auto& v, Config& c) {
         return Store(Integer(k, v, 1, 86400), [&](auto x) { c.timing.terminate_wait = x; });
       }},
      {"rebalance_lead_seconds",
       [](auto k, auto& v, Config& c) {
         return Store(Range(k, v, 121, 86400), [&](auto x) {
           c.interruptions.rebalance_lead_min = x.first;
           c.interruptions.rebalance_lead_max = x.second;
         });
       }},
      {"progress",
       [](auto k, auto& v, Config& c) -> absl::Status {
         if (!v.is_bool()) return Bad(k, "want true or false");
         c.progress = v.as_bool();
         return absl::OkStatus();
       }},
      {"model",
       [](auto k, auto& v, Config& c) {
         if (v.is_null()) return (c.model.clear(), absl::OkStatus());
         return Store(String(k, v), [&](auto x) { c.model = x; });
       }},
      {"evaluation",
       [](auto k, auto& v, Config& c) -> absl::Status {
         if (!v.is_bool()) return Bad(k, "want true or false");
         c.evaluation = v.as_bool();
         return absl::OkStatus();
       }},
  };
  return *readers;
}

}  // namespace

std::vector<std::string> Config::Strategies() const {
  std::vector<std::string> out;
  for (const std::string& n : StrategyNames()) {
    if (strategies.empty() ||
        std::find(strategies.begin(), strategies.end(), n) != strategies.end()) {
      out.push_back(n);
    }
  }
  return out;
}

absl::StatusOr<Config> ParseConfig(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return absl::InvalidArgumentError(fmt::format("config: not JSON: {}", ec.message()));
  if (!v.is_object()) return absl::InvalidArgumentError("config: want a JSON object");
  Config c;
  for (const auto& [key, value] : v.as_object()) {
    auto reader = Readers().find(std::string_view(key));
    if (reader == Readers().end()) {
      return Bad(std::string_view(key), "unknown key");
    }
    if (absl::Status s = reader->second(std::string_view(key), value, c); !s.ok()) return s;
  }
  if (c.start && c.end && *c.start >= *c.end) return Bad("end", "want start < end");
  return c;
}

std::string ConfigJson(const Config& c) {
  json::object o;
  o["data_dir"] = c.data_dir;
  o["region"] = c.region;
  o["types"] = json::value_from(c.types);
  o["min_pools"] = c.min_pools;
  o["agents_per_type"] = c.agents_per_type;
  o["family"] = c.family;
  o["family_types"] = json::value_from(c.family_types);
  o["strategies"] = json::value_from(c.Strategies());
  o["seed"] = c.timing.seed;
  o["interruptions"] = ModeName(c.interruptions.mode);
  if (c.start) o["start"] = FormatTimestamp(*c.start);
  if (c.end) o["end"] = FormatTimestamp(*c.end);
  o["poll_seconds"] = c.timing.poll_interval;
  o["launch_seconds"] = json::array{c.timing.launch_min, c.timing.launch_max};
  o["cutover_seconds"] = c.timing.cutover;
  o["terminate_wait_seconds"] = c.timing.terminate_wait;
  o["rebalance_lead_seconds"] =
      json::array{c.interruptions.rebalance_lead_min, c.interruptions.rebalance_lead_max};
  o["progress"] = c.progress;
  o["model"] = c.model.empty() ? json::value(nullptr) : json::value(c.model);
  o["evaluation"] = c.evaluation;
  return json::serialize(o);
}

}  // namespace spotopt::backtest
