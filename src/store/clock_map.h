// A string-keyed map of at most `capacity` entries that makes room by CLOCK with a
// use count. Internal to the store layer; not synchronized.
//
// A hit sets an entry's count to kUses. Once the map is full, each miss moves a hand
// one slot round the entries: it evicts the entry there, in favour of the missed one,
// if its count is 0, and otherwise takes one off the count and keeps it (the missed
// one is not admitted). Agents' requests come round periodically, so the keys of a
// fleet larger than the map arrive in a cycle; plain LRU or CLOCK would evict each
// key just before its next use and never hit. Here a key used once per cycle
// survives as long as fewer than kUses laps of the hand pass per cycle (a fleet up to
// about kUses times the capacity), while keys no longer used (a replaced instance's
// registration) still make way within kUses + 1 laps. O(1) per operation.
#ifndef SPOTOPT_STORE_CLOCK_MAP_H_
#define SPOTOPT_STORE_CLOCK_MAP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace spotopt {

template <class T>
class ClockMap {
 public:
  static constexpr uint8_t kUses = 15;

  explicit ClockMap(size_t capacity) : capacity_(capacity) {}

  size_t size() const { return entries_.size(); }

  // The entry for `key`, counted as a use, or null.
  T* Find(std::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    it->second.uses = kUses;
    return &it->second.value;
  }

  // The entry for `key`, not counted as a use, or null.
  T* Peek(std::string_view key) {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.value;
  }

  // Sets `key`'s entry, unless the map is full and the hand's entry is still in use.
  void Put(std::string_view key, const T& value) {
    if (auto it = entries_.find(key); it != entries_.end()) {
      it->second = Entry{value, it->second.slot, kUses};
      return;
    }
    const std::optional<uint32_t> slot = FreeSlot();
    if (!slot) return;
    keys_[*slot] = std::string(key);
    entries_.emplace(keys_[*slot], Entry{value, *slot, kUses});
  }

  void Erase(std::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    free_.push_back(it->second.slot);
    entries_.erase(it);
  }

  void Clear() {
    entries_.clear();
    keys_.clear();
    free_.clear();
    hand_ = 0;
  }

 private:
  struct Entry {
    T value;
    uint32_t slot;  // in keys_
    uint8_t uses;
  };
  // Transparent, so lookups by string_view allocate nothing.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return absl::Hash<std::string_view>()(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  std::optional<uint32_t> FreeSlot() {
    if (!free_.empty()) {
      const uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    if (keys_.size() < capacity_) {
      keys_.emplace_back();
      return static_cast<uint32_t>(keys_.size() - 1);
    }
    if (keys_.empty()) return std::nullopt;  // a capacity of zero
    // Every slot holds an entry here: none is free and all are taken.
    const uint32_t slot = hand_;
    hand_ = (hand_ + 1) % static_cast<uint32_t>(keys_.size());
    auto it = entries_.find(keys_[slot]);
    if (it->second.uses > 0) {
      --it->second.uses;
      return std::nullopt;
    }
    entries_.erase(it);
    return slot;
  }

  const size_t capacity_;
  absl::flat_hash_map<std::string, Entry, Hash, Eq> entries_;
  std::vector<std::string> keys_;  // each slot's key; a free slot's is stale
  std::vector<uint32_t> free_;     // slots whose entry was erased
  uint32_t hand_ = 0;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_CLOCK_MAP_H_
