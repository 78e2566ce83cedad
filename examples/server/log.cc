#include "log.h"

#include <atomic>
#include <cstdio>

#include "absl/time/clock.h"
#include "spotopt/types.h"

namespace spotopt::server {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (text == kNames[i]) {
      *level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void SetLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }

bool LogEnabled(LogLevel level) { return level >= g_level.load(std::memory_order_relaxed); }

void WriteLogLine(LogLevel level, std::string_view message, std::string_view fields) {
  const std::string line =
      fmt::format("{} {} {}{}{}\n", FormatTimestamp(absl::Now()), kNames[static_cast<int>(level)],
                  message, fields.empty() ? "" : " ", fields);
  // One fwrite per line: stdio locks the stream, so lines stay whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace spotopt::server
