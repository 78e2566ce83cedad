// The record codec (src/store/codec.h) on damaged documents: what SqliteStore would
// read from a row whose `doc` was changed behind its back.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "store/codec.h"

namespace spotopt {
namespace {

std::string Replaced(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST_CASE("a stored number that is not finite is DataLoss, not a NaN in the record") {
  const std::string doc = codec::Encode(AgentConfig{});
  REQUIRE(codec::Decode<AgentConfig>(doc).ok());
  // Written as decimal text; a damaged row may hold other text, or a JSON number
  // that Boost.JSON reads as infinity.
  for (std::string_view bad : {R"("nan")", R"("-nan")", R"("inf")", R"("-infinity")", "1e999"}) {
    CAPTURE(bad);
    const std::string damaged = Replaced(doc, R"("0.8")", bad);
    CHECK(absl::IsDataLoss(codec::Decode<AgentConfig>(damaged).status()));
  }
}

}  // namespace
}  // namespace spotopt
