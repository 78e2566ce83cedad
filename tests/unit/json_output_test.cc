// JSON as the library writes it for agents, hosts and operators
// (src/common/json_output.h).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <boost/json.hpp>

#include "common/json_output.h"

namespace spotopt {
namespace {

std::string Number(double d) { return json::Serialize(boost::json::value(d)); }

TEST_CASE("numbers print as people write them, and read back exactly") {
  // Boost.JSON 1.81 printed these 3E1, 8E-1, 9.6E-2, 2E0, 1E20.
  CHECK(Number(30.0) == "30.0");
  CHECK(Number(0.8) == "0.8");
  CHECK(Number(0.096) == "0.096");
  CHECK(Number(2) == "2.0");
  CHECK(Number(-0.0) == "-0.0");
  CHECK(Number(1e20) == "1e+20");
  CHECK(Number(0.1 + 0.2) == "0.30000000000000004");
  CHECK(Number(std::numeric_limits<double>::infinity()) == "null");
  CHECK(Number(std::nan("")) == "null");
  for (double d : {30.0, 0.8, 0.096, 1e20, 5e-324, 1.7976931348623157e308}) {
    CHECK(boost::json::parse(Number(d)).to_number<double>() == d);
  }
}

TEST_CASE("everything else prints as Boost.JSON would read it") {
  const boost::json::value v = boost::json::parse(
      R"({"s": "quote \" backslash \\ tab \t nul \u0000 é", "i": -7, "u": 18446744073709551615,
          "b": [true, false, null], "o": {}, "a": [], "d": 1.5})");
  const std::string text = json::Serialize(v);
  CHECK(boost::json::parse(text) == v);
  CHECK(text.find(R"("o":{},"a":[],"d":1.5})") != std::string::npos);
  CHECK(json::Serialize(v.at("b").as_array()) == "[true,false,null]");
  CHECK(json::Serialize(boost::json::object{{"k", 3.0}}) == R"({"k":3.0})");
}

}  // namespace
}  // namespace spotopt
