// The committed price model (models/price-24h) and the contract between the script
// that trained it (tools/model/train.py) and this build: the model loads and predicts
// what the script predicted; the features the script computed for its checks are the
// ones this build computes from the same real data (../shared/data); and whatever is
// not that model, or not a manifest, is refused before anything decides on it.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "common/sha256.h"
#include "spotopt/decision/features.h"
#include "spotopt/decision/model.h"
#include "spotopt/pricing/advisor.h"
#include "spotopt/pricing/price_files.h"
#include "spotopt/pricing/sef.h"
#include "tests/decision/market.h"
#include "tests/real_data.h"

namespace spotopt::decision {
namespace {

namespace json = boost::json;
using spotopt::testing::DataPath;
using spotopt::testing::ForEachLine;
using spotopt::testing::ReadWholeFile;
using testing::Usd;

constexpr std::string_view kModelDir = "models/price-24h";
// What tools/model/train.py reads.
constexpr std::array<std::string_view, 2> kSpotDumps = {
    "aws-spot-price-history/euw1_linux_2021-12-13_2022-03-13.tsv.gz",
    "aws-spot-price-history/euw1_linux_2022-03-09_2022-06-07.tsv.gz",
};
constexpr std::string_view kOnDemand = "ondemand-linux.csv";
constexpr std::string_view kAdvisor = "aws-spot-advisor/spot-advisor-data_2021-02.json";

std::string ManifestText() { return ReadWholeFile(fmt::format("{}/manifest.json", kModelDir)); }

ModelManifest Manifest() {
  absl::StatusOr<ModelManifest> m = ParseManifest(ManifestText());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  return *std::move(m);
}

std::string ModelBytes(const ModelManifest& m) {
  return ReadWholeFile(fmt::format("{}/{}", kModelDir, m.model_file));
}

std::shared_ptr<const PriceModel> Committed() {
  const ModelManifest m = Manifest();
  absl::StatusOr<std::shared_ptr<const PriceModel>> model = PriceModel::Load(m, ModelBytes(m));
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *std::move(model);
}

double PredictOne(const PriceModel& model, const FeatureRow& row) {
  absl::StatusOr<std::vector<double>> p = model.Predict(std::span(&row, 1));
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  REQUIRE(p->size() == 1);
  return p->front();
}

// Both missing, or equal up to float rounding: the script computes in doubles and
// casts to float as features.cc does, but a compiler may fuse a multiply-add where
// Python cannot.
bool SameFeature(float ours, float theirs) {
  if (std::isnan(ours) || std::isnan(theirs)) return std::isnan(ours) && std::isnan(theirs);
  return std::abs(ours - theirs) <= 1e-6F * std::max(1.0F, std::abs(theirs));
}

TEST_CASE("the committed model loads and predicts what the training script predicted") {
  const ModelManifest m = Manifest();
  CHECK(m.name == "model");
  CHECK(m.format == "xgboost-json");
  CHECK(m.features == std::vector<std::string>(kFeatureNames.begin(), kFeatureNames.end()));
  CHECK(m.train_to <= m.eval_from);
  REQUIRE(m.checks.size() >= 8);

  const std::shared_ptr<const PriceModel> model = Committed();
  std::vector<FeatureRow> rows;
  for (const ModelCheck& c : m.checks) rows.push_back(c.features);
  absl::StatusOr<std::vector<double>> all = model->Predict(rows);
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  REQUIRE(all->size() == m.checks.size());
  for (size_t i = 0; i < m.checks.size(); ++i) {
    const ModelCheck& c = m.checks[i];
    CAPTURE(c.pool_id);
    CAPTURE(FormatTimestamp(c.at));
    // Checks come from the held-out history, not from what the model learnt on.
    CHECK(c.at >= m.eval_from);
    CHECK(c.at < m.eval_to);
    CHECK(std::abs((*all)[i] - c.prediction) <= 1e-6);
    // A row predicts the same alone as in a batch.
    const double alone = PredictOne(*model, c.features);
    CHECK(alone == (*all)[i]);
  }
}

// The spot observations of some pools, numbered in file order as an import inserts
// them. The dumps overlap with byte-identical rows; each is the same observation
// twice (same time, same price), so whichever one a bucket keeps, its step is the
// same; the script reads them once.
std::map<std::string, std::vector<sef::Sample>> Observations(const std::vector<ModelCheck>& of) {
  std::map<std::string, std::vector<sef::Sample>> out;
  for (const ModelCheck& c : of) out[c.pool_id];
  int64_t seq = 0;
  for (std::string_view dump : kSpotDumps) {
    ForEachLine(DataPath(dump), [&](std::string_view line) {
      absl::StatusOr<SpotPriceRow> row = ParseSpotPriceHistoryLine(line);
      REQUIRE_MESSAGE(row.ok(), row.status().ToString());
      ++seq;
      auto it = out.find(Pool{row->region, row->az, row->instance_type}.id());
      if (it == out.end()) return;
      it->second.push_back(
          sef::Sample{0, ToMicros(row->at), row->price.micros(), seq, PriceSource::kCatalog});
    });
  }
  return out;
}

std::map<std::string, Money> OnDemandPrices(std::string_view region) {
  std::map<std::string, Money> out;
  bool header = true;
  ForEachLine(DataPath(kOnDemand), [&](std::string_view line) {
    if (std::exchange(header, false)) return;
    absl::StatusOr<OnDemandRow> row = ParseOnDemandCsvLine(line);
    REQUIRE_MESSAGE(row.ok(), row.status().ToString());
    if (row->region == region) out[row->instance_type] = row->price;
  });
  return out;
}

// The pool's market at `at` as the service assembles it: the observations of the
// lookback up to `at`, bucketed, as steps; the spot price is the last step's.
PoolMarket MarketAt(const Pool& pool, std::span<const sef::Sample> observations, Time at,
                    const std::map<std::string, Money>& on_demand, const AdvisorFeed& advisor) {
  std::vector<sef::Sample> window;
  for (const sef::Sample& s : observations) {
    if (s.observed_us >= ToMicros(at - kHistoryLookback) && s.observed_us <= ToMicros(at)) {
      window.push_back(s);
    }
  }
  const std::vector<ledger::PriceStep> steps = ledger::StepsFrom(sef::Bucketize(window, {}));
  REQUIRE_MESSAGE(!steps.empty(), "no price in the lookback");
  PoolMarket p;
  p.pool = pool;
  p.spot = PriceQuote{steps.back().price, steps.back().from, sef::PointSource::kCatalog, 1};
  if (auto it = on_demand.find(pool.instance_type); it != on_demand.end()) p.on_demand = it->second;
  p.advisor = advisor.Find(pool.region, "Linux", pool.instance_type);
  p.history = Summarize(steps, at);
  return p;
}

TEST_CASE("the checks' features are the ones this build computes from the real data") {
  const ModelManifest m = Manifest();
  const std::shared_ptr<const PriceModel> model = Committed();
  const std::map<std::string, std::vector<sef::Sample>> observations = Observations(m.checks);
  const std::map<std::string, Money> on_demand = OnDemandPrices("eu-west-1");
  absl::StatusOr<AdvisorFeed> advisor = AdvisorFeed::Parse(ReadWholeFile(DataPath(kAdvisor)));
  REQUIRE_MESSAGE(advisor.ok(), advisor.status().ToString());

  for (const ModelCheck& c : m.checks) {
    CAPTURE(c.pool_id);
    CAPTURE(FormatTimestamp(c.at));
    absl::StatusOr<Pool> pool = ParsePoolId(c.pool_id, c.region);
    REQUIRE_MESSAGE(pool.ok(), pool.status().ToString());
    const FeatureRow ours =
        Features(MarketAt(*pool, observations.at(c.pool_id), c.at, on_demand, *advisor));
    for (size_t i = 0; i < ours.size(); ++i) {
      CAPTURE(kFeatureNames[i]);
      CAPTURE(ours[i]);
      CAPTURE(c.features[i]);
      CHECK(SameFeature(ours[i], c.features[i]));
    }
    // End to end: the real data, this build's features, the model, the script's answer.
    const double prediction = PredictOne(*model, ours);
    CHECK(std::abs(prediction - c.prediction) <= 1e-6);
  }
}

TEST_CASE("a model file that is not the manifest's is refused, and nothing is loaded") {
  const ModelManifest m = Manifest();
  const std::string bytes = ModelBytes(m);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x01;
  const std::string truncated = bytes.substr(0, bytes.size() / 2);
  for (const std::string& broken : {flipped, truncated, std::string()}) {
    absl::StatusOr<std::shared_ptr<const PriceModel>> model = PriceModel::Load(m, broken);
    CHECK(absl::IsDataLoss(model.status()));
  }

  // A manifest that names another file.
  ModelManifest other = m;
  other.sha256 = Sha256Hex("another model");
  CHECK(absl::IsDataLoss(PriceModel::Load(other, bytes).status()));

  // Bytes XGBoost cannot read are refused even when the manifest vouches for them.
  for (const std::string& broken :
       {truncated, std::string(R"({"not": "a model"})"), std::string("\x01\x02garbage")}) {
    ModelManifest vouched = m;
    vouched.sha256 = Sha256Hex(broken);
    CHECK(absl::IsDataLoss(PriceModel::Load(vouched, broken).status()));
  }
}

TEST_CASE("a model that reads other features than this build computes is refused") {
  const ModelManifest m = Manifest();
  const std::string bytes = ModelBytes(m);
  const auto refused = [&](std::string_view why, const std::function<void(ModelManifest&)>& edit) {
    CAPTURE(why);
    ModelManifest changed = m;
    edit(changed);
    CHECK(absl::IsFailedPrecondition(PriceModel::Load(changed, bytes).status()));
  };
  refused("a renamed feature", [](ModelManifest& x) { x.features[0] = "log_price"; });
  refused("two swapped", [](ModelManifest& x) { std::swap(x.features[1], x.features[2]); });
  refused("one missing", [](ModelManifest& x) { x.features.pop_back(); });
  refused("one more", [](ModelManifest& x) { x.features.emplace_back("hour_of_day"); });
}

TEST_CASE("malformed manifests are refused with InvalidArgument") {
  REQUIRE(ParseManifest(ManifestText()).ok());
  const auto refused = [](std::string_view why, const std::function<void(json::object&)>& edit) {
    CAPTURE(why);
    json::value doc = json::parse(ManifestText());
    edit(doc.as_object());
    absl::StatusOr<ModelManifest> m = ParseManifest(json::serialize(doc));
    CHECK(absl::IsInvalidArgument(m.status()));
  };
  const auto window = [](json::object& o, std::string_view key) -> json::object& {
    return o[key].as_object();
  };
  refused("evaluated before it was trained", [&](json::object& o) {
    window(o, "evaluation")["from"] = "2021-10-01T00:00:00Z";
    window(o, "evaluation")["to"] = "2021-11-01T00:00:00Z";
  });
  refused("evaluation overlapping training",
          [&](json::object& o) { window(o, "evaluation")["from"] = "2022-03-15T00:00:00Z"; });
  refused("training ending before it starts",
          [&](json::object& o) { window(o, "training")["to"] = "2021-12-01T00:00:00Z"; });
  refused("no training window", [](json::object& o) { o.erase("training"); });
  refused("a window time that is not one",
          [&](json::object& o) { window(o, "evaluation")["to"] = "next June"; });
  refused("no name", [](json::object& o) { o.erase("name"); });
  refused("an empty version", [](json::object& o) { o["version"] = ""; });
  refused("a version that is a number", [](json::object& o) { o["version"] = 2026; });
  refused("another format", [](json::object& o) { o["format"] = "onnx"; });
  refused("a sha256 in capitals", [](json::object& o) {
    std::string s(o["sha256"].as_string());
    std::transform(s.begin(), s.end(), s.begin(), [](char ch) { return std::toupper(ch); });
    o["sha256"] = s;
  });
  refused("a short sha256", [](json::object& o) { o["sha256"] = "abc123"; });
  refused("features that are not a list", [](json::object& o) { o["features"] = "a,b,c"; });
  refused("a feature that is not a name", [](json::object& o) { o["features"].as_array()[0] = 3; });
  refused("checks that are not a list", [](json::object& o) { o["checks"] = json::object(); });
  const auto check = [](json::object& o) -> json::object& {
    return o["checks"].as_array()[0].as_object();
  };
  refused("a check with a feature too few",
          [&](json::object& o) { check(o)["features"].as_array().pop_back(); });
  refused("a check feature that is a string",
          [&](json::object& o) { check(o)["features"].as_array()[0] = "0.5"; });
  refused("a check without a prediction", [&](json::object& o) { check(o).erase("prediction"); });
  refused("a check at no time", [&](json::object& o) { check(o)["at"] = "yesterday"; });
  refused("a check without a pool", [&](json::object& o) { check(o).erase("pool_id"); });
  CHECK(absl::IsInvalidArgument(ParseManifest("not JSON").status()));
  CHECK(absl::IsInvalidArgument(ParseManifest("[]").status()));
  CHECK(absl::IsInvalidArgument(ParseManifest("").status()));
}

// testing::Market with the week behind each pool's current price: a runs flat, b has
// climbed, c spiked six hours ago, d dropped yesterday. A `last_step` other than zero
// moves the agent's own pool (a) by that many micro-dollars ten minutes ago.
DecisionInput MarketWithWeek(int64_t last_step = 0) {
  DecisionInput in = testing::Market();
  const Time now = in.now;
  const std::map<std::string, std::vector<ledger::PriceStep>> weeks = {
      {"us-east-1a", {{now - absl::Hours(24 * 9), Usd("0.040")}}},
      {"us-east-1b",
       {{now - absl::Hours(24 * 9), Usd("0.035")},
        {now - absl::Hours(24 * 5), Usd("0.037")},
        {now - absl::Hours(24 * 3), Usd("0.039")},
        {now - absl::Hours(30), Usd("0.041")}}},
      {"us-east-1c",
       {{now - absl::Hours(24 * 9), Usd("0.030")}, {now - absl::Hours(6), Usd("0.039")}}},
      {"us-east-1d",
       {{now - absl::Hours(24 * 8), Usd("0.050")}, {now - absl::Hours(20), Usd("0.042")}}},
  };
  for (PoolMarket& p : in.pools) {
    std::vector<ledger::PriceStep> steps = weeks.at(p.pool.az);
    REQUIRE(steps.back().price == p.spot->price);
    if (last_step != 0 && p.pool.az == in.placement.az) {
      p.spot->price = Money::FromMicros(p.spot->price.micros() + last_step);
      steps.push_back({now - absl::Minutes(10), p.spot->price});
    }
    p.history = Summarize(steps, now);
  }
  return in;
}

TEST_CASE("the model engine decides on a market with price history, the same way twice") {
  const std::shared_ptr<const PriceModel> model = Committed();
  const std::shared_ptr<const Engine> engine = ModelEngine(model);
  CHECK(engine->name() == "model");
  CHECK(engine->version() == model->manifest().version);
  CHECK(engine->needs_history());

  DecisionInput in = MarketWithWeek();
  absl::StatusOr<std::vector<double>> factors = model->Forecast(in);
  REQUIRE_MESSAGE(factors.ok(), factors.status().ToString());
  for (double f : *factors) {
    CHECK(std::isfinite(f));
    CHECK(f >= 0.25);
    CHECK(f <= 4.0);
  }

  absl::StatusOr<Decision> first = engine->Decide(in);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(Validate(in, *first).ok());
  CHECK(first->engine == "model");
  CHECK(first->engine_version == model->manifest().version);
  absl::StatusOr<Decision> again = engine->Decide(in);
  REQUIRE(again.ok());
  CHECK(*again == *first);

  // A pool nobody has priced gets no forecast (NaN), and the engine still decides.
  PoolMarket unpriced;
  unpriced.pool = testing::PoolIn("us-east-1e");
  in.pools.push_back(unpriced);
  factors = model->Forecast(in);
  REQUIRE(factors.ok());
  CHECK(std::isnan(factors->back()));
  absl::StatusOr<Decision> with_unpriced = engine->Decide(in);
  REQUIRE_MESSAGE(with_unpriced.ok(), with_unpriced.status().ToString());
  CHECK(Validate(in, *with_unpriced).ok());
}

TEST_CASE("preparing a batch of inputs changes no forecast and no decision") {
  // Two loads of the model, so that neither remembers what the other predicted.
  const std::shared_ptr<const PriceModel> plain = Committed();
  const std::shared_ptr<const PriceModel> prepared = Committed();
  std::vector<DecisionInput> batch;
  for (int k = 0; k < 40; ++k) batch.push_back(MarketWithWeek(((k % 7) - 3) * 6'000 + k));
  prepared->Prepare(batch);
  const std::shared_ptr<const Engine> lazy = ModelEngine(plain);
  const std::shared_ptr<const Engine> eager = ModelEngine(prepared);
  std::set<Action> actions;
  for (const DecisionInput& in : batch) {
    absl::StatusOr<std::vector<double>> a = plain->Forecast(in);
    absl::StatusOr<std::vector<double>> b = prepared->Forecast(in);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a == *b);
    absl::StatusOr<Decision> da = lazy->Decide(in);
    absl::StatusOr<Decision> db = eager->Decide(in);
    REQUIRE(da.ok());
    REQUIRE(db.ok());
    CHECK(*da == *db);
    actions.insert(da->action);
  }
  CHECK(actions.size() >= 2);  // some stay, some move: not one decision forty times
}

}  // namespace
}  // namespace spotopt::decision
