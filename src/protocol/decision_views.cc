#include "protocol/decision_views.h"

#include <charconv>

#include <fmt/format.h>

#include "decision/json_objects.h"

namespace spotopt::protocol {
namespace {

namespace bj = boost::json;

bj::value IdOrNull(const std::string& id) {
  if (id.empty()) return nullptr;
  return bj::string(id);
}

absl::StatusOr<int64_t> Number(std::string_view text, std::string_view field) {
  int64_t v = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
    return absl::InvalidArgumentError(fmt::format("{}: must be an integer", field));
  }
  return v;
}

}  // namespace

bj::object DecisionPreviewJson(const DecisionPreview& p) {
  return {{"decision", decision::DecisionObject(p.decision)},
          {"input", decision::InputObject(p.input)},
          {"engine_asked", p.engine_asked},
          {"fallback", IdOrNull(p.fallback)}};
}

bj::object DecisionRecordJson(const decision::DecisionRecord& r) {
  bj::error_code ec;
  bj::value inputs = bj::parse(r.inputs, ec);
  if (ec) inputs = nullptr;  // the log keeps what it was given; unreadable shows as null
  return {{"seq", r.seq},
          {"id", r.id},
          {"agent_id", r.agent_id},
          {"decided_at", FormatTimestamp(r.decided_at)},
          {"trigger", decision::ToString(r.trigger)},
          {"decision", decision::DecisionObject(r.decision)},
          {"inputs", std::move(inputs)},
          {"engine_asked", r.engine_asked},
          {"fallback", IdOrNull(r.fallback)},
          {"acted", r.acted},
          {"command_id", IdOrNull(r.command_id)},
          {"replica_id", IdOrNull(r.replica_id)},
          {"outcome", r.outcome}};
}

bj::object DecisionRunJson(const DecisionRunReport& r) {
  return {{"tenants", r.tenants}, {"agents", r.agents},      {"skipped", r.skipped},
          {"logged", r.logged},   {"acted", r.acted},        {"held", r.held},
          {"refused", r.refused}, {"fallbacks", r.fallbacks}};
}

bj::object EngineRefJson(const EngineRef& e) {
  return {{"name", e.name}, {"version", e.version}, {"sha256", e.sha256}};
}

bj::object EngineInfoJson(const decision::EngineInfo& e) {
  bj::object o = EngineRefJson(e.ref);
  o["kind"] = decision::ToString(e.kind);
  o["description"] = e.description;
  return o;
}

bj::object TenantEnginesJson(const TenantEngines& e) {
  return {{"active", EngineRefJson(e.active)},
          {"previous", e.previous ? bj::value(EngineRefJson(*e.previous)) : nullptr}};
}

absl::StatusOr<DecisionPage> DecisionPageFrom(std::string_view before, std::string_view limit) {
  DecisionPage page;
  if (!before.empty()) {
    absl::StatusOr<int64_t> b = Number(before, "before");
    if (!b.ok()) return b.status();
    page.before_seq = *b;
  }
  if (!limit.empty()) {
    absl::StatusOr<int64_t> l = Number(limit, "limit");
    if (!l.ok()) return l.status();
    if (*l <= 0) return absl::InvalidArgumentError("limit: must be from 1 to 1000");
    page.limit = static_cast<size_t>(*l);
  }
  return page;
}

}  // namespace spotopt::protocol
