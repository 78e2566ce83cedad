#include "common/json_input.h"

#include <fmt/format.h>
#include <boost/json/basic_parser_impl.hpp>

#include <cmath>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace spotopt::json {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", field, why));
}

// A validating pass over the text that refuses duplicate keys, which Boost.JSON's
// value parser silently merges. Keeps one key set per open object: it runs before
// authentication, and a list made a 256 KiB body of 27,000 keys cost 2 s of CPU.
class DuplicateKeyCheck {
 public:
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  std::string duplicate;  // the first duplicate key found

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    open_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    open_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    const auto [at, inserted] = open_.back().insert(std::move(key_));
    if (!inserted) {
      duplicate = *at;
      ec = boost::json::error::syntax;
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(uint64_t, boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  std::vector<absl::flat_hash_set<std::string>> open_;
  std::string key_;
};

const boost::json::value* Present(const boost::json::object& o, std::string_view key) {
  const auto it = o.find(boost::json::string_view(key.data(), key.size()));
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

}  // namespace

absl::StatusOr<boost::json::object> ParseObject(std::string_view body) {
  if (body.size() > kMaxBodyBytes) {
    return absl::OutOfRangeError(fmt::format("body: larger than {} bytes", kMaxBodyBytes));
  }
  if (body.empty()) return Invalid("body", "a JSON object is required");
  boost::json::parse_options options;
  options.max_depth = kMaxDepth;

  boost::json::basic_parser<DuplicateKeyCheck> check(options);
  boost::system::error_code ec;
  check.write_some(false, body.data(), body.size(), ec);
  if (ec) {
    if (!check.handler().duplicate.empty()) {
      return Invalid("body",
                     fmt::format("duplicate key '{}'",
                                 SanitizeFreeText(check.handler().duplicate.substr(0, 64))));
    }
    return Invalid("body", fmt::format("not valid JSON ({})", ec.message()));
  }
  boost::json::value v = boost::json::parse(body, ec, {}, options);
  if (ec) return Invalid("body", fmt::format("not valid JSON ({})", ec.message()));
  if (!v.is_object()) return Invalid("body", "must be a JSON object");
  return std::move(v.get_object());
}

absl::StatusOr<std::optional<std::string>> OptString(const boost::json::object& o,
                                                     std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Invalid(key, "must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

absl::StatusOr<std::optional<std::vector<std::string>>> OptStringList(const boost::json::object& o,
                                                                      std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return Invalid(key, "must be an array of strings");
  std::vector<std::string> out;
  out.reserve(v->get_array().size());
  for (const boost::json::value& item : v->get_array()) {
    if (!item.is_string()) return Invalid(key, "must be an array of strings");
    out.emplace_back(item.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

absl::StatusOr<std::optional<bool>> OptBool(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return std::optional<bool>();
  if (v->is_bool()) return std::optional<bool>(v->get_bool());
  // Section 4: 0 and 1 are booleans too on input.
  if (v->is_int64() && (v->get_int64() == 0 || v->get_int64() == 1)) {
    return std::optional<bool>(v->get_int64() == 1);
  }
  return Invalid(key, "must be true or false");
}

absl::StatusOr<std::optional<int64_t>> OptInt(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return std::optional<int64_t>();
  // 300.0 is an integer; 300.5 is not.
  if (std::optional<int64_t> i = ExactInt(*v)) return i;
  return Invalid(key, "must be an integer");
}

absl::StatusOr<std::optional<double>> OptNumber(const boost::json::object& o,
                                                std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return Invalid(key, "must be a number");
  const double d = v->to_number<double>();
  if (!std::isfinite(d)) return Invalid(key, "must be finite");
  return std::optional<double>(d);
}

absl::StatusOr<std::optional<Money>> OptPrice(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return std::optional<Money>();
  absl::StatusOr<Money> m;
  if (v->is_string()) {
    m = Money::ParsePrice(std::string_view(v->get_string()), key);
  } else if (v->is_number()) {
    m = Money::PriceFromDouble(v->to_number<double>(), key);
  } else {
    return Invalid(key, "must be a price (number or decimal string)");
  }
  if (!m.ok()) return m.status();
  return std::optional<Money>(*m);
}

absl::StatusOr<std::optional<Time>> OptTime(const boost::json::object& o, std::string_view key) {
  absl::StatusOr<std::optional<std::string>> s = OptString(o, key);
  if (!s.ok()) return s.status();
  if (!*s) return std::optional<Time>();
  absl::StatusOr<Time> t = ParseTimestamp(**s);
  if (!t.ok()) return Invalid(key, std::string(t.status().message()));
  return std::optional<Time>(*t);
}

absl::StatusOr<const boost::json::object*> OptObject(const boost::json::object& o,
                                                     std::string_view key) {
  const boost::json::value* v = Present(o, key);
  if (!v) return static_cast<const boost::json::object*>(nullptr);
  if (!v->is_object()) return Invalid(key, "must be an object");
  return &v->get_object();
}

std::optional<int64_t> ExactInt(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (v.is_double() && std::abs(v.get_double()) <= kExact &&
      v.get_double() == std::trunc(v.get_double())) {
    return static_cast<int64_t>(v.get_double());
  }
  return std::nullopt;
}

std::string_view FirstPresent(const boost::json::object& o,
                              std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (Present(o, k)) return k;
  }
  return *keys.begin();
}

}  // namespace spotopt::json
