// MemoryTransaction: tenants and their API tokens.
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "fmt/format.h"
#include "store/memory/transaction.h"

namespace spotopt::memory {

namespace {

bool TenantLess(const Tenant& a, const Tenant& b) { return a.id < b.id; }
bool TokenLess(const ApiToken& a, const ApiToken& b) {
  return std::tie(a.created_at, a.prefix) < std::tie(b.created_at, b.prefix);
}

}  // namespace

absl::StatusOr<Tenant> MemoryTransaction::GetTenant(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<Tenant>(id);
}
absl::Status MemoryTransaction::InsertTenant(const Tenant& t) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(t, undo_);
}
absl::Status MemoryTransaction::UpdateTenant(const Tenant& t) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(t, undo_);
}
absl::StatusOr<std::vector<Tenant>> MemoryTransaction::ListTenants() {
  if (absl::Status s = Usable(); !s.ok()) return s;
  std::vector<Row> all(state_->rows<Tenant>().size());
  for (Row i = 0; i < all.size(); ++i) all[i] = i;
  return state_->Collect<Tenant>(all, TenantLess);
}

absl::StatusOr<ApiToken> MemoryTransaction::GetToken(std::string_view prefix) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<ApiToken>(prefix);
}
absl::Status MemoryTransaction::InsertToken(const ApiToken& t) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(t, undo_);
}
absl::Status MemoryTransaction::UpdateToken(const ApiToken& t) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(t, undo_);
}
absl::StatusOr<std::vector<ApiToken>> MemoryTransaction::ListTokens(std::string_view tenant_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<ApiToken>(state_->tokens_by_tenant, tenant_id, TokenLess);
}

}  // namespace spotopt::memory
