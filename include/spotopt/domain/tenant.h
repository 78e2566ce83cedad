// Tenants (client accounts) and their API tokens.
#ifndef SPOTOPT_DOMAIN_TENANT_H_
#define SPOTOPT_DOMAIN_TENANT_H_

#include <optional>
#include <string>

#include "spotopt/types.h"

namespace spotopt {

enum class TenantState { kActive, kSuspended, kDeleted };
SPOTOPT_EXPORT std::string_view ToString(TenantState s);

// A decision engine by identity (spotopt/decision/registry.h): the sha256 pins the
// exact code or model file behind a name and version.
struct EngineRef {
  std::string name;
  std::string version;
  std::string sha256;
  friend bool operator==(const EngineRef&, const EngineRef&) = default;
};

struct Tenant {
  std::string id;
  std::string name;
  TenantState state = TenantState::kActive;
  Time created_at;
  Time updated_at;
  // The decision engine its agents are decided by (none: the built-in rules), and the
  // one before it, which a rollback restores and decisions fall back to.
  std::optional<EngineRef> engine;
  std::optional<EngineRef> previous_engine;
};

// Tenant state machine. kDeleted is final; suspend/reactivate move between the others.
enum class TenantEvent { kSuspend, kReactivate, kDelete };
SPOTOPT_EXPORT std::string_view ToString(TenantEvent e);
SPOTOPT_EXPORT absl::StatusOr<TenantState> NextState(TenantState from, TenantEvent event);

// An API token as stored: never the plaintext. The plaintext is
// "sot_" + prefix (8 chars, the lookup key and display prefix) + secret (24 chars);
// hash = SHA-256(salt || plaintext).
struct ApiToken {
  std::string prefix;
  std::string tenant_id;
  std::string salt;  // 16 random bytes, hex
  std::string hash;  // hex
  Time created_at;
  // Set when the token is rotated out: it keeps working until then (the grace period).
  std::optional<Time> expires_at;
};

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_TENANT_H_
