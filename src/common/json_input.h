// Reading JSON input as the agent protocol requires (sections 1.6, 4, 9): bounded,
// strict about structure, tolerant about spellings and optional values. Shared by
// every layer that reads JSON from outside (config patches, request bodies).
#ifndef SPOTOPT_COMMON_JSON_INPUT_H_
#define SPOTOPT_COMMON_JSON_INPUT_H_

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spotopt/types.h"

namespace spotopt::json {

inline constexpr size_t kMaxBodyBytes = size_t{256} * 1024;
inline constexpr size_t kMaxDepth = 16;

// The body as one JSON object. OutOfRange (413) when over the size limit;
// InvalidArgument when not JSON, deeper than 16, holding a duplicate key, invalid
// UTF-8, or not an object.
absl::StatusOr<boost::json::object> ParseObject(std::string_view body);

// Field readers. `null` and absent are the same: nullopt. A present value of the
// wrong type is InvalidArgument naming the field.
absl::StatusOr<std::optional<std::string>> OptString(const boost::json::object& o,
                                                     std::string_view key);
absl::StatusOr<std::optional<std::vector<std::string>>> OptStringList(const boost::json::object& o,
                                                                      std::string_view key);
absl::StatusOr<std::optional<bool>> OptBool(const boost::json::object& o, std::string_view key);
absl::StatusOr<std::optional<int64_t>> OptInt(const boost::json::object& o, std::string_view key);
// Any finite JSON number.
absl::StatusOr<std::optional<double>> OptNumber(const boost::json::object& o, std::string_view key);
absl::StatusOr<std::optional<Money>> OptPrice(const boost::json::object& o, std::string_view key);
absl::StatusOr<std::optional<Time>> OptTime(const boost::json::object& o, std::string_view key);
// A nested object; nullopt when absent or null.
absl::StatusOr<const boost::json::object*> OptObject(const boost::json::object& o,
                                                     std::string_view key);

// The value as an int64 when it holds one exactly: an integer, or a double without
// a fraction within +-2^53 (where every integer is exact). Converting a double out of
// int64's range is undefined, so range comes before the cast.
std::optional<int64_t> ExactInt(const boost::json::value& v);

// The first key of `keys` that is present and not null (the agent's spelling
// first, then the aliases of section 9).
std::string_view FirstPresent(const boost::json::object& o,
                              std::initializer_list<std::string_view> keys);

}  // namespace spotopt::json

#endif  // SPOTOPT_COMMON_JSON_INPUT_H_
