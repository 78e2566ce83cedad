#include "spotopt/pricing/advisor.h"

#include <algorithm>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "common/json_input.h"

namespace spotopt {
namespace {

std::string Key(std::string_view region, std::string_view os, std::string_view type) {
  std::string k;
  k.reserve(region.size() + os.size() + type.size() + 2);
  k.append(region).push_back('\0');
  k.append(os).push_back('\0');
  k.append(type);
  return k;
}

absl::Status Bad(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("advisor feed: {}: {}", path, why));
}

// Region, OS and instance type names are keys of the lookup (Key joins them with
// NULs) and come from outside: short strings without control characters, so two
// different triples can never make one key.
absl::Status CheckName(std::string_view parent, boost::json::string_view name) {
  absl::Status s = ValidateShortString(std::string_view(name.data(), name.size()), "a name");
  return s.ok() ? s : Bad(parent, std::string_view(s.message().data(), s.message().size()));
}

std::optional<int64_t> IntOf(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  return json::ExactInt(*v);
}

}  // namespace

absl::StatusOr<AdvisorFeed> AdvisorFeed::Parse(std::string_view json_text) {
  boost::system::error_code ec;
  boost::json::parse_options opt;
  opt.max_depth = 8;  // the feed is five levels deep
  const boost::json::value doc = boost::json::parse(json_text, ec, {}, opt);
  if (ec) return Bad("(document)", ec.message());
  const boost::json::object* root = doc.if_object();
  if (root == nullptr) return Bad("(document)", "not an object");

  AdvisorFeed feed;
  const boost::json::array* ranges =
      root->contains("ranges") ? root->at("ranges").if_array() : nullptr;
  if (ranges == nullptr || ranges->empty()) return Bad("ranges", "a non-empty array is required");
  for (size_t i = 0; i < ranges->size(); ++i) {
    const std::string path = fmt::format("ranges[{}]", i);
    const boost::json::object* r = (*ranges)[i].if_object();
    if (r == nullptr) return Bad(path, "not an object");
    const std::optional<int64_t> index = IntOf(r->if_contains("index"));
    const std::optional<int64_t> max = IntOf(r->if_contains("max"));
    const boost::json::value* label = r->if_contains("label");
    if (!index || *index != static_cast<int64_t>(i))
      return Bad(path + ".index", "must be " + std::to_string(i));
    if (!max || *max < 0 || *max > 100) return Bad(path + ".max", "an integer 0..100 is required");
    if (label == nullptr || !label->is_string())
      return Bad(path + ".label", "a string is required");
    feed.bands_.push_back(AdvisorBand{static_cast<int>(*index), std::string(label->get_string()),
                                      static_cast<int>(*max)});
  }

  const boost::json::object* advisor =
      root->contains("spot_advisor") ? root->at("spot_advisor").if_object() : nullptr;
  if (advisor == nullptr) return Bad("spot_advisor", "an object is required");
  for (const auto& [region, by_os] : *advisor) {
    if (absl::Status s = CheckName("spot_advisor", region); !s.ok()) return s;
    const std::string region_path = fmt::format("spot_advisor.{}", std::string_view(region));
    const boost::json::object* oses = by_os.if_object();
    if (oses == nullptr) return Bad(region_path, "not an object");
    for (const auto& [os, by_type] : *oses) {
      if (absl::Status s = CheckName(region_path, os); !s.ok()) return s;
      const boost::json::object* types = by_type.if_object();
      const std::string os_path = fmt::format("{}.{}", region_path, std::string_view(os));
      if (types == nullptr) return Bad(os_path, "not an object");
      for (const auto& [type, entry] : *types) {
        if (absl::Status s = CheckName(os_path, type); !s.ok()) return s;
        const std::string path = fmt::format("{}.{}", os_path, std::string_view(type));
        const boost::json::object* e = entry.if_object();
        if (e == nullptr) return Bad(path, "not an object");
        const std::optional<int64_t> s = IntOf(e->if_contains("s"));
        const std::optional<int64_t> r = IntOf(e->if_contains("r"));
        if (!s || *s < -1000 || *s > 100) return Bad(path + ".s", "an integer percent is required");
        if (!r || *r < 0 || *r >= static_cast<int64_t>(feed.bands_.size())) {
          return Bad(path + ".r", "not a band index of `ranges`");
        }
        feed.entries_.emplace(
            Key(region, os, type),
            AdvisorEntry{feed.bands_[static_cast<size_t>(*r)], static_cast<int>(*s)});
      }
    }
  }
  return feed;
}

std::optional<AdvisorEntry> AdvisorFeed::Find(std::string_view region, std::string_view os,
                                              std::string_view instance_type) const {
  auto it = entries_.find(Key(region, os, instance_type));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> AdvisorFeed::Regions() const {
  absl::flat_hash_set<std::string> seen;
  for (const auto& [key, entry] : entries_) seen.insert(key.substr(0, key.find('\0')));
  std::vector<std::string> out(seen.begin(), seen.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace spotopt
