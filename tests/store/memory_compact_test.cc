// MemoryStore's compact rows (src/store/memory): the intern table, packed ids and the
// records encoded with them read back exactly as written, and the chunked rows that
// hold them.
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "store/memory/compact.h"
#include "store/memory/intern.h"
#include "store/memory/packed_id.h"
#include "store/memory/tables.h"

namespace spotopt::memory {
namespace {

constexpr std::string_view kUuid = "3f2b8c1e-9d4a-4b7e-8f10-2c6d5e4a9b01";

TEST_CASE("Rows: rows keep their address and value across chunks, and pop back across them") {
  Rows<std::string> rows;
  for (int i = 0; i < 600; ++i) rows.push_back("row " + std::to_string(i));
  const std::string* first = &rows[0];
  const std::string* last_of_chunk = &rows[255];
  // A rollback pops the inserts of its transaction, past a chunk boundary.
  while (rows.size() > 200) rows.pop_back();
  for (int i = 200; i < 700; ++i) rows.push_back("again " + std::to_string(i));
  REQUIRE(rows.size() == 700);
  CHECK(&rows[0] == first);
  CHECK(&rows[255] == last_of_chunk);
  CHECK(rows[0] == "row 0");
  CHECK(rows[199] == "row 199");
  CHECK(rows[200] == "again 200");
  CHECK(rows[256] == "again 256");
  CHECK(rows[699] == "again 699");
}

TEST_CASE("Interner: one symbol per distinct string, the empty string is symbol 0") {
  Interner names;
  CHECK(names.Find("") == Interner::kEmpty);
  CHECK(names.Intern("") == Interner::kEmpty);
  const Symbol a = names.Intern("us-east-1");
  const Symbol b = names.Intern("us-east-1a");
  CHECK(a != b);
  CHECK(names.Intern("us-east-1") == a);
  CHECK(names[a] == "us-east-1");
  CHECK(names[b] == "us-east-1a");
  CHECK(names.Find("us-east-1a") == b);
  CHECK_FALSE(names.Find("US-EAST-1").has_value());
  CHECK_FALSE(names.Find("eu-west-1").has_value());
  CHECK(names.size() == 3);
}

TEST_CASE("Interner: texts stay put while the table grows past a block") {
  Interner names;
  const std::string big(100'000, 'x');  // longer than a block
  const Symbol first = names.Intern("first");
  const std::string_view first_text = names[first];
  for (int i = 0; i < 20'000; ++i) names.Intern("i-" + std::to_string(i));
  const Symbol big_symbol = names.Intern(big);
  names.Intern("after");
  CHECK(names[first].data() == first_text.data());
  CHECK(names[first] == "first");
  CHECK(names[big_symbol] == big);
  CHECK(names[names.Intern("i-12345")] == "i-12345");
  CHECK(names.size() == 20'000 + 4);
}

TEST_CASE("PackedId: a canonical UUID round-trips without entering the intern table") {
  Interner names;
  const PackedId id = PackedId::Intern(kUuid, names);
  CHECK(id.ToString(names) == kUuid);
  CHECK(names.size() == 1);
  CHECK(PackedId::Find(kUuid, names) == id);
  CHECK(PackedId::Intern("3f2b8c1e-9d4a-4b7e-8f10-2c6d5e4a9b02", names) != id);
}

TEST_CASE("PackedId: any other id round-trips as text") {
  Interner names;
  for (std::string_view text :
       {std::string_view("a1"), std::string_view(""), std::string_view("i-0123456789abcdef0"),
        // Not canonical: uppercase, no dashes, braces, the wrong variant.
        std::string_view("3F2B8C1E-9D4A-4B7E-8F10-2C6D5E4A9B01"),
        std::string_view("3f2b8c1e9d4a4b7e8f102c6d5e4a9b01"),
        std::string_view("{3f2b8c1e-9d4a-4b7e-8f10-2c6d5e4a9b0}"),
        std::string_view("3f2b8c1e-9d4a-4b7e-cf10-2c6d5e4a9b01"),
        std::string_view("00000000-0000-0000-0000-000000000000")}) {
    CAPTURE(text);
    const PackedId id = PackedId::Intern(text, names);
    CHECK(id.ToString(names) == text);
    CHECK(PackedId::Find(text, names) == id);
  }
}

TEST_CASE("PackedId: case matters, as it does for the strings") {
  Interner names;
  const PackedId lower = PackedId::Intern(kUuid, names);
  CHECK_FALSE(PackedId::Find("3F2B8C1E-9D4A-4B7E-8F10-2C6D5E4A9B01", names).has_value());
  const PackedId upper = PackedId::Intern("3F2B8C1E-9D4A-4B7E-8F10-2C6D5E4A9B01", names);
  CHECK(upper != lower);
  CHECK(upper.ToString(names) == "3F2B8C1E-9D4A-4B7E-8F10-2C6D5E4A9B01");
  CHECK(lower.ToString(names) == kUuid);
}

TEST_CASE("PackedId: text never interned is found by nobody") {
  Interner names;
  CHECK_FALSE(PackedId::Find("a1", names).has_value());
  CHECK(names.size() == 1);
}

Placement SomePlacement() {
  return {.instance_id = "i-0123456789abcdef0",
          .instance_type = "m5.large",
          .region = "us-east-1",
          .az = "us-east-1b",
          .mode = Mode::kOnDemand};
}

TEST_CASE("Compact agents read back as written") {
  Interner names;
  Agent a;
  a.id = std::string(kUuid);
  a.tenant_id = "tenant-1";
  a.logical_id = "svc-000001";
  a.lifecycle = Lifecycle::kDeleted;
  a.placement = SomePlacement();
  a.placement_since = absl::FromUnixNanos(1'700'000'000'123'456'789);
  a.config.replica_mode = ReplicaMode::kManualStandby;
  a.config.compatible_instance_types = {"m5a.large"};
  a.fallback_identity = true;
  a.created_at = absl::FromUnixSeconds(1'700'000'000);
  a.updated_at = absl::InfiniteFuture();
  const Agent back = Decode(Encode(a, names), names);
  CHECK(back.id == a.id);
  CHECK(back.tenant_id == a.tenant_id);
  CHECK(back.logical_id == a.logical_id);
  CHECK(back.lifecycle == a.lifecycle);
  CHECK(back.placement == a.placement);
  CHECK(back.placement_since == a.placement_since);
  CHECK(back.config == a.config);
  CHECK(back.fallback_identity == a.fallback_identity);
  CHECK(back.created_at == a.created_at);
  CHECK(back.updated_at == a.updated_at);
}

TEST_CASE("Compact registrations read back as written") {
  Interner names;
  Registration r;
  r.id = "R1";
  r.tenant_id = "tenant-1";
  r.agent_id = std::string(kUuid);
  r.instance_id = "i-0123456789abcdef0";
  r.facts = {.hostname = "ip-10-0-0-1",
             .instance_type = "m5.large",
             .az = "us-east-1b",
             .ami_id = "ami-0c55b159cbfafe1f0",
             .private_ip = "10.0.0.1",
             .public_ip = "2001:db8::1",
             .agent_version = "4.0.0",
             .mode = Mode::kSpot};
  r.instance_state = InstanceState::kRetained;
  r.created_at = absl::FromUnixSeconds(1'700'000'000);
  r.last_seen_at = absl::FromUnixNanos(1'700'000'030'000'000'001);
  r.last_status = HeartbeatStatus::kDisabled;
  r.last_cleanup_at = absl::FromUnixSeconds(1'700'000'060);
  Registration back = Decode(Encode(r, names), names);
  CHECK(back.id == r.id);
  CHECK(back.tenant_id == r.tenant_id);
  CHECK(back.agent_id == r.agent_id);
  CHECK(back.instance_id == r.instance_id);
  CHECK(back.facts == r.facts);
  CHECK(back.instance_state == r.instance_state);
  CHECK(back.created_at == r.created_at);
  CHECK(back.last_seen_at == r.last_seen_at);
  CHECK(back.last_status == r.last_status);
  CHECK(back.last_cleanup_at == r.last_cleanup_at);

  r.facts = {};  // all unknown
  r.last_cleanup_at.reset();
  back = Decode(Encode(r, names), names);
  CHECK(back.facts == r.facts);
  CHECK_FALSE(back.last_cleanup_at.has_value());
}

TEST_CASE("Compact run segments read back as written") {
  Interner names;
  RunSegment s;
  s.id = std::string(kUuid);
  s.tenant_id = "tenant-1";
  s.agent_id = "agent-1";
  s.instance_id = "i-0123456789abcdef0";
  s.role = RunRole::kDrain;
  s.placement = SomePlacement();
  s.started_at = absl::FromUnixSeconds(1'700'000'000);
  CHECK(Decode(Encode(s, names), names) == s);
  s.ended_at = absl::FromUnixSeconds(1'700'003'600);
  CHECK(Decode(Encode(s, names), names) == s);
}

}  // namespace
}  // namespace spotopt::memory
