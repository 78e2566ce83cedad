#include "domain/config_json.h"

#include <boost/json/array.hpp>

namespace spotopt {

boost::json::object ConfigJson(const AgentConfig& c) {
  return {
      {"enabled", c.enabled},
      {"config_version", c.version},
      {"auto_switch_enabled", c.auto_switch},
      {"replica_mode", ToString(c.replica_mode)},
      {"auto_terminate_enabled", c.auto_terminate},
      {"terminate_wait_seconds", c.terminate_wait_seconds},
      {"min_savings_percent", c.min_savings_percent},
      {"ondemand_fallback_ratio", c.ondemand_fallback_ratio},
      {"ondemand_return_ratio", c.ondemand_return_ratio},
      {"risk_threshold", c.risk_threshold},
      {"max_switches_per_day", c.max_switches_per_day},
      {"max_switches_per_week", c.max_switches_per_week},
      {"min_pool_duration_hours", c.min_pool_duration_hours},
      {"compatible_instance_types",
       boost::json::array(c.compatible_instance_types.begin(), c.compatible_instance_types.end())},
  };
}

}  // namespace spotopt
