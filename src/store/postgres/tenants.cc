// PgTransaction: tenants and their API tokens.
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

absl::StatusOr<Tenant> PgTransaction::GetTenant(std::string_view id) {
  return Get<Tenant>(kGetTenant, "tenant", id);
}
absl::Status PgTransaction::InsertTenant(const Tenant& t) {
  return InsertKeyed(kInsertTenant, "insert tenant", t, t.id);
}
absl::Status PgTransaction::UpdateTenant(const Tenant& t) {
  return Update(kUpdateTenant, "update tenant", t, /*guarded=*/false);
}
absl::StatusOr<std::vector<Tenant>> PgTransaction::ListTenants() {
  return List<Tenant>(kListTenants, "list tenants");
}

absl::StatusOr<ApiToken> PgTransaction::GetToken(std::string_view prefix) {
  return Get<ApiToken>(kGetToken, "token", prefix);
}
absl::Status PgTransaction::InsertToken(const ApiToken& t) {
  return InsertKeyed(kInsertToken, "insert token", t, t.prefix);
}
absl::Status PgTransaction::UpdateToken(const ApiToken& t) {
  return Update(kUpdateToken, "update token", t, /*guarded=*/false);
}
absl::StatusOr<std::vector<ApiToken>> PgTransaction::ListTokens(std::string_view tenant_id) {
  return List<ApiToken>(kListTokens, "list tokens", tenant_id);
}

void PgTransaction::BindRow(Params& p, const Tenant& t, const std::string& doc) {
  p.Add(t.id);
  p.Add(t.name);
  p.Add(ToString(t.state));
  p.Add(t.created_at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const ApiToken& t, const std::string& doc) {
  p.Add(t.prefix);
  p.Add(t.tenant_id);
  p.Add(t.created_at);
  p.Add(t.expires_at);
  p.Add(doc);
}

}  // namespace spotopt::pg
