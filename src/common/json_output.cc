#include "common/json_output.h"

#include <charconv>
#include <cmath>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace spotopt::json {
namespace {

void WriteString(std::string_view s, std::string& out) {
  out.push_back('"');
  size_t run = 0;  // start of the characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

template <class Number>
void WriteNumber(Number n, std::string& out) {
  char buf[32];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), n);
  out.append(buf, r.ptr);
}

void WriteDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out.append("null");
    return;
  }
  const size_t start = out.size();
  WriteNumber(d, out);  // the shortest text that reads back exactly: 30, 0.8, 1e+20
  if (out.find_first_of(".e", start) == std::string::npos) out.append(".0");
}

void Write(const boost::json::value& v, std::string& out);

void WriteObject(const boost::json::object& o, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const boost::json::key_value_pair& kv : o) {
    if (!first) out.push_back(',');
    first = false;
    WriteString(std::string_view(kv.key().data(), kv.key().size()), out);
    out.push_back(':');
    Write(kv.value(), out);
  }
  out.push_back('}');
}

void WriteArray(const boost::json::array& a, std::string& out) {
  out.push_back('[');
  bool first = true;
  for (const boost::json::value& item : a) {
    if (!first) out.push_back(',');
    first = false;
    Write(item, out);
  }
  out.push_back(']');
}

void Write(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object:
      return WriteObject(v.get_object(), out);
    case boost::json::kind::array:
      return WriteArray(v.get_array(), out);
    case boost::json::kind::string:
      return WriteString(std::string_view(v.get_string().data(), v.get_string().size()), out);
    case boost::json::kind::double_:
      return WriteDouble(v.get_double(), out);
    case boost::json::kind::int64:
      return WriteNumber(v.get_int64(), out);
    case boost::json::kind::uint64:
      return WriteNumber(v.get_uint64(), out);
    case boost::json::kind::bool_:
      out.append(v.get_bool() ? "true" : "false");
      return;
    case boost::json::kind::null:
      out.append("null");
      return;
  }
}

}  // namespace

// Most answers are a few hundred bytes: one allocation instead of several.
constexpr size_t kTypicalSize = 512;

std::string Serialize(const boost::json::value& v) {
  std::string out;
  out.reserve(kTypicalSize);
  Write(v, out);
  return out;
}

std::string Serialize(const boost::json::object& o) {
  std::string out;
  out.reserve(kTypicalSize);
  WriteObject(o, out);
  return out;
}

std::string Serialize(const boost::json::array& a) {
  std::string out;
  out.reserve(kTypicalSize);
  WriteArray(a, out);
  return out;
}

}  // namespace spotopt::json
