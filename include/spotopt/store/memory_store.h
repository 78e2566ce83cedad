// MemoryStore: everything in process memory. For tests, backtests and hosts that do
// not need durability. One writer at a time; readers share.
#ifndef SPOTOPT_STORE_MEMORY_STORE_H_
#define SPOTOPT_STORE_MEMORY_STORE_H_

#include <memory>

#include "spotopt/store/store.h"

namespace spotopt {

class SPOTOPT_EXPORT MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override;
  // Writes the beat at once: in memory that is as cheap as holding it.
  absl::Status TouchRegistration(std::string_view id, Time at) override;
  absl::Status FlushHeld() override { return absl::OkStatus(); }

  struct State;  // defined in memory_store.cc

 private:
  std::unique_ptr<State> state_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_MEMORY_STORE_H_
