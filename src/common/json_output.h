// Writing JSON for agents, hosts and operators. Boost.JSON 1.81's serializer prints
// doubles in an exponent form of its own (30.0 as 3E1, 0.8 as 8E-1, $0.096 as
// 9.6E-2) and has no option to change that, so this writer is its serializer with
// numbers printed as people write them.
#ifndef SPOTOPT_COMMON_JSON_OUTPUT_H_
#define SPOTOPT_COMMON_JSON_OUTPUT_H_

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace spotopt::json {

// Compact JSON text, keys in the object's order. A double is its shortest text
// that reads back exactly, with ".0" when that is a whole number (30.0, 0.8, 1e+20);
// a non-finite one, which JSON cannot say, is null.
std::string Serialize(const boost::json::value& v);
std::string Serialize(const boost::json::object& o);
std::string Serialize(const boost::json::array& a);

}  // namespace spotopt::json

#endif  // SPOTOPT_COMMON_JSON_OUTPUT_H_
