#include "store/codec.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "common/enum_text.h"

namespace spotopt::codec {
namespace {

namespace json = boost::json;

json::string_view Sv(std::string_view s) { return json::string_view(s.data(), s.size()); }

void PutTime(json::object& o, std::string_view key, Time t) { o[Sv(key)] = ToMicros(t); }

void PutOptTime(json::object& o, std::string_view key, const std::optional<Time>& t) {
  if (t.has_value()) o[Sv(key)] = ToMicros(*t);
}

template <class E>
void PutEnum(json::object& o, std::string_view key, E e) {
  o[Sv(key)] = Sv(ToString(e));
}

void PutOptMoney(json::object& o, std::string_view key, const std::optional<Money>& m) {
  if (m.has_value()) o[Sv(key)] = m->micros();
}

json::array StringArray(const std::vector<std::string>& list) {
  json::array a;
  a.reserve(list.size());
  for (const std::string& s : list) a.emplace_back(Sv(s));
  return a;
}

// Boost.JSON 1.81 parses some doubles one ulp off, so a double is stored as its
// shortest round-trip decimal text, which std::from_chars reads back exactly.
void PutReal(json::object& o, std::string_view key, double d) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), d);
  o[Sv(key)] = json::string_view(buf, static_cast<size_t>(res.ptr - buf));
}

// Reads the fields of one record; the first problem is kept and later reads are
// skipped, so a decoder reads every field and checks status() once.
class Fields {
 public:
  Fields(const json::value& v, std::string_view record) : record_(record) {
    obj_ = v.if_object();
    if (obj_ == nullptr) Fail("", "expected an object");
  }
  Fields(const json::object& o, std::string_view record) : record_(record), obj_(&o) {}

  absl::Status status() const { return status_; }

  bool Has(std::string_view key) const {
    return status_.ok() && obj_ != nullptr && obj_->contains(Sv(key));
  }

  void Str(std::string_view key, std::string* out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    const json::string* s = v->if_string();
    if (s == nullptr) return Fail(key, "expected a string");
    out->assign(s->data(), s->size());
  }

  void OptStr(std::string_view key, std::optional<std::string>* out) {
    if (!Has(key)) return out->reset();
    out->emplace();
    Str(key, &**out);
  }

  void Int(std::string_view key, int64_t* out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    if (const int64_t* i = v->if_int64()) {
      *out = *i;
    } else if (const uint64_t* u = v->if_uint64();
               u != nullptr && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(*u);
    } else {
      Fail(key, "expected a 64-bit integer");
    }
  }

  void Bool(std::string_view key, bool* out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    const bool* b = v->if_bool();
    if (b == nullptr) return Fail(key, "expected a boolean");
    *out = *b;
  }

  void Real(std::string_view key, double* out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    if (const json::string* s = v->if_string()) {
      const char* end = s->data() + s->size();
      const auto res = std::from_chars(s->data(), end, *out);
      if (res.ec != std::errc() || res.ptr != end) Fail(key, "expected a decimal number");
    } else if (v->is_number()) {
      *out = v->to_number<double>();
    } else {
      return Fail(key, "expected a number");
    }
    // Never written (config values are validated), and a NaN would pass every range
    // check and compare unequal to itself.
    if (status_.ok() && !std::isfinite(*out)) Fail(key, "expected a finite number");
  }

  void At(std::string_view key, Time* out) {
    int64_t us = 0;
    Int(key, &us);
    *out = FromMicros(us);
  }

  void OptAt(std::string_view key, std::optional<Time>* out) {
    if (!Has(key)) return out->reset();
    Time t;
    At(key, &t);
    *out = t;
  }

  void Micros(std::string_view key, Money* out) {
    int64_t micros = 0;
    Int(key, &micros);
    *out = Money::FromMicros(micros);
  }

  void OptMicros(std::string_view key, std::optional<Money>* out) {
    if (!Has(key)) return out->reset();
    out->emplace();
    Micros(key, &**out);
  }

  void Strings(std::string_view key, std::vector<std::string>* out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    const json::array* a = v->if_array();
    if (a == nullptr) return Fail(key, "expected an array");
    out->clear();
    for (const json::value& item : *a) {
      const json::string* s = item.if_string();
      if (s == nullptr) return Fail(key, "expected an array of strings");
      out->emplace_back(s->data(), s->size());
    }
  }

