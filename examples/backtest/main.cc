// spotopt-backtest: replays months of real spot prices through the real Controller and
// compares strategies with the hindsight oracle. Run from the project root (the data
// is ../shared/data). Prints a table; --json and --csv write the results; plot.py turns
// the JSON into PNGs.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "backtest.h"
#include "report.h"

namespace {

namespace json = boost::json;
using spotopt::backtest::Config;

constexpr std::string_view kUsage = R"(usage: spotopt-backtest [options]

  --config FILE          a JSON config (examples/backtest/README.md); flags override it
  --data DIR             the data directory (default ../shared/data)
  --types A,B,...        the fleet (default: every type with >= 3 pools and an on-demand price)
  --agents-per-type N    agents per type (default 1)
  --family TYPE|none     the family section's anchor type (default m5.large)
  --family-types A,B     the family section's types, instead of the anchor's family
  --strategies A,B,...   which strategies (default: all)
  --seed N               the seed of every draw (default 1)
  --interruptions MODE   hazard | replay | none (default hazard)
  --start TIME --end TIME  RFC 3339 bounds (default: the whole price history)
  --model MANIFEST|none  the model engine's manifest (default models/price-24h/manifest.json)
  --no-evaluation        no evaluation sections (over the model's evaluation window)
  --json FILE            write the results as JSON
  --csv FILE             write the summary as CSV
  --no-progress          no progress bar on stderr
)";

json::array List(std::string_view csv) {
  json::array out;
  while (!csv.empty()) {
    const size_t comma = csv.find(',');
    out.emplace_back(csv.substr(0, comma));
    csv = comma == std::string_view::npos ? "" : csv.substr(comma + 1);
  }
  return out;
}

bool Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

int Fail(std::string_view message) {
  fmt::print(stderr, "spotopt-backtest: {}\n", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  json::object config{{"progress", true}};
  std::string json_path, csv_path;
  for (int k = 1; k < argc; ++k) {
    const std::string_view flag = argv[k];
    if (flag == "--help" || flag == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (flag == "--no-progress") {
      config["progress"] = false;
      continue;
    }
    if (flag == "--no-evaluation") {
      config["evaluation"] = false;
      continue;
    }
    if (k + 1 >= argc) return Fail(fmt::format("{} needs a value\n{}", flag, kUsage));
    const std::string_view value = argv[++k];
    if (flag == "--config") {
      std::ifstream in{std::string(value)};
      if (!in) return Fail(fmt::format("cannot read {}", value));
      std::stringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      json::value v = json::parse(text.str(), ec);
      if (ec || !v.is_object()) return Fail(fmt::format("{}: not a JSON object", value));
      for (auto& [key, x] : v.as_object()) config[key] = x;
    } else if (flag == "--data") {
      config["data_dir"] = value;
    } else if (flag == "--types") {
      config["types"] = List(value);
    } else if (flag == "--agents-per-type") {
      config["agents_per_type"] = std::atoll(std::string(value).c_str());
    } else if (flag == "--family") {
      config["family"] = value == "none" ? json::value(nullptr) : json::value(value);
    } else if (flag == "--family-types") {
      config["family_types"] = List(value);
    } else if (flag == "--strategies") {
      config["strategies"] = List(value);
    } else if (flag == "--seed") {
      config["seed"] = std::atoll(std::string(value).c_str());
    } else if (flag == "--interruptions") {
      config["interruptions"] = value;
    } else if (flag == "--start") {
      config["start"] = value;
    } else if (flag == "--end") {
      config["end"] = value;
    } else if (flag == "--model") {
      config["model"] = value == "none" ? json::value(nullptr) : json::value(value);
    } else if (flag == "--json") {
      json_path = value;
    } else if (flag == "--csv") {
      csv_path = value;
    } else {
      return Fail(fmt::format("unknown option {}\n{}", flag, kUsage));
    }
  }
  absl::StatusOr<Config> parsed = spotopt::backtest::ParseConfig(json::serialize(config));
  if (!parsed.ok()) return Fail(std::string(parsed.status().message()));
  absl::StatusOr<spotopt::backtest::Results> results = spotopt::backtest::RunBacktest(*parsed);
  if (!results.ok()) return Fail(results.status().ToString());
  fmt::print("{}", spotopt::backtest::Table(*results));
  if (!json_path.empty() && !Write(json_path, spotopt::backtest::ToJson(*results))) {
    return Fail(fmt::format("cannot write {}", json_path));
  }
  if (!csv_path.empty() && !Write(csv_path, spotopt::backtest::ToCsv(*results))) {
    return Fail(fmt::format("cannot write {}", csv_path));
  }
  return 0;
}
