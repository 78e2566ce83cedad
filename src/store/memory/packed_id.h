// A record id as MemoryStore keeps it: 16 bytes instead of a 36-character string on
// the heap. The ids the service issues are random UUIDs in canonical form
// (lowercase, 8-4-4-4-12); those are kept as their 16 bytes. Any other text (an
// uppercase UUID, a test's "a1") is interned and kept as its symbol, so every id
// reads back exactly as written.
//
// The two forms cannot be confused: a packed UUID has the RFC 4122 variant (byte 8 is
// 10xxxxxx); text is tagged with byte 8 = 0. A canonical UUID of another variant is
// kept as text.
#ifndef SPOTOPT_STORE_MEMORY_PACKED_ID_H_
#define SPOTOPT_STORE_MEMORY_PACKED_ID_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "store/memory/intern.h"

namespace spotopt::memory {

class PackedId {
 public:
  // The empty id.
  PackedId() = default;

  // Packs `id`, interning it if it is not a canonical UUID.
  static PackedId Intern(std::string_view id, Interner& names);
  // The packed form of `id` if a record may hold it: nullopt when `id` is text that
  // was never interned, which no record holds.
  static std::optional<PackedId> Find(std::string_view id, const Interner& names);

  std::string ToString(const Interner& names) const;

  friend bool operator==(const PackedId&, const PackedId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const PackedId& id) {
    return H::combine(std::move(h), id.bytes_);
  }

 private:
  static constexpr size_t kTag = 8;

  // `id` as 16 bytes if it is a canonical UUID of the RFC 4122 variant.
  static std::optional<PackedId> Uuid(std::string_view id);
  static PackedId Text(Symbol symbol);
  bool is_uuid() const { return (bytes_[kTag] & 0xc0) == 0x80; }

  std::array<uint8_t, 16> bytes_{};  // all zero: the text form of symbol 0, ""
};

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_PACKED_ID_H_
