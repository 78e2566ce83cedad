#include "store/memory/packed_id.h"

#include <cstring>

namespace spotopt::memory {

namespace {

constexpr std::string_view kHex = "0123456789abcdef";

bool IsDash(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

// Lowercase only: an uppercase id must read back uppercase.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::optional<PackedId> PackedId::Uuid(std::string_view id) {
  if (id.size() != 36) return std::nullopt;
  PackedId packed;
  std::array<uint8_t, 16>& bytes = packed.bytes_;
  size_t nibble = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    if (IsDash(i)) {
      if (id[i] != '-') return std::nullopt;
      continue;
    }
    const int value = HexValue(id[i]);
    if (value < 0) return std::nullopt;
    bytes[nibble / 2] |= static_cast<uint8_t>(nibble % 2 == 0 ? value << 4 : value);
    ++nibble;
  }
  if (!packed.is_uuid()) return std::nullopt;
  return packed;
}

PackedId PackedId::Text(Symbol symbol) {
  PackedId id;
  std::memcpy(id.bytes_.data(), &symbol, sizeof(symbol));
  return id;
}

PackedId PackedId::Intern(std::string_view id, Interner& names) {
  if (std::optional<PackedId> uuid = Uuid(id)) return *uuid;
  return Text(names.Intern(id));
}

std::optional<PackedId> PackedId::Find(std::string_view id, const Interner& names) {
  if (std::optional<PackedId> uuid = Uuid(id)) return uuid;
  std::optional<Symbol> symbol = names.Find(id);
  if (!symbol) return std::nullopt;
  return Text(*symbol);
}

std::string PackedId::ToString(const Interner& names) const {
  if (!is_uuid()) {
    Symbol symbol;
    std::memcpy(&symbol, bytes_.data(), sizeof(symbol));
    return std::string(names[symbol]);
  }
  std::string out(36, '-');
  size_t nibble = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (IsDash(i)) continue;
    const uint8_t byte = bytes_[nibble / 2];
    out[i] = kHex[nibble % 2 == 0 ? byte >> 4 : byte & 0xf];
    ++nibble;
  }
  return out;
}

}  // namespace spotopt::memory
