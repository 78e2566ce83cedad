// The record codec: what a damaged database row decodes to. The input is decoded as
// every record type SqliteStore keeps in a row's `doc`.
//
// Checked for every type the text decodes as: the record encodes, its encoding
// decodes again, and that re-encodes to the same text (the encoding is canonical);
// types with == also compare equal after the round trip, so a value that never
// equals itself (NaN) is caught.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <typeinfo>

#include "fuzz/harness.h"
#include "store/codec.h"

namespace spotopt::fuzz {
namespace {

template <class T>
void RoundTrip(std::string_view text, std::string_view type) {
  const absl::StatusOr<T> record = codec::Decode<T>(text);
  if (!record.ok()) {
    FUZZ_CHECK(record.status().code() == absl::StatusCode::kDataLoss, "{}: {}", type,
               record.status().ToString());
    return;
  }
  const std::string encoded = codec::Encode(*record);
  const absl::StatusOr<T> again = codec::Decode<T>(encoded);
  FUZZ_CHECK(again.ok(), "{}: its own encoding {} does not decode: {}", type, encoded,
             again.status().ToString());
  FUZZ_CHECK(codec::Encode(*again) == encoded, "{}: {} re-encodes as {}", type, encoded,
             codec::Encode(*again));
  if constexpr (std::equality_comparable<T>) {
    FUZZ_CHECK(*again == *record, "{}: {} is not equal to itself after a round trip", type,
               encoded);
  }
}

template <class... T>
void RoundTripAll(std::string_view text) {
  (RoundTrip<T>(text, typeid(T).name()), ...);
}

}  // namespace
}  // namespace spotopt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spotopt;
  fuzz::RoundTripAll<EngineRef, Tenant, ApiToken, Placement, AgentConfig, Agent, AgentAlias,
                     InstanceFacts, Registration, Command, Replica, Incident, AgentEvent,
                     PriceObservation, RunSegment, SwitchRecord, CleanupSection, CleanupLog>(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
