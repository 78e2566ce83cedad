// spotopt_backtest_run: the backtest behind a C ABI, with no C++ exception crossing it.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <boost/json.hpp>

#include "backtest.h"
#include "report.h"
#include "spotopt_backtest.h"

namespace {

spotopt_status StatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return SPOTOPT_OK;
    case absl::StatusCode::kInvalidArgument:
      return SPOTOPT_INVALID_ARGUMENT;
    case absl::StatusCode::kNotFound:
      return SPOTOPT_NOT_FOUND;
    default:
      return SPOTOPT_INTERNAL;
  }
}

char* Copy(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

spotopt_status Answer(spotopt_status status, const std::string& message, char** result_json) {
  const boost::json::object error{{"status", static_cast<int>(status)}, {"message", message}};
  *result_json = Copy(boost::json::serialize(boost::json::object{{"error", error}}));
  return status;
}

}  // namespace

extern "C" spotopt_status spotopt_backtest_run(const char* config_json, char** result_json) {
  if (result_json == nullptr) return SPOTOPT_INVALID_ARGUMENT;
  *result_json = nullptr;
  if (config_json == nullptr) return Answer(SPOTOPT_INVALID_ARGUMENT, "config: NULL", result_json);
  try {
    absl::StatusOr<spotopt::backtest::Config> config = spotopt::backtest::ParseConfig(config_json);
    if (!config.ok()) {
      return Answer(StatusOf(config.status().code()), std::string(config.status().message()),
                    result_json);
    }
    absl::StatusOr<spotopt::backtest::Results> results = spotopt::backtest::RunBacktest(*config);
    if (!results.ok()) {
      return Answer(StatusOf(results.status().code()), std::string(results.status().message()),
                    result_json);
    }
    *result_json = Copy(spotopt::backtest::ToJson(*results));
    return *result_json != nullptr ? SPOTOPT_OK : SPOTOPT_INTERNAL;
  } catch (const std::exception& e) {
    return Answer(SPOTOPT_INTERNAL, e.what(), result_json);
  }
}

extern "C" void spotopt_backtest_free(char* text) { std::free(text); }
