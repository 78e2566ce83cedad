// Reading the real public data of ../shared/data (see its MANIFEST.md) in tests: the
// folder, whole files, and line by line through zlib (plain or gzip). Tests that use
// it link ZLIB::ZLIB. The data is part of their fixture: a missing ../shared/data
// FAILS the test (tests run from the project root, see tests/CMakeLists.txt), it is
// never skipped.
#ifndef SPOTOPT_TESTS_REAL_DATA_H_
#define SPOTOPT_TESTS_REAL_DATA_H_

#include <doctest/doctest.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace spotopt::testing {

inline constexpr std::string_view kDataDir = "../shared/data";

// The path of a data file. Fails (never skips) the test when the data is not there.
inline std::string DataPath(std::string_view relative) {
  REQUIRE_MESSAGE(std::filesystem::is_directory(kDataDir),
                  fmt::format("the real-data fixture {} is missing (cwd {}); tests run from the "
                              "project root with the shared data next to it",
                              kDataDir, std::filesystem::current_path().string()));
  return fmt::format("{}/{}", kDataDir, relative);
}

// Every line of a text file, plain or gzip (zlib's gzread passes plain files
// through), without its line end.
inline void ForEachLine(const std::string& path, const std::function<void(std::string_view)>& fn) {
  std::unique_ptr<gzFile_s, decltype(&gzclose)> file(gzopen(path.c_str(), "rb"), &gzclose);
  REQUIRE_MESSAGE(file != nullptr, fmt::format("cannot open {}", path));
  gzbuffer(file.get(), 1 << 17);
  std::array<char, 4096> buffer{};
  std::string line;
  while (gzgets(file.get(), buffer.data(), static_cast<int>(buffer.size())) != nullptr) {
    line.append(buffer.data());
    if (line.back() != '\n') continue;  // longer than the buffer: read on
    line.pop_back();
    fn(line);
    line.clear();
  }
  int error = Z_OK;
  const char* message = gzerror(file.get(), &error);
  REQUIRE_MESSAGE(error == Z_OK, fmt::format("reading {}: {}", path, message));
  if (!line.empty()) fn(line);  // a last line without '\n'
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), fmt::format("cannot open {}", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace spotopt::testing

#endif  // SPOTOPT_TESTS_REAL_DATA_H_
