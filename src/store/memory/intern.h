// A table of interned strings: each distinct string kept once, in large blocks, and
// named by a 32-bit symbol. MemoryStore's records name their places (region, AZ,
// instance type), tenants, instances and the like by symbol: a few distinct values
// shared by thousands of rows, or one value shared by an agent's rows.
//
// Strings stay when the last row using them goes (a rolled-back insert, a deleted
// price observation): they are few and small.
#ifndef SPOTOPT_STORE_MEMORY_INTERN_H_
#define SPOTOPT_STORE_MEMORY_INTERN_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace spotopt::memory {

using Symbol = uint32_t;

class Interner {
 public:
  // The empty string is always symbol 0, so a default-initialized symbol reads "".
  static constexpr Symbol kEmpty = 0;

  Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  Symbol Intern(std::string_view s);
  // Never adds: a string nobody interned names no row.
  std::optional<Symbol> Find(std::string_view s) const;
  std::string_view operator[](Symbol symbol) const { return texts_[symbol]; }
  size_t size() const { return texts_.size(); }

 private:
  // Copies `s` into the current block; the views of earlier strings stay valid.
  std::string_view Store(std::string_view s);

  struct Hash {
    using is_transparent = void;
    const Interner* self;
    size_t operator()(Symbol symbol) const { return (*this)((*self)[symbol]); }
    size_t operator()(std::string_view s) const;
  };
  struct Eq {
    using is_transparent = void;
    const Interner* self;
    bool operator()(Symbol a, Symbol b) const { return a == b; }
    bool operator()(Symbol a, std::string_view b) const { return (*self)[a] == b; }
    bool operator()(std::string_view a, Symbol b) const { return a == (*self)[b]; }
  };

  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0;
  size_t block_size_ = 0;
  std::deque<std::string_view> texts_;  // by symbol; a deque grows without copying
  absl::flat_hash_set<Symbol, Hash, Eq> symbols_;
};

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_INTERN_H_
