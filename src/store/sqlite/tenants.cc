// SqliteTransaction: tenants and their API tokens.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

absl::StatusOr<Tenant> SqliteTransaction::GetTenant(std::string_view id) {
  return Get<Tenant>(kGetTenant, "tenant", id);
}
absl::Status SqliteTransaction::InsertTenant(const Tenant& t) {
  return Insert(kInsertTenant, "insert tenant", t, kGetTenant, t.id);
}
absl::Status SqliteTransaction::UpdateTenant(const Tenant& t) {
  return Write(kUpdateTenant, "update tenant", t);
}
absl::StatusOr<std::vector<Tenant>> SqliteTransaction::ListTenants() {
  return List<Tenant>(kListTenants, "list tenants");
}

absl::StatusOr<ApiToken> SqliteTransaction::GetToken(std::string_view prefix) {
  return Get<ApiToken>(kGetToken, "token", prefix);
}
absl::Status SqliteTransaction::InsertToken(const ApiToken& t) {
  return Insert(kInsertToken, "insert token", t, kGetToken, t.prefix);
}
absl::Status SqliteTransaction::UpdateToken(const ApiToken& t) {
  return Write(kUpdateToken, "update token", t);
}
absl::StatusOr<std::vector<ApiToken>> SqliteTransaction::ListTokens(std::string_view tenant_id) {
  return List<ApiToken>(kListTokens, "list tokens", tenant_id);
}

void SqliteTransaction::BindRow(Query& q, const Tenant& t, const std::string& doc) {
  q.Bind(1, t.id);
  q.Bind(2, t.name);
  q.Bind(3, ToString(t.state));
  q.Bind(4, t.created_at);
  q.Bind(5, doc);
}
void SqliteTransaction::BindRow(Query& q, const ApiToken& t, const std::string& doc) {
  q.Bind(1, t.prefix);
  q.Bind(2, t.tenant_id);
  q.Bind(3, t.created_at);
  q.Bind(4, t.expires_at);
  q.Bind(5, doc);
}

}  // namespace spotopt::sqlite
