// Controller construction; tenants and their tokens.
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include "absl/cleanup/cleanup.h"

#include "service/tokens.h"
#include "service/use_case.h"

namespace spotopt {
namespace {

absl::Status UpdateTenantState(Store& store, std::string_view tenant_id, TenantEvent event,
                               Time now) {
  return InTransaction(store, TxMode::kWrite, [&](Transaction& tx) -> absl::Status {
    SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
    absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
    if (!t.ok()) return t.status();
    SPOTOPT_ASSIGN_OR_RETURN(t->state, NextState(t->state, event));
    t->updated_at = now;
    return tx.UpdateTenant(*t);
  });
}

// What Authenticate answers for a verified token of `tenant`.
absl::StatusOr<Tenant> Admit(Tenant tenant) {
  if (tenant.state == TenantState::kDeleted) return absl::UnauthenticatedError("invalid token");
  if (tenant.state == TenantState::kSuspended) {
    return absl::PermissionDeniedError("tenant suspended");
  }
  return tenant;
}

}  // namespace

Controller::Controller(std::shared_ptr<Store> store, std::shared_ptr<const Clock> clock,
                       ControllerOptions options)
    : store_(std::move(store)),
      clock_(std::move(clock)),
      options_(options),
      auth_cache_(std::make_unique<AuthCache>(options_.auth_cache_ttl)),
      engines_(std::make_unique<decision::EngineRegistry>()) {}

Controller::~Controller() = default;

// ---- Tenants and tokens ------------------------------------------------------

absl::StatusOr<CreatedTenant> Controller::CreateTenant(std::string_view name) {
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(name, "name"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<CreatedTenant> {
        CreatedTenant out;
        out.tenant = Tenant{NewId(), std::string(name), TenantState::kActive, now, now};
        SPOTOPT_RETURN_IF_ERROR(tx.InsertTenant(out.tenant));
        IssuedToken token = IssueToken(out.tenant.id, now);
        SPOTOPT_RETURN_IF_ERROR(tx.InsertToken(token.record));
        out.token = std::move(token.plaintext);
        return out;
      });
}

absl::StatusOr<Tenant> Controller::GetTenant(std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<Tenant> {
    absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
    if (absl::IsNotFound(t.status())) return NotFound("tenant");
    return t;
  });
}

absl::StatusOr<std::vector<Tenant>> Controller::ListTenants() {
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) { return tx.ListTenants(); });
}

// Every change that can refuse or admit a token invalidates the tenant's cached
// answers after it committed (and before the caller hears of it), so no request
// authenticated afterwards acts on the old state.
absl::Status Controller::SuspendTenant(std::string_view tenant_id) {
  absl::Status s = UpdateTenantState(*store_, tenant_id, TenantEvent::kSuspend, clock_->Now());
  auth_cache_->InvalidateTenant(tenant_id);
  return s;
}

absl::Status Controller::ReactivateTenant(std::string_view tenant_id) {
  absl::Status s = UpdateTenantState(*store_, tenant_id, TenantEvent::kReactivate, clock_->Now());
  auth_cache_->InvalidateTenant(tenant_id);
  return s;
}

absl::Status Controller::DeleteTenant(std::string_view tenant_id) {
  absl::Status s = UpdateTenantState(*store_, tenant_id, TenantEvent::kDelete, clock_->Now());
  auth_cache_->InvalidateTenant(tenant_id);
  return s;
}

absl::StatusOr<std::string> Controller::RotateToken(std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  const Time now = clock_->Now();
  // Cached answers know nothing of the grace period now set on the old tokens.
  absl::Cleanup invalidate = [&] { auth_cache_->InvalidateTenant(tenant_id); };
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<std::string> {
        SPOTOPT_ASSIGN_OR_RETURN(Tenant tenant, tx.GetTenant(tenant_id));
        if (tenant.state == TenantState::kDeleted) return NotFound("tenant");
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<ApiToken> tokens, tx.ListTokens(tenant_id));
        for (ApiToken& t : tokens) {
          if (t.expires_at && *t.expires_at <= now + options_.token_grace) continue;
          t.expires_at = now + options_.token_grace;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateToken(t));
        }
        IssuedToken token = IssueToken(tenant_id, now);
        SPOTOPT_RETURN_IF_ERROR(tx.InsertToken(token.record));
        return std::move(token.plaintext);
      });
}

absl::StatusOr<Tenant> Controller::Authenticate(std::string_view token) {
  SPOTOPT_ASSIGN_OR_RETURN(std::string prefix, TokenPrefix(token));
  const Time now = clock_->Now();
  const AuthCache::Key key = auth_cache_->KeyOf(token);
  if (std::optional<AuthCache::Entry> hit = auth_cache_->Find(key, now)) {
    return Admit(std::move(hit->tenant));
  }
  // Read before the lookup: a change committed meanwhile makes Insert drop the answer.
  const uint64_t generation = auth_cache_->Generation();
  std::optional<Time> token_expires_at;
  SPOTOPT_ASSIGN_OR_RETURN(
      Tenant tenant,
      InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<Tenant> {
        absl::StatusOr<ApiToken> stored = tx.GetToken(prefix);
        if (absl::IsNotFound(stored.status())) return absl::UnauthenticatedError("invalid token");
        if (!stored.ok()) return stored.status();
        if (!VerifyToken(*stored, token) || (stored->expires_at && *stored->expires_at <= now)) {
          return absl::UnauthenticatedError("invalid token");
        }
        token_expires_at = stored->expires_at;
        return tx.GetTenant(stored->tenant_id);
      }));
  auth_cache_->Insert(key, tenant, token_expires_at, now, generation);
  return Admit(std::move(tenant));
}

}  // namespace spotopt