  template <class T>
  void OptNested(std::string_view key, std::optional<T>* out) {
    if (!Has(key)) return out->reset();
    out->emplace();
    Nested(key, &**out);
  }

  template <class E>
  void Enum(std::string_view key, E* out) {
    std::string text;
    Str(key, &text);
    if (!status_.ok()) return;
    const std::optional<E> e = ParseEnum<E>(text);
    if (!e.has_value()) return Fail(key, fmt::format("unknown value \"{}\"", text));
    *out = *e;
  }

  template <class E>
  void OptEnum(std::string_view key, std::optional<E>* out) {
    if (!Has(key)) return out->reset();
    out->emplace();
    Enum(key, &**out);
  }

  template <class T>
  void Nested(std::string_view key, T* out) {
    const json::value* v = Find(key);
    if (v == nullptr) return;
    if (absl::Status s = FromJson(*v, out); !s.ok()) {
      status_ =
          absl::DataLossError(fmt::format("{} (in {}.{})", std::string(s.message()), record_, key));
    }
  }

  // The sub-object at `key`, or null after recording the problem.
  const json::object* Object(std::string_view key) {
    const json::value* v = Find(key);
    if (v == nullptr) return nullptr;
    const json::object* o = v->if_object();
    if (o == nullptr) Fail(key, "expected an object");
    return o;
  }

  void Fail(std::string_view key, std::string_view problem) {
    if (!status_.ok()) return;
    status_ = absl::DataLossError(
        fmt::format("codec: {}{}{}: {}", record_, key.empty() ? "" : ".", key, problem));
  }

 private:
  const json::value* Find(std::string_view key) {
    if (!status_.ok()) return nullptr;
    const json::value* v = obj_->if_contains(Sv(key));
    if (v == nullptr) Fail(key, "missing");
    return v;
  }

  std::string_view record_;
  const json::object* obj_ = nullptr;
  absl::Status status_;
};

}  // namespace

json::object ToJson(const Pool& p) {
  json::object o;
  o["region"] = Sv(p.region);
  o["az"] = Sv(p.az);
  o["instance_type"] = Sv(p.instance_type);
  return o;
}

absl::Status FromJson(const json::value& v, Pool* out) {
  Fields f(v, "Pool");
  f.Str("region", &out->region);
  f.Str("az", &out->az);
  f.Str("instance_type", &out->instance_type);
  return f.status();
}

json::object ToJson(const EngineRef& e) {
  json::object o;
  o["name"] = Sv(e.name);
  o["version"] = Sv(e.version);
  o["sha256"] = Sv(e.sha256);
  return o;
}

absl::Status FromJson(const json::value& v, EngineRef* out) {
  Fields f(v, "EngineRef");
  f.Str("name", &out->name);
  f.Str("version", &out->version);
  f.Str("sha256", &out->sha256);
  return f.status();
}

json::object ToJson(const Tenant& t) {
  json::object o;
  o["id"] = Sv(t.id);
  o["name"] = Sv(t.name);
  PutEnum(o, "state", t.state);
  PutTime(o, "created_at", t.created_at);
  PutTime(o, "updated_at", t.updated_at);
  if (t.engine) o["engine"] = ToJson(*t.engine);
  if (t.previous_engine) o["previous_engine"] = ToJson(*t.previous_engine);
  return o;
}

absl::Status FromJson(const json::value& v, Tenant* out) {
  Fields f(v, "Tenant");
  f.Str("id", &out->id);
  f.Str("name", &out->name);
  f.Enum("state", &out->state);
  f.At("created_at", &out->created_at);
  f.At("updated_at", &out->updated_at);
  f.OptNested("engine", &out->engine);
  f.OptNested("previous_engine", &out->previous_engine);
  return f.status();
}

json::object ToJson(const ApiToken& t) {
  json::object o;
  o["prefix"] = Sv(t.prefix);
  o["tenant_id"] = Sv(t.tenant_id);
  o["salt"] = Sv(t.salt);
  o["hash"] = Sv(t.hash);
  PutTime(o, "created_at", t.created_at);
  PutOptTime(o, "expires_at", t.expires_at);
  return o;
}

absl::Status FromJson(const json::value& v, ApiToken* out) {
  Fields f(v, "ApiToken");
  f.Str("prefix", &out->prefix);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("salt", &out->salt);
  f.Str("hash", &out->hash);
  f.At("created_at", &out->created_at);
  f.OptAt("expires_at", &out->expires_at);
  return f.status();
}

