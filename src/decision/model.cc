#include "spotopt/decision/model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

#include "common/sha256.h"

namespace spotopt::decision {
namespace {

namespace json = boost::json;

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("model manifest: {}: {}", field, why));
}

absl::StatusOr<std::string> String(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    return Invalid(key, "must be a non-empty string");
  }
  return std::string(v->get_string());
}

absl::StatusOr<Time> Timestamp(const json::object& o, std::string_view key) {
  absl::StatusOr<std::string> text = String(o, key);
  if (!text.ok()) return text.status();
  absl::StatusOr<Time> t = ParseTimestamp(*text);
  if (!t.ok()) return Invalid(key, std::string(t.status().message()));
  return t;
}

absl::StatusOr<const json::object*> Object(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_object()) return Invalid(key, "must be an object");
  return &v->get_object();
}

absl::StatusOr<double> Number(const json::value* v, std::string_view field) {
  if (v == nullptr || !v->is_number()) return Invalid(field, "must be a number");
  return v->to_number<double>();
}

// A window: {"from": ..., "to": ...}, from before to.
absl::Status ReadWindow(const json::object& o, std::string_view key, Time* from, Time* to) {
  absl::StatusOr<const json::object*> w = Object(o, key);
  if (!w.ok()) return w.status();
  absl::StatusOr<Time> f = Timestamp(**w, "from");
  absl::StatusOr<Time> t = Timestamp(**w, "to");
  if (!f.ok()) return f.status();
  if (!t.ok()) return t.status();
  if (*t <= *f) return Invalid(key, "to must be after from");
  *from = *f;
  *to = *t;
  return absl::OkStatus();
}

absl::StatusOr<ModelCheck> ReadCheck(const json::value& v, size_t index) {
  const std::string field = fmt::format("checks[{}]", index);
  if (!v.is_object()) return Invalid(field, "must be an object");
  const json::object& o = v.get_object();
  ModelCheck c;
  absl::StatusOr<std::string> pool = String(o, "pool_id");
  absl::StatusOr<std::string> region = String(o, "region");
  absl::StatusOr<Time> at = Timestamp(o, "at");
  if (!pool.ok()) return pool.status();
  if (!region.ok()) return region.status();
  if (!at.ok()) return at.status();
  c.pool_id = *pool;
  c.region = *region;
  c.at = *at;
  const json::value* features = o.if_contains("features");
  if (features == nullptr || !features->is_array() ||
      features->get_array().size() != c.features.size()) {
    return Invalid(field + ".features", fmt::format("must be {} numbers", c.features.size()));
  }
  for (size_t i = 0; i < c.features.size(); ++i) {
    const json::value& f = features->get_array()[i];
    // JSON has no NaN: a missing feature is null.
    if (f.is_null()) {
      c.features[i] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    absl::StatusOr<double> x = Number(&f, field + ".features");
    if (!x.ok()) return x.status();
    c.features[i] = static_cast<float>(*x);
  }
  absl::StatusOr<double> prediction = Number(o.if_contains("prediction"), field + ".prediction");
  if (!prediction.ok()) return prediction.status();
  c.prediction = *prediction;
  return c;
}

// Forecast factors stay within this range whatever the model says.
constexpr double kMinFactor = 0.25;
constexpr double kMaxFactor = 4.0;

}  // namespace

absl::StatusOr<ModelManifest> ParseManifest(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return Invalid("(document)", fmt::format("not JSON ({})", ec.message()));
  if (!doc.is_object()) return Invalid("(document)", "must be an object");
  const json::object& o = doc.get_object();
  ModelManifest m;
  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"name", &m.name},
                          {"version", &m.version},
                          {"sha256", &m.sha256},
                          {"model_file", &m.model_file},
                          {"format", &m.format},
                          {"target", &m.target}}) {
    absl::StatusOr<std::string> s = String(o, key);
    if (!s.ok()) return s.status();
    *out = *std::move(s);
  }
  if (m.format != "xgboost-json") return Invalid("format", "must be xgboost-json");
  if (m.sha256.size() != 64 || !std::all_of(m.sha256.begin(), m.sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return Invalid("sha256", "must be 64 lowercase hex digits");
  }
  const json::value* features = o.if_contains("features");
  if (features == nullptr || !features->is_array()) {
    return Invalid("features", "must be an array of names");
  }
  for (const json::value& f : features->get_array()) {
    if (!f.is_string()) return Invalid("features", "must be an array of names");
    m.features.emplace_back(f.get_string());
  }
  if (absl::Status s = ReadWindow(o, "training", &m.train_from, &m.train_to); !s.ok()) return s;
  if (absl::Status s = ReadWindow(o, "evaluation", &m.eval_from, &m.eval_to); !s.ok()) return s;
  if (m.eval_from < m.train_to) {
    return Invalid("evaluation", "must come after the training window, never before");
  }
  const json::value* checks = o.if_contains("checks");
  if (checks == nullptr || !checks->is_array()) return Invalid("checks", "must be an array");
  for (size_t i = 0; i < checks->get_array().size(); ++i) {
    absl::StatusOr<ModelCheck> c = ReadCheck(checks->get_array()[i], i);
    if (!c.ok()) return c.status();
    m.checks.push_back(*std::move(c));
  }
  return m;
}

