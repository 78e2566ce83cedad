// The real data of ../shared/data, loaded once: the two 90-day eu-west-1 spot price
// dumps (their ~4-day overlap deduplicated), the on-demand price list, a Spot Advisor
// feed (bands and instance shapes) and the SkyPilot preemption traces. This is the only
// part of the backtest that reads files; everything after it is pure.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_DATA_H_
#define SPOTOPT_EXAMPLES_BACKTEST_DATA_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "spotopt/decision/model.h"
#include "spotopt/pricing/advisor.h"
#include "spotopt/pricing/price_files.h"

namespace spotopt::backtest {

// One preemption trace: the number of available instances at each tick.
struct PreemptionTrace {
  std::string name;  // file name
  int64_t gap_seconds = 0;
  std::vector<int> available;
};

// vCPUs and memory of an instance type, from the Advisor feed's `instance_types`.
struct InstanceShape {
  int cores = 0;
  double ram_gb = 0;
};

// The Linux/UNIX price rows of one pool: (time, price), ascending, deduplicated.
struct PoolHistory {
  std::string instance_type;
  std::string az;
  std::vector<std::pair<Time, Money>> rows;
};

struct Dataset {
  std::string region;
  std::vector<PoolHistory> pools;                     // of the region, by (type, az)
  absl::flat_hash_map<std::string, Money> on_demand;  // $/h by instance type
  std::string advisor_json;                           // verbatim, for Controller::LoadAdvisorFeed
  AdvisorFeed advisor;
  absl::flat_hash_map<std::string, InstanceShape> shapes;
  std::vector<PreemptionTrace> traces;  // by file name
};

// The files under `dir` (normally ../shared/data) the backtest reads.
struct DataFiles {
  std::vector<std::string> spot_history = {
      "aws-spot-price-history/euw1_linux_2021-12-13_2022-03-13.tsv.gz",
      "aws-spot-price-history/euw1_linux_2022-03-09_2022-06-07.tsv.gz"};
  std::string on_demand = "ondemand-linux.csv";
  // The snapshot closest to the price history (2021-12 .. 2022-06).
  std::string advisor = "aws-spot-advisor/spot-advisor-data_2021-02.json";
  std::string traces = "preemption-traces";
};

// NotFound when a file is missing, InvalidArgument naming the file and line when one
// does not parse.
absl::StatusOr<Dataset> LoadDataset(const std::string& dir, std::string_view region,
                                    const DataFiles& files = {});

// A model engine's files (spotopt/decision/model.h): the manifest, as text and parsed
// (its evaluation window says where the model may be backtested), and the model file
// it names beside it, as bytes for Controller::RegisterModel.
struct ModelFiles {
  std::string manifest_json;
  decision::ModelManifest manifest;
  std::string model_bytes;
};
// NotFound when a file is missing; InvalidArgument for a manifest that does not parse
// or names a model file elsewhere than beside it.
absl::StatusOr<ModelFiles> LoadModel(const std::string& manifest_path);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_DATA_H_
