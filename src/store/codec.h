// Canonical JSON for every stored record: what SqliteStore keeps in its `doc` column
// and what DumpStore prints. Canonical means one text per value: keys in a fixed
// order, times as int64 microseconds since the epoch, enums as their ToString text,
// absent optionals omitted.
#ifndef SPOTOPT_STORE_CODEC_H_
#define SPOTOPT_STORE_CODEC_H_

#include <string>
#include <string_view>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/decision/record.h"
#include "spotopt/domain/agent.h"
#include "spotopt/domain/command.h"
#include "spotopt/domain/incident.h"
#include "spotopt/domain/replica.h"
#include "spotopt/domain/report.h"
#include "spotopt/domain/run_segment.h"
#include "spotopt/domain/tenant.h"

namespace spotopt::codec {

boost::json::object ToJson(const Pool& p);
boost::json::object ToJson(const EngineRef& e);
boost::json::object ToJson(const Tenant& t);
boost::json::object ToJson(const ApiToken& t);
boost::json::object ToJson(const Placement& p);
boost::json::object ToJson(const AgentConfig& c);
boost::json::object ToJson(const Agent& a);
boost::json::object ToJson(const AgentAlias& a);
boost::json::object ToJson(const InstanceFacts& f);
boost::json::object ToJson(const Registration& r);
boost::json::object ToJson(const Command& c);
boost::json::object ToJson(const Replica& r);
boost::json::object ToJson(const Incident& i);
boost::json::object ToJson(const AgentEvent& e);
boost::json::object ToJson(const PriceObservation& p);
boost::json::object ToJson(const RunSegment& s);
boost::json::object ToJson(const SwitchRecord& s);
boost::json::object ToJson(const CleanupSection& s);
boost::json::object ToJson(const CleanupLog& l);
boost::json::object ToJson(const decision::Decision& d);
boost::json::object ToJson(const decision::DecisionRecord& r);

// Each fills *out from a document written by ToJson. A missing required key, a
// wrong type or an unknown enum text is DataLoss naming the field; *out is then
// unspecified.
absl::Status FromJson(const boost::json::value& v, Pool* out);
absl::Status FromJson(const boost::json::value& v, EngineRef* out);
absl::Status FromJson(const boost::json::value& v, Tenant* out);
absl::Status FromJson(const boost::json::value& v, ApiToken* out);
absl::Status FromJson(const boost::json::value& v, Placement* out);
absl::Status FromJson(const boost::json::value& v, AgentConfig* out);
absl::Status FromJson(const boost::json::value& v, Agent* out);
absl::Status FromJson(const boost::json::value& v, AgentAlias* out);
absl::Status FromJson(const boost::json::value& v, InstanceFacts* out);
absl::Status FromJson(const boost::json::value& v, Registration* out);
absl::Status FromJson(const boost::json::value& v, Command* out);
absl::Status FromJson(const boost::json::value& v, Replica* out);
absl::Status FromJson(const boost::json::value& v, Incident* out);
absl::Status FromJson(const boost::json::value& v, AgentEvent* out);
absl::Status FromJson(const boost::json::value& v, PriceObservation* out);
absl::Status FromJson(const boost::json::value& v, RunSegment* out);
absl::Status FromJson(const boost::json::value& v, SwitchRecord* out);
absl::Status FromJson(const boost::json::value& v, CleanupSection* out);
absl::Status FromJson(const boost::json::value& v, CleanupLog* out);
absl::Status FromJson(const boost::json::value& v, decision::Decision* out);
absl::Status FromJson(const boost::json::value& v, decision::DecisionRecord* out);

// Reads an enum stored as its ToString text (SqliteStore's plain price columns); an
// unknown text is DataLoss naming `field`.
absl::Status EnumFromText(std::string_view text, std::string_view field, PriceKind* out);
absl::Status EnumFromText(std::string_view text, std::string_view field, PriceSource* out);

template <class T>
std::string Encode(const T& record) {
  return boost::json::serialize(ToJson(record));
}

// What a SQL store keeps in a record's `doc` column: the canonical JSON less what the
// store keeps in a column of its own. A registration's last_seen_at lives in
// registration_liveness, where held beats write it without touching the document.
template <class T>
std::string EncodeDoc(const T& record) {
  return Encode(record);
}
std::string EncodeDoc(const Registration& r);

// Text that is not JSON is DataLoss, like a document of the wrong shape.
template <class T>
absl::StatusOr<T> Decode(std::string_view text) {
  // Records are small: parse into a stack buffer, so decoding allocates only the
  // strings of the result.
  unsigned char buffer[4096];
  boost::json::monotonic_resource arena(buffer, sizeof(buffer));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, &arena);
  if (ec) return absl::DataLossError("codec: stored document is not valid JSON");
  T out;
  if (absl::Status s = FromJson(v, &out); !s.ok()) return s;
  return out;
}

}  // namespace spotopt::codec

#endif  // SPOTOPT_STORE_CODEC_H_
