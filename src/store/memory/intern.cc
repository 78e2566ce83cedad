#include "store/memory/intern.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace spotopt::memory {

namespace {

// Big enough that a block holds thousands of ids, small enough for a store of a few.
constexpr size_t kBlockSize = 64 << 10;

}  // namespace

Interner::Interner() : symbols_(0, Hash{this}, Eq{this}) {
  texts_.emplace_back();
  symbols_.insert(kEmpty);
}

size_t Interner::Hash::operator()(std::string_view s) const {
  return absl::Hash<absl::string_view>()(absl::string_view(s.data(), s.size()));
}

std::string_view Interner::Store(std::string_view s) {
  if (block_size_ - block_used_ < s.size()) {
    // A string longer than a block gets a block of its own.
    block_size_ = std::max(kBlockSize, s.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    block_used_ = 0;
  }
  char* at = blocks_.back().get() + block_used_;
  std::memcpy(at, s.data(), s.size());
  block_used_ += s.size();
  return {at, s.size()};
}

Symbol Interner::Intern(std::string_view s) {
  if (auto it = symbols_.find(s); it != symbols_.end()) return *it;
  const auto symbol = static_cast<Symbol>(texts_.size());
  texts_.push_back(Store(s));
  symbols_.insert(symbol);
  return symbol;
}

std::optional<Symbol> Interner::Find(std::string_view s) const {
  auto it = symbols_.find(s);
  if (it == symbols_.end()) return std::nullopt;
  return *it;
}

}  // namespace spotopt::memory