json::object ToJson(const Placement& p) {
  json::object o;
  o["instance_id"] = Sv(p.instance_id);
  o["instance_type"] = Sv(p.instance_type);
  o["region"] = Sv(p.region);
  o["az"] = Sv(p.az);
  PutEnum(o, "mode", p.mode);
  return o;
}

absl::Status FromJson(const json::value& v, Placement* out) {
  Fields f(v, "Placement");
  f.Str("instance_id", &out->instance_id);
  f.Str("instance_type", &out->instance_type);
  f.Str("region", &out->region);
  f.Str("az", &out->az);
  f.Enum("mode", &out->mode);
  return f.status();
}

json::object ToJson(const AgentConfig& c) {
  json::object o;
  o["version"] = c.version;
  o["enabled"] = c.enabled;
  o["auto_switch"] = c.auto_switch;
  PutEnum(o, "replica_mode", c.replica_mode);
  o["auto_terminate"] = c.auto_terminate;
  o["terminate_wait_seconds"] = c.terminate_wait_seconds;
  PutReal(o, "min_savings_percent", c.min_savings_percent);
  PutReal(o, "ondemand_fallback_ratio", c.ondemand_fallback_ratio);
  PutReal(o, "ondemand_return_ratio", c.ondemand_return_ratio);
  PutReal(o, "risk_threshold", c.risk_threshold);
  o["max_switches_per_day"] = c.max_switches_per_day;
  o["max_switches_per_week"] = c.max_switches_per_week;
  PutReal(o, "min_pool_duration_hours", c.min_pool_duration_hours);
  if (!c.compatible_instance_types.empty()) {
    o["compatible_instance_types"] = StringArray(c.compatible_instance_types);
  }
  return o;
}

absl::Status FromJson(const json::value& v, AgentConfig* out) {
  Fields f(v, "AgentConfig");
  f.Int("version", &out->version);
  f.Bool("enabled", &out->enabled);
  f.Bool("auto_switch", &out->auto_switch);
  f.Enum("replica_mode", &out->replica_mode);
  f.Bool("auto_terminate", &out->auto_terminate);
  f.Int("terminate_wait_seconds", &out->terminate_wait_seconds);
  f.Real("min_savings_percent", &out->min_savings_percent);
  f.Real("ondemand_fallback_ratio", &out->ondemand_fallback_ratio);
  // Added in 0.2: configs written before keep the default.
  if (f.Has("ondemand_return_ratio")) {
    f.Real("ondemand_return_ratio", &out->ondemand_return_ratio);
  }
  f.Real("risk_threshold", &out->risk_threshold);
  f.Int("max_switches_per_day", &out->max_switches_per_day);
  f.Int("max_switches_per_week", &out->max_switches_per_week);
  f.Real("min_pool_duration_hours", &out->min_pool_duration_hours);
  if (f.Has("compatible_instance_types")) {
    f.Strings("compatible_instance_types", &out->compatible_instance_types);
  }
  return f.status();
}

json::object ToJson(const Agent& a) {
  json::object o;
  o["id"] = Sv(a.id);
  o["tenant_id"] = Sv(a.tenant_id);
  o["logical_id"] = Sv(a.logical_id);
  PutEnum(o, "lifecycle", a.lifecycle);
  o["placement"] = ToJson(a.placement);
  PutTime(o, "placement_since", a.placement_since);
  o["config"] = ToJson(a.config);
  o["fallback_identity"] = a.fallback_identity;
  PutTime(o, "created_at", a.created_at);
  PutTime(o, "updated_at", a.updated_at);
  return o;
}

absl::Status FromJson(const json::value& v, Agent* out) {
  Fields f(v, "Agent");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("logical_id", &out->logical_id);
  f.Enum("lifecycle", &out->lifecycle);
  f.Nested("placement", &out->placement);
  f.At("placement_since", &out->placement_since);
  f.Nested("config", &out->config);
  f.Bool("fallback_identity", &out->fallback_identity);
  f.At("created_at", &out->created_at);
  f.At("updated_at", &out->updated_at);
  return f.status();
}

json::object ToJson(const AgentAlias& a) {
  json::object o;
  o["tenant_id"] = Sv(a.tenant_id);
  o["logical_id"] = Sv(a.logical_id);
  o["agent_id"] = Sv(a.agent_id);
  PutTime(o, "created_at", a.created_at);
  return o;
}

