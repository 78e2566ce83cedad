// The model engine: the scoring engine fed by a price forecast from an XGBoost model.
// A model is data, two files side by side:
//   - the model, in XGBoost's JSON format;
//   - a manifest (JSON): name, version, the model file's sha256 and name, the features
//     in order (must be kFeatureNames), what it predicts, the training and evaluation
//     windows, its evaluation figures, and checks: feature rows computed by the
//     training script with the prediction it got, so a build that reads the model or
//     computes a feature differently fails its tests instead of deciding on it.
// tools/model/train.py makes both from the real price history; the one trained on
// 2021-12 to 2022-03 is committed under models/.
//
// The model predicts, for a pool, log(mean price over the next 24 h / price now).
// The engine turns that into a factor on each pool's price (clamped to [1/4, 4]).
#ifndef SPOTOPT_DECISION_MODEL_H_
#define SPOTOPT_DECISION_MODEL_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spotopt/decision/features.h"
#include "spotopt/decision/scoring.h"

namespace spotopt::decision {

// A feature row the training script computed, and what the model predicted for it.
struct ModelCheck {
  std::string pool_id;  // "<type>.<az>", for the feature check against the real data
  std::string region;
  Time at;
  FeatureRow features;
  double prediction = 0;
};

struct ModelManifest {
  std::string name;
  std::string version;
  std::string sha256;      // of the model file, lowercase hex
  std::string model_file;  // its name, next to the manifest
  std::string format;      // "xgboost-json"
  std::vector<std::string> features;
  std::string target;
  Time train_from, train_to;  // the history it learnt from, [from, to)
  Time eval_from, eval_to;    // the later history it was evaluated on
  std::vector<ModelCheck> checks;
};

// InvalidArgument naming the field when the text is not a manifest.
SPOTOPT_EXPORT absl::StatusOr<ModelManifest> ParseManifest(std::string_view json_text);

// A loaded XGBoost booster. Thread-safe.
class SPOTOPT_EXPORT PriceModel final : public Forecaster {
 public:
  // Checks that sha256(model_bytes) is the manifest's (DataLoss otherwise), that the
  // manifest's features are this build's (FailedPrecondition), and that XGBoost reads
  // the model (DataLoss).
  static absl::StatusOr<std::shared_ptr<const PriceModel>> Load(const ModelManifest& manifest,
                                                                std::string_view model_bytes);
  ~PriceModel() override;
  PriceModel(const PriceModel&) = delete;
  PriceModel& operator=(const PriceModel&) = delete;

  // One prediction per row (log of the forecast factor).
  absl::StatusOr<std::vector<double>> Predict(std::span<const FeatureRow> rows) const;
  absl::StatusOr<std::vector<double>> Forecast(const DecisionInput& in) const override;
  // Predicts every pool of every input in one XGBoost call (each call has a fixed cost
  // of tens of microseconds), so that Forecast finds them remembered.
  void Prepare(std::span<const DecisionInput> inputs) const override;
  bool needs_history() const override { return true; }
  const ModelManifest& manifest() const { return manifest_; }

 private:
  struct Booster;
  PriceModel(ModelManifest manifest, std::unique_ptr<Booster> booster);
  ModelManifest manifest_;
  std::unique_ptr<Booster> booster_;
};

// The model engine (named and versioned by the manifest) over a loaded model.
SPOTOPT_EXPORT std::shared_ptr<const Engine> ModelEngine(std::shared_ptr<const PriceModel> model,
                                                         ScoringParams params = {});

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_MODEL_H_
