// Request bodies as the protocol reads them (src/common/json_input.h).
#include <doctest/doctest.h>

#include <string>

#include <fmt/format.h>

#include "common/json_input.h"

namespace spotopt {
namespace {

// An object of `n` distinct keys, then `last` as one more key.
std::string ManyKeys(int n, std::string_view last) {
  std::string body = "{";
  for (int i = 0; i < n; ++i) body += fmt::format(R"("k{}": {{"k{}": 0}}, )", i, i);
  return body + fmt::format(R"("{}": 0}})", last);
}

TEST_CASE("duplicate keys are found among many, and only within one object") {
  // The check runs before authentication; it keeps a set per object, so a body of
  // tens of thousands of keys costs milliseconds (a list made 27,000 cost 2 s).
  const absl::StatusOr<boost::json::object> distinct = json::ParseObject(ManyKeys(8000, "last"));
  REQUIRE_MESSAGE(distinct.ok(), distinct.status().ToString());
  CHECK(distinct->size() == 8001);
  const absl::StatusOr<boost::json::object> repeated = json::ParseObject(ManyKeys(8000, "k7999"));
  CHECK(absl::IsInvalidArgument(repeated.status()));
  CHECK(repeated.status().message().find("duplicate key 'k7999'") != std::string::npos);
}

}  // namespace
}  // namespace spotopt