absl::Status FromJson(const json::value& v, AgentAlias* out) {
  Fields f(v, "AgentAlias");
  f.Str("tenant_id", &out->tenant_id);
  f.Str("logical_id", &out->logical_id);
  f.Str("agent_id", &out->agent_id);
  f.At("created_at", &out->created_at);
  return f.status();
}

json::object ToJson(const InstanceFacts& facts) {
  json::object o;
  o["hostname"] = Sv(facts.hostname);
  o["instance_type"] = Sv(facts.instance_type);
  o["az"] = Sv(facts.az);
  o["ami_id"] = Sv(facts.ami_id);
  o["private_ip"] = Sv(facts.private_ip);
  o["public_ip"] = Sv(facts.public_ip);
  o["agent_version"] = Sv(facts.agent_version);
  if (facts.mode.has_value()) PutEnum(o, "mode", *facts.mode);
  return o;
}

absl::Status FromJson(const json::value& v, InstanceFacts* out) {
  Fields f(v, "InstanceFacts");
  f.Str("hostname", &out->hostname);
  f.Str("instance_type", &out->instance_type);
  f.Str("az", &out->az);
  f.Str("ami_id", &out->ami_id);
  f.Str("private_ip", &out->private_ip);
  f.Str("public_ip", &out->public_ip);
  f.Str("agent_version", &out->agent_version);
  f.OptEnum("mode", &out->mode);
  return f.status();
}

json::object ToJson(const Registration& r) {
  json::object o;
  o["id"] = Sv(r.id);
  o["tenant_id"] = Sv(r.tenant_id);
  o["agent_id"] = Sv(r.agent_id);
  o["instance_id"] = Sv(r.instance_id);
  o["facts"] = ToJson(r.facts);
  PutEnum(o, "instance_state", r.instance_state);
  PutTime(o, "created_at", r.created_at);
  PutTime(o, "last_seen_at", r.last_seen_at);
  PutEnum(o, "last_status", r.last_status);
  PutOptTime(o, "last_cleanup_at", r.last_cleanup_at);
  return o;
}

std::string EncodeDoc(const Registration& r) {
  json::object o = ToJson(r);
  o.erase("last_seen_at");
  return json::serialize(o);
}

absl::Status FromJson(const json::value& v, Registration* out) {
  Fields f(v, "Registration");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Str("instance_id", &out->instance_id);
  f.Nested("facts", &out->facts);
  f.Enum("instance_state", &out->instance_state);
  f.At("created_at", &out->created_at);
  // Absent from a SQL store's doc (EncodeDoc); the store reads it from its own column.
  if (f.Has("last_seen_at")) f.At("last_seen_at", &out->last_seen_at);
  f.Enum("last_status", &out->last_status);
  f.OptAt("last_cleanup_at", &out->last_cleanup_at);
  return f.status();
}

json::object ToJson(const Command& c) {
  json::object o;
  o["id"] = Sv(c.id);
  o["tenant_id"] = Sv(c.tenant_id);
  o["agent_id"] = Sv(c.agent_id);
  o["seq"] = c.seq;
  PutEnum(o, "type", c.type);
  o["priority"] = static_cast<int64_t>(c.priority);
  PutEnum(o, "state", c.state);
  PutEnum(o, "target_mode", c.target_mode);
  if (c.target_pool_id.has_value()) o["target_pool_id"] = Sv(*c.target_pool_id);
  o["terminate_wait_seconds"] = c.terminate_wait_seconds;
  o["reason"] = Sv(c.reason);
  o["requested_by"] = Sv(c.requested_by);
  o["override_limits"] = c.override_limits;
  o["issued_for_instance"] = Sv(c.issued_for_instance);
  o["dedup_key"] = Sv(c.dedup_key);
  if (c.replica_id.has_value()) o["replica_id"] = Sv(*c.replica_id);
  PutTime(o, "created_at", c.created_at);
  PutTime(o, "expires_at", c.expires_at);
  o["lease_holder"] = Sv(c.lease_holder);
  PutOptTime(o, "leased_at", c.leased_at);
  PutOptTime(o, "lease_expires_at", c.lease_expires_at);
  PutOptTime(o, "closed_at", c.closed_at);
  o["result_message"] = Sv(c.result_message);
  return o;
}

