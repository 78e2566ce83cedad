// Which agents a run simulates and where each may run: the default fleet (one agent
// per instance type with at least 3 priced pools and an on-demand price), a list of
// types, N agents per type, and families of compatible types for the strategies that
// may change instance type.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_FLEET_H_
#define SPOTOPT_EXAMPLES_BACKTEST_FLEET_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "data.h"
#include "market.h"

namespace spotopt::backtest {

struct AgentSpec {
  std::string logical_id;  // "<type>#<n>"
  std::string instance_type;
  uint64_t key = 0;  // seeds this agent's draws; a hash of logical_id
  // Where it may run within its type: the type's pools and its on-demand.
  std::vector<SeriesId> places;
  // Where it may run with instance-type flexibility: every place of every type of its
  // family in the market (its own type included).
  std::vector<SeriesId> flex_places;
  // The types of flex_places, sorted: what its config lists as compatible_instance_types
  // when it may change type.
  std::vector<std::string> flex_types;
};

using Fleet = std::vector<AgentSpec>;

// Types with at least `min_pools` priced pools in the data and an on-demand price
// (a type without one cannot show a saving), sorted.
std::vector<std::string> DefaultTypes(const Dataset& data, int min_pools);

// Types interchangeable with `type` for a workload: the same vCPUs and memory (the
// Advisor feed's shapes), the same class (the letters before the generation: m, c,
// r, t, ...) and the same architecture (Graviton families carry a 'g' after the
// generation digit, as m6g and c7gn; a1 is Graviton too). `type` itself included.
std::vector<std::string> CompatibleTypes(const Dataset& data, const std::string& type,
                                         const std::vector<std::string>& among);

// Each type's compatible types among `types` (CompatibleTypes).
using Families = absl::flat_hash_map<std::string, std::vector<std::string>>;
Families FindFamilies(const Dataset& data, const std::vector<std::string>& types);

// `per_type` agents of each type of the market. A type's family is taken from
// `families` (a type missing there is a family of its own), restricted to the market.
Fleet BuildFleet(const Market& market, int per_type, const Families& families);

uint64_t HashKey(std::string_view text);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_FLEET_H_