// XGBoost's booster and the lock its calls take: the C API keeps each prediction's
// output in per-booster state until the next call.
struct PriceModel::Booster {
  BoosterHandle handle = nullptr;
  std::mutex mu;
  ~Booster() {
    if (handle != nullptr) XGBoosterFree(handle);
  }
};

PriceModel::PriceModel(ModelManifest manifest, std::unique_ptr<Booster> booster)
    : manifest_(std::move(manifest)), booster_(std::move(booster)) {}

PriceModel::~PriceModel() = default;

absl::StatusOr<std::shared_ptr<const PriceModel>> PriceModel::Load(const ModelManifest& manifest,
                                                                   std::string_view model_bytes) {
  const std::string digest = Sha256Hex(model_bytes);
  if (digest != manifest.sha256) {
    return absl::DataLossError(
        fmt::format("model {} {}: the file's sha256 is {}, the manifest's {}", manifest.name,
                    manifest.version, digest, manifest.sha256));
  }
  const std::vector<std::string> ours(kFeatureNames.begin(), kFeatureNames.end());
  if (manifest.features != ours) {
    return absl::FailedPreconditionError(
        fmt::format("model {} {}: it reads features this build does not compute (this build: {})",
                    manifest.name, manifest.version, fmt::join(ours, ", ")));
  }
  auto booster = std::make_unique<Booster>();
  if (XGBoosterCreate(nullptr, 0, &booster->handle) != 0 ||
      XGBoosterLoadModelFromBuffer(booster->handle, model_bytes.data(), model_bytes.size()) != 0 ||
      XGBoosterSetParam(booster->handle, "nthread", "1") != 0) {
    return absl::DataLossError(fmt::format("model {} {}: XGBoost cannot read it: {}", manifest.name,
                                           manifest.version, XGBGetLastError()));
  }
  bst_ulong columns = 0;
  if (XGBoosterGetNumFeature(booster->handle, &columns) != 0 || columns != kFeatureNames.size()) {
    return absl::DataLossError(fmt::format("model {} {}: it has {} features, the manifest {}",
                                           manifest.name, manifest.version, columns,
                                           kFeatureNames.size()));
  }
  return std::shared_ptr<const PriceModel>(new PriceModel(manifest, std::move(booster)));
}

absl::StatusOr<std::vector<double>> PriceModel::Predict(std::span<const FeatureRow> rows) const {
  std::vector<double> out;
  if (rows.empty()) return out;
  // XGBoost reads a dense float matrix through the array-interface protocol.
  const std::string array =
      fmt::format(R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}})",
                  reinterpret_cast<uintptr_t>(rows.data()), rows.size(), kFeatureNames.size());
  static constexpr char kConfig[] =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
      R"( "strict_shape": false, "missing": NaN})";
  std::lock_guard lock(booster_->mu);
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(booster_->handle, array.c_str(), kConfig, nullptr, &shape, &dims,
                                &result) != 0) {
    return absl::InternalError(fmt::format("model {} {}: prediction failed: {}", manifest_.name,
                                           manifest_.version, XGBGetLastError()));
  }
  out.assign(result, result + rows.size());
  return out;
}

absl::StatusOr<std::vector<double>> PriceModel::Forecast(const DecisionInput& in) const {
  std::vector<FeatureRow> rows;
  rows.reserve(in.pools.size());
  for (const PoolMarket& p : in.pools) rows.push_back(Features(p));
  absl::StatusOr<std::vector<double>> log_factors = Predict(rows);
  if (!log_factors.ok()) return log_factors.status();
  std::vector<double> factors(in.pools.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < in.pools.size(); ++i) {
    const double f = (*log_factors)[i];
    // A NaN prediction stays NaN, so the engine refuses it and the service falls back.
    if (in.pools[i].spot)
      factors[i] = std::isfinite(f) ? std::clamp(std::exp(f), kMinFactor, kMaxFactor) : f;
  }
  return factors;
}

std::shared_ptr<const Engine> ModelEngine(std::shared_ptr<const PriceModel> model,
                                          ScoringParams params) {
  // The manifest lives in the model, which the engine keeps alive.
  const ModelManifest& m = model->manifest();
  return std::make_shared<ScoringEngine>(params, std::move(model), m.name, m.version);
}

}  // namespace spotopt::decision