absl::Status FromJson(const json::value& v, Command* out) {
  Fields f(v, "Command");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Int("seq", &out->seq);
  f.Enum("type", &out->type);
  int64_t priority = 0;
  f.Int("priority", &priority);
  if (f.status().ok()) {
    absl::StatusOr<Priority> p = PriorityFromInt(priority);
    if (p.ok()) {
      out->priority = *p;
    } else {
      f.Fail("priority", "not a priority class");
    }
  }
  f.Enum("state", &out->state);
  f.Enum("target_mode", &out->target_mode);
  f.OptStr("target_pool_id", &out->target_pool_id);
  f.Int("terminate_wait_seconds", &out->terminate_wait_seconds);
  f.Str("reason", &out->reason);
  f.Str("requested_by", &out->requested_by);
  f.Bool("override_limits", &out->override_limits);
  f.Str("issued_for_instance", &out->issued_for_instance);
  f.Str("dedup_key", &out->dedup_key);
  f.OptStr("replica_id", &out->replica_id);
  f.At("created_at", &out->created_at);
  f.At("expires_at", &out->expires_at);
  f.Str("lease_holder", &out->lease_holder);
  f.OptAt("leased_at", &out->leased_at);
  f.OptAt("lease_expires_at", &out->lease_expires_at);
  f.OptAt("closed_at", &out->closed_at);
  f.Str("result_message", &out->result_message);
  return f.status();
}

json::object ToJson(const Replica& r) {
  json::object o;
  o["id"] = Sv(r.id);
  o["tenant_id"] = Sv(r.tenant_id);
  o["agent_id"] = Sv(r.agent_id);
  PutEnum(o, "state", r.state);
  o["instance_id"] = Sv(r.instance_id);
  o["pool"] = ToJson(r.pool);
  o["replica_type"] = Sv(r.replica_type);
  PutEnum(o, "launch_path", r.launch_path);
  o["command_id"] = Sv(r.command_id);
  o["incident_id"] = Sv(r.incident_id);
  o["lease_holder"] = Sv(r.lease_holder);
  PutOptTime(o, "lease_expires_at", r.lease_expires_at);
  o["forced_promotion"] = r.forced_promotion;
  o["error"] = Sv(r.error);
  PutTime(o, "created_at", r.created_at);
  PutTime(o, "updated_at", r.updated_at);
  json::object entered;
  for (int i = 0; i < kReplicaStateCount; ++i) {
    PutOptTime(entered, ToString(static_cast<ReplicaState>(i)), r.entered_at[i]);
  }
  o["entered_at"] = std::move(entered);
  return o;
}

absl::Status FromJson(const json::value& v, Replica* out) {
  Fields f(v, "Replica");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Enum("state", &out->state);
  f.Str("instance_id", &out->instance_id);
  f.Nested("pool", &out->pool);
  f.Str("replica_type", &out->replica_type);
  f.Enum("launch_path", &out->launch_path);
  f.Str("command_id", &out->command_id);
  f.Str("incident_id", &out->incident_id);
  f.Str("lease_holder", &out->lease_holder);
  f.OptAt("lease_expires_at", &out->lease_expires_at);
  f.Bool("forced_promotion", &out->forced_promotion);
  f.Str("error", &out->error);
  f.At("created_at", &out->created_at);
  f.At("updated_at", &out->updated_at);
  if (const json::object* entered = f.Object("entered_at")) {
    Fields e(*entered, "Replica.entered_at");
    for (const auto& [key, unused] : *entered) {
      if (!ParseEnum<ReplicaState>(std::string_view(key.data(), key.size())).has_value()) {
        e.Fail(std::string_view(key.data(), key.size()), "not a replica state");
      }
    }
    for (int i = 0; i < kReplicaStateCount; ++i) {
      e.OptAt(ToString(static_cast<ReplicaState>(i)), &out->entered_at[i]);
    }
    if (!e.status().ok()) return e.status();
  }
  return f.status();
}

json::object ToJson(const Incident& i) {
  json::object o;
  o["id"] = Sv(i.id);
  o["tenant_id"] = Sv(i.tenant_id);
  o["agent_id"] = Sv(i.agent_id);
  o["instance_id"] = Sv(i.instance_id);
  o["pool"] = ToJson(i.pool);
  PutEnum(o, "signal", i.signal);
  PutTime(o, "notice_time", i.notice_time);
  PutOptTime(o, "deadline", i.deadline);
  PutTime(o, "first_seen", i.first_seen);
  PutTime(o, "last_seen", i.last_seen);
  o["repeat_count"] = i.repeat_count;
  PutOptTime(o, "closed_at", i.closed_at);
  PutOptTime(o, "detected_at", i.detected_at);
  PutOptTime(o, "decided_at", i.decided_at);
  PutOptTime(o, "promoted_at", i.promoted_at);
  PutOptTime(o, "healthy_at", i.healthy_at);
  o["decision"] = Sv(i.decision);
  o["replica_id"] = Sv(i.replica_id);
  o["command_id"] = Sv(i.command_id);
  return o;
}

