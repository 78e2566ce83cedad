// One line per event on stderr: `<RFC 3339 time> <level> <message> key=value ...`.
// Lines are written whole, so threads never interleave within a line.
#ifndef SPOTOPT_EXAMPLES_SERVER_LOG_H_
#define SPOTOPT_EXAMPLES_SERVER_LOG_H_

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace spotopt::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Accepts debug, info, warn, error.
bool ParseLogLevel(std::string_view text, LogLevel* level);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
void WriteLogLine(LogLevel level, std::string_view message, std::string_view fields);

// Log(LogLevel::kInfo, "tenant created", "tenant={}", id): the fields are formatted
// only when the level is enabled.
template <typename... Args>
void Log(LogLevel level, std::string_view message, fmt::format_string<Args...> fields,
         Args&&... args) {
  if (!LogEnabled(level)) return;
  WriteLogLine(level, message, fmt::format(fields, std::forward<Args>(args)...));
}

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_LOG_H_
