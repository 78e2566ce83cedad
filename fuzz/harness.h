// What the fuzz targets share: a check that stops the run with a message (libFuzzer
// then keeps the input as a crash file), the split of one input into the several
// calls of a session, and a fixture that serves several inputs.
#ifndef SPOTOPT_FUZZ_HARNESS_H_
#define SPOTOPT_FUZZ_HARNESS_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace spotopt::fuzz {

[[noreturn]] inline void Fail(const char* condition, const char* file, int line,
                              const std::string& message) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", file, line, condition,
               message.c_str());
  std::abort();
}

// True when SPOTOPT_FUZZ_TRACE is set: the session targets then print each call and
// its answer to stderr, to see how far a seed gets (`protocol_fuzzer FILE`).
inline bool Tracing() {
  static const bool tracing = std::getenv("SPOTOPT_FUZZ_TRACE") != nullptr;
  return tracing;
}

// A session of at most `max` calls, separated by lines of "%%". More than `max` are
// dropped rather than run: one input must stay cheap enough to keep the run fast.
inline std::vector<std::string_view> SplitCalls(std::string_view data, size_t max) {
  constexpr std::string_view kSeparator = "\n%%\n";
  std::vector<std::string_view> calls;
  while (calls.size() < max) {
    const size_t end = data.find(kSeparator);
    calls.push_back(data.substr(0, end));
    if (end == std::string_view::npos) break;
    data.remove_prefix(end + kSeparator.size());
  }
  return calls;
}

// Replaces every `from` in `text` with `to`.
inline void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// The fixture for this input: a new one every `kInputs` inputs. Building one (a
// store, tenants, an agent) costs ten times what an input does, and the state the
// earlier inputs left (acknowledged commands, promoted replicas, more registrations)
// is more for the next ones to explore. A crash file replayed on its own starts
// from a new fixture, which reproduces all but the bugs that need that state.
template <class Fixture, int kInputs>
Fixture& Reused() {
  static std::unique_ptr<Fixture> fixture;
  static int inputs = 0;
  if (inputs++ % kInputs == 0) {
    fixture.reset();  // one store at a time
    fixture = std::make_unique<Fixture>();
  }
  return *fixture;
}

}  // namespace spotopt::fuzz

// Stops the run when `condition` is false; the rest is a fmt message.
#define FUZZ_CHECK(condition, ...)                                                       \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      ::spotopt::fuzz::Fail(#condition, __FILE__, __LINE__, ::fmt::format(__VA_ARGS__)); \
    }                                                                                    \
  } while (0)

#endif  // SPOTOPT_FUZZ_HARNESS_H_