absl::Status FromJson(const json::value& v, Incident* out) {
  Fields f(v, "Incident");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Str("instance_id", &out->instance_id);
  // Recorded since 0.2: older incidents have no pool (unknown).
  if (f.Has("pool")) f.Nested("pool", &out->pool);
  f.Enum("signal", &out->signal);
  f.At("notice_time", &out->notice_time);
  f.OptAt("deadline", &out->deadline);
  f.At("first_seen", &out->first_seen);
  f.At("last_seen", &out->last_seen);
  f.Int("repeat_count", &out->repeat_count);
  f.OptAt("closed_at", &out->closed_at);
  f.OptAt("detected_at", &out->detected_at);
  f.OptAt("decided_at", &out->decided_at);
  f.OptAt("promoted_at", &out->promoted_at);
  f.OptAt("healthy_at", &out->healthy_at);
  f.Str("decision", &out->decision);
  f.Str("replica_id", &out->replica_id);
  f.Str("command_id", &out->command_id);
  return f.status();
}

json::object ToJson(const decision::Decision& d) {
  json::object o;
  PutEnum(o, "action", d.action);
  if (d.target) o["target"] = ToJson(*d.target);
  PutEnum(o, "reason", d.reason);
  o["message"] = Sv(d.message);
  PutReal(o, "risk", d.risk);
  o["expected_savings_micros"] = d.expected_savings_micros;
  PutReal(o, "confidence", d.confidence);
  o["urgent"] = d.urgent;
  o["engine"] = Sv(d.engine);
  o["engine_version"] = Sv(d.engine_version);
  PutEnum(o, "guard", d.guard);
  if (d.held_action) PutEnum(o, "held_action", *d.held_action);
  if (d.held_target) o["held_target"] = ToJson(*d.held_target);
  return o;
}

absl::Status FromJson(const json::value& v, decision::Decision* out) {
  Fields f(v, "Decision");
  f.Enum("action", &out->action);
  f.OptNested("target", &out->target);
  f.Enum("reason", &out->reason);
  f.Str("message", &out->message);
  f.Real("risk", &out->risk);
  f.Int("expected_savings_micros", &out->expected_savings_micros);
  f.Real("confidence", &out->confidence);
  f.Bool("urgent", &out->urgent);
  f.Str("engine", &out->engine);
  f.Str("engine_version", &out->engine_version);
  f.Enum("guard", &out->guard);
  f.OptEnum("held_action", &out->held_action);
  f.OptNested("held_target", &out->held_target);
  return f.status();
}

json::object ToJson(const decision::DecisionRecord& r) {
  json::object o;
  o["seq"] = r.seq;
  o["id"] = Sv(r.id);
  o["tenant_id"] = Sv(r.tenant_id);
  o["agent_id"] = Sv(r.agent_id);
  PutTime(o, "decided_at", r.decided_at);
  PutEnum(o, "trigger", r.trigger);
  o["decision"] = ToJson(r.decision);
  o["inputs"] = Sv(r.inputs);
  o["engine_asked"] = Sv(r.engine_asked);
  o["fallback"] = Sv(r.fallback);
  o["acted"] = r.acted;
  o["command_id"] = Sv(r.command_id);
  o["replica_id"] = Sv(r.replica_id);
  o["outcome"] = Sv(r.outcome);
  return o;
}

absl::Status FromJson(const json::value& v, decision::DecisionRecord* out) {
  Fields f(v, "DecisionRecord");
  f.Int("seq", &out->seq);
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.At("decided_at", &out->decided_at);
  f.Enum("trigger", &out->trigger);
  f.Nested("decision", &out->decision);
  f.Str("inputs", &out->inputs);
  f.Str("engine_asked", &out->engine_asked);
  f.Str("fallback", &out->fallback);
  f.Bool("acted", &out->acted);
  f.Str("command_id", &out->command_id);
  f.Str("replica_id", &out->replica_id);
  f.Str("outcome", &out->outcome);
  return f.status();
}

