#include "data.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace spotopt::backtest {
namespace {

namespace json = boost::json;

absl::Status Missing(const std::string& path) {
  return absl::NotFoundError(fmt::format("{}: no such file (is ../shared/data there?)", path));
}

absl::Status BadLine(const std::string& path, int64_t line, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}:{}: {}", path, line, why));
}

// Calls `each(line, number)` for every line of a gzip file; stops at the first error.
template <class F>
absl::Status ForEachGzipLine(const std::string& path, F&& each) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), gzclose);
  if (!gz) return Missing(path);
  // Longer than any line of a price dump; a longer line would be split and refused.
  char buf[1024];
  for (int64_t n = 1; gzgets(gz.get(), buf, sizeof buf) != nullptr; ++n) {
    std::string_view line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    if (absl::Status s = each(line, n); !s.ok()) return s;
  }
  int err = 0;
  gzerror(gz.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END) return BadLine(path, 0, "not a readable gzip file");
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Missing(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<json::value> ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec) return BadLine(path, 0, fmt::format("not JSON: {}", ec.message()));
  return v;
}

// Appends the rows of one dump to their pools (`index`: "type\taz" -> pool).
absl::Status LoadSpot(const std::string& path, std::string_view region, Dataset& out,
                      absl::flat_hash_map<std::string, size_t>& index) {
  return ForEachGzipLine(path, [&](std::string_view line, int64_t n) -> absl::Status {
    absl::StatusOr<SpotPriceRow> row = ParseSpotPriceHistoryLine(line);
    if (!row.ok()) return BadLine(path, n, std::string(row.status().message()));
    if (row->region != region || row->product != "Linux/UNIX") return absl::OkStatus();
    auto [it, added] = index.try_emplace(row->instance_type + '\t' + row->az, out.pools.size());
    if (added) out.pools.push_back(PoolHistory{row->instance_type, row->az, {}});
    out.pools[it->second].rows.emplace_back(row->at, row->price);
    return absl::OkStatus();
  });
}

absl::Status LoadOnDemand(const std::string& path, std::string_view region, Dataset& out) {
  absl::StatusOr<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (n == 1 || line.empty()) continue;  // the header
    absl::StatusOr<OnDemandRow> row = ParseOnDemandCsvLine(line);
    if (!row.ok()) return BadLine(path, n, std::string(row.status().message()));
    if (row->region == region) {
      out.on_demand[row->instance_type] = row->price;
    }
  }
  return absl::OkStatus();
}

absl::Status LoadAdvisor(const std::string& path, Dataset& out) {
  absl::StatusOr<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<AdvisorFeed> feed = AdvisorFeed::Parse(*text);
  if (!feed.ok()) return BadLine(path, 0, std::string(feed.status().message()));
  out.advisor = *std::move(feed);
  // The feed's instance shapes, which AdvisorFeed does not keep: families of
  // compatible types are found by them.
  boost::system::error_code ec;
  const json::value v = json::parse(*text, ec);
  const json::object* root = ec ? nullptr : v.if_object();
  const json::value* types_value = root ? root->if_contains("instance_types") : nullptr;
  const json::object* types = types_value ? types_value->if_object() : nullptr;
  if (types == nullptr) return BadLine(path, 0, "no instance_types object");
  for (const auto& [name, shape] : *types) {
    const json::object* o = shape.if_object();
    if (o == nullptr || !o->contains("cores") || !o->contains("ram_gb")) continue;
    InstanceShape s;
    s.cores = static_cast<int>(o->at("cores").to_number<double>());
    s.ram_gb = o->at("ram_gb").to_number<double>();
    out.shapes[std::string(name)] = s;
  }
  out.advisor_json = *std::move(text);
  return absl::OkStatus();
}

absl::Status LoadTraces(const std::string& dir, Dataset& out) {
  if (!std::filesystem::is_directory(dir)) return Missing(dir);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // the directory's order is not stable
  for (const std::filesystem::path& file : files) {
    absl::StatusOr<json::value> v = ReadJson(file.string());
    if (!v.ok()) return v.status();
    const json::object* o = v->if_object();
    const json::object* meta =
        o && o->contains("metadata") ? o->at("metadata").if_object() : nullptr;
    const json::array* data = o && o->contains("data") ? o->at("data").if_array() : nullptr;
    if (meta == nullptr || data == nullptr || !meta->contains("gap_seconds")) {
      return BadLine(file.string(), 0, "want {metadata: {gap_seconds}, data: [...]}");
    }
    PreemptionTrace t;
    t.name = file.filename().string();
    t.gap_seconds = meta->at("gap_seconds").to_number<int64_t>();
    if (t.gap_seconds <= 0) return BadLine(file.string(), 0, "gap_seconds must be > 0");
    t.available.reserve(data->size());
    for (const json::value& x : *data) t.available.push_back(x.to_number<int>());
    out.traces.push_back(std::move(t));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Dataset> LoadDataset(const std::string& dir, std::string_view region,
                                    const DataFiles& files) {
  Dataset out;
  out.region = std::string(region);
  const auto at = [&](const std::string& rel) { return dir + "/" + rel; };
  absl::flat_hash_map<std::string, size_t> index;
  for (const std::string& f : files.spot_history) {
    if (absl::Status s = LoadSpot(at(f), region, out, index); !s.ok()) return s;
  }
  if (out.pools.empty()) {
    return absl::InvalidArgumentError(fmt::format("no Linux/UNIX spot prices for {}", region));
  }
  // The dumps are newest first, and overlap by about four days with byte-identical rows.
  for (PoolHistory& p : out.pools) {
    std::sort(p.rows.begin(), p.rows.end());
    p.rows.erase(std::unique(p.rows.begin(), p.rows.end()), p.rows.end());
  }
  std::sort(out.pools.begin(), out.pools.end(), [](const PoolHistory& a, const PoolHistory& b) {
    return std::tie(a.instance_type, a.az) < std::tie(b.instance_type, b.az);
  });
  if (absl::Status s = LoadOnDemand(at(files.on_demand), region, out); !s.ok()) return s;
  if (absl::Status s = LoadAdvisor(at(files.advisor), out); !s.ok()) return s;
  if (absl::Status s = LoadTraces(at(files.traces), out); !s.ok()) return s;
  return out;
}

absl::StatusOr<ModelFiles> LoadModel(const std::string& manifest_path) {
  ModelFiles out;
  absl::StatusOr<std::string> manifest = ReadText(manifest_path);
  if (!manifest.ok()) return manifest.status();
  out.manifest_json = *std::move(manifest);
  absl::StatusOr<decision::ModelManifest> parsed = decision::ParseManifest(out.manifest_json);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: {}", manifest_path, std::string(parsed.status().message())));
  }
  out.manifest = *std::move(parsed);
  const std::filesystem::path file(out.manifest.model_file);
  if (file.has_parent_path() || file.is_absolute()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: model_file must be a file name beside the manifest", manifest_path));
  }
  absl::StatusOr<std::string> model =
      ReadText((std::filesystem::path(manifest_path).parent_path() / file).string());
  if (!model.ok()) return model.status();
  out.model_bytes = *std::move(model);
  return out;
}

}  // namespace spotopt::backtest