json::object ToJson(const AgentEvent& e) {
  json::object o;
  o["id"] = Sv(e.id);
  o["tenant_id"] = Sv(e.tenant_id);
  o["agent_id"] = Sv(e.agent_id);
  PutEnum(o, "kind", e.kind);
  o["instance_id"] = Sv(e.instance_id);
  o["detail"] = Sv(e.detail);
  PutTime(o, "at", e.at);
  return o;
}

absl::Status FromJson(const json::value& v, AgentEvent* out) {
  Fields f(v, "AgentEvent");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Enum("kind", &out->kind);
  f.Str("instance_id", &out->instance_id);
  f.Str("detail", &out->detail);
  f.At("at", &out->at);
  return f.status();
}

json::object ToJson(const PriceObservation& p) {
  json::object o;
  o["seq"] = p.seq;
  o["tenant_id"] = Sv(p.tenant_id);
  o["agent_id"] = Sv(p.agent_id);
  o["registration_id"] = Sv(p.registration_id);
  o["region"] = Sv(p.region);
  o["az"] = Sv(p.az);
  o["instance_type"] = Sv(p.instance_type);
  PutEnum(o, "kind", p.kind);
  o["price_micros"] = p.price.micros();
  PutTime(o, "observed_at", p.observed_at);
  PutTime(o, "received_at", p.received_at);
  o["server_received"] = p.server_received;
  PutEnum(o, "source", p.source);
  return o;
}

absl::Status FromJson(const json::value& v, PriceObservation* out) {
  Fields f(v, "PriceObservation");
  f.Int("seq", &out->seq);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Str("registration_id", &out->registration_id);
  f.Str("region", &out->region);
  f.Str("az", &out->az);
  f.Str("instance_type", &out->instance_type);
  f.Enum("kind", &out->kind);
  f.Micros("price_micros", &out->price);
  f.At("observed_at", &out->observed_at);
  f.At("received_at", &out->received_at);
  f.Bool("server_received", &out->server_received);
  f.Enum("source", &out->source);
  return f.status();
}

json::object ToJson(const RunSegment& s) {
  json::object o;
  o["id"] = Sv(s.id);
  o["tenant_id"] = Sv(s.tenant_id);
  o["agent_id"] = Sv(s.agent_id);
  o["instance_id"] = Sv(s.instance_id);
  PutEnum(o, "role", s.role);
  o["placement"] = ToJson(s.placement);
  PutTime(o, "started_at", s.started_at);
  PutOptTime(o, "ended_at", s.ended_at);
  return o;
}

absl::Status FromJson(const json::value& v, RunSegment* out) {
  Fields f(v, "RunSegment");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Str("instance_id", &out->instance_id);
  f.Enum("role", &out->role);
  f.Nested("placement", &out->placement);
  f.At("started_at", &out->started_at);
  f.OptAt("ended_at", &out->ended_at);
  return f.status();
}

json::object ToJson(const SwitchRecord& s) {
  json::object o;
  o["id"] = Sv(s.id);
  o["tenant_id"] = Sv(s.tenant_id);
  o["agent_id"] = Sv(s.agent_id);
  o["from"] = ToJson(s.from);
  o["to"] = ToJson(s.to);
  o["command_id"] = Sv(s.command_id);
  o["reason"] = Sv(s.reason);
  o["requested_by"] = Sv(s.requested_by);
  o["trigger"] = Sv(s.trigger);
  PutOptTime(o, "initiated_at", s.timings.initiated_at);
  PutOptTime(o, "launched_at", s.timings.launched_at);
  PutOptTime(o, "ready_at", s.timings.ready_at);
  PutOptTime(o, "traffic_switched_at", s.timings.traffic_switched_at);
  PutOptTime(o, "old_terminated_at", s.timings.old_terminated_at);
  PutOptTime(o, "ami_created_at", s.timings.ami_created_at);
  PutOptMoney(o, "on_demand_price_micros", s.on_demand_price);
  PutOptMoney(o, "old_spot_price_micros", s.old_spot_price);
  PutOptMoney(o, "new_spot_price_micros", s.new_spot_price);
  o["unsolicited"] = s.unsolicited;
  o["reported"] = s.reported;
  PutTime(o, "created_at", s.created_at);
  PutTime(o, "updated_at", s.updated_at);
  return o;
}

absl::Status FromJson(const json::value& v, SwitchRecord* out) {
  Fields f(v, "SwitchRecord");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Nested("from", &out->from);
  f.Nested("to", &out->to);
  f.Str("command_id", &out->command_id);
  f.Str("reason", &out->reason);
  f.Str("requested_by", &out->requested_by);
  f.Str("trigger", &out->trigger);
  f.OptAt("initiated_at", &out->timings.initiated_at);
  f.OptAt("launched_at", &out->timings.launched_at);
  f.OptAt("ready_at", &out->timings.ready_at);
  f.OptAt("traffic_switched_at", &out->timings.traffic_switched_at);
  f.OptAt("old_terminated_at", &out->timings.old_terminated_at);
  f.OptAt("ami_created_at", &out->timings.ami_created_at);
  f.OptMicros("on_demand_price_micros", &out->on_demand_price);
  f.OptMicros("old_spot_price_micros", &out->old_spot_price);
  f.OptMicros("new_spot_price_micros", &out->new_spot_price);
  f.Bool("unsolicited", &out->unsolicited);
  f.Bool("reported", &out->reported);
  f.At("created_at", &out->created_at);
  f.At("updated_at", &out->updated_at);
  return f.status();
}

json::object ToJson(const CleanupSection& s) {
  json::object o;
  o["deleted_snapshots"] = StringArray(s.deleted_snapshots);
  o["deleted_amis"] = StringArray(s.deleted_amis);
  json::array failed;
  failed.reserve(s.failed.size());
  for (const CleanupFailure& f : s.failed) {
    json::object item;
    item["id"] = Sv(f.id);
    item["error"] = Sv(f.error);
    failed.emplace_back(std::move(item));
  }
  o["failed"] = std::move(failed);
  PutOptTime(o, "cutoff", s.cutoff);
  o["error"] = Sv(s.error);
  return o;
}

absl::Status FromJson(const json::value& v, CleanupSection* out) {
  Fields f(v, "CleanupSection");
  f.Strings("deleted_snapshots", &out->deleted_snapshots);
  f.Strings("deleted_amis", &out->deleted_amis);
  out->failed.clear();
  if (const json::value* failed = v.is_object() ? v.get_object().if_contains("failed") : nullptr) {
    const json::array* items = failed->if_array();
    if (items == nullptr) f.Fail("failed", "expected an array");
    for (size_t i = 0; items != nullptr && i < items->size(); ++i) {
      Fields item((*items)[i], "CleanupSection.failed");
      CleanupFailure& failure = out->failed.emplace_back();
      item.Str("id", &failure.id);
      item.Str("error", &failure.error);
      if (!item.status().ok()) return item.status();
    }
  } else {
    f.Fail("failed", "missing");
  }
  f.OptAt("cutoff", &out->cutoff);
  f.Str("error", &out->error);
  return f.status();
}

json::object ToJson(const CleanupLog& l) {
  json::object o;
  o["id"] = Sv(l.id);
  o["tenant_id"] = Sv(l.tenant_id);
  o["agent_id"] = Sv(l.agent_id);
  o["registration_id"] = Sv(l.registration_id);
  if (l.snapshots.has_value()) o["snapshots"] = ToJson(*l.snapshots);
  if (l.amis.has_value()) o["amis"] = ToJson(*l.amis);
  PutTime(o, "reported_at", l.reported_at);
  PutTime(o, "received_at", l.received_at);
  return o;
}

absl::Status FromJson(const json::value& v, CleanupLog* out) {
  Fields f(v, "CleanupLog");
  f.Str("id", &out->id);
  f.Str("tenant_id", &out->tenant_id);
  f.Str("agent_id", &out->agent_id);
  f.Str("registration_id", &out->registration_id);
  f.OptNested("snapshots", &out->snapshots);
  f.OptNested("amis", &out->amis);
  f.At("reported_at", &out->reported_at);
  f.At("received_at", &out->received_at);
  return f.status();
}

namespace {

template <class E>
absl::Status EnumFrom(std::string_view text, std::string_view field, E* out) {
  const std::optional<E> e = ParseEnum<E>(text);
  if (!e.has_value()) {
    return absl::DataLossError(fmt::format("codec: {}: unknown value \"{}\"", field, text));
  }
  *out = *e;
  return absl::OkStatus();
}

}  // namespace

absl::Status EnumFromText(std::string_view text, std::string_view field, PriceKind* out) {
  return EnumFrom(text, field, out);
}

absl::Status EnumFromText(std::string_view text, std::string_view field, PriceSource* out) {
  return EnumFrom(text, field, out);
}

}  // namespace spotopt::codec
