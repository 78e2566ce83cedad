// API tokens: issued from OpenSSL's CSPRNG, stored as salted SHA-256 hashes,
// verified in constant time. Internal to the service layer.
#ifndef SPOTOPT_SERVICE_TOKENS_H_
#define SPOTOPT_SERVICE_TOKENS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "absl/container/flat_hash_map.h"
#include "spotopt/domain/tenant.h"

namespace spotopt {

struct IssuedToken {
  std::string plaintext;  // shown once
  ApiToken record;        // what is stored
};

IssuedToken IssueToken(std::string_view tenant_id, Time now);
// The lookup prefix of a well-formed token; Unauthenticated for anything else.
absl::StatusOr<std::string> TokenPrefix(std::string_view plaintext);
// Constant-time comparison of the token's salted hash with the stored one.
bool VerifyToken(const ApiToken& stored, std::string_view plaintext);

// Authenticate's answers for verified tokens, so that an agent request does not pay
// a store transaction (and a salted hash) to learn its tenant again. Entries live
// for a TTL: the bound on how late a change made through another Controller or
// process sharing the store (suspend, delete, rotation) is seen here. Changes made
// through the owning Controller invalidate at once.
//
// Keys are SHA-256 digests of a random per-cache secret followed by the token, so
// no plaintext token is kept in memory beyond the request. The digests never leave
// the process, so the secret prefix keys them as well as HMAC would, at a seventh
// of its cost (HMAC's one-shot call fetches its algorithms on every use).
//
// Thread-safe. Lookups take a shared lock; a fill that raced with an invalidation
// is dropped (generation check), so a state read before a change can never be
// cached after it.
class AuthCache {
 public:
  using Key = std::array<unsigned char, 32>;
  struct Entry {
    Tenant tenant;
    std::optional<Time> token_expires_at;  // a rotated-out token's end of grace
    Time fresh_until;
  };

  explicit AuthCache(Duration ttl);
  ~AuthCache();
  AuthCache(const AuthCache&) = delete;
  AuthCache& operator=(const AuthCache&) = delete;

  Key KeyOf(std::string_view token) const;
  // The entry for `key` if it is fresh and its token has not expired at `now`.
  std::optional<Entry> Find(const Key& key, Time now) const;
  // Read before the store lookup whose result is then passed to Insert.
  uint64_t Generation() const;
  // Keeps the answer unless an invalidation happened since `generation`.
  void Insert(const Key& key, const Tenant& tenant, std::optional<Time> token_expires_at, Time now,
              uint64_t generation);
  // Drops every entry of the tenant. Call after the change has committed.
  void InvalidateTenant(std::string_view tenant_id);

 private:
  // A cap, not an eviction policy: only verified tokens get in, so only many
  // rotations within a TTL can reach it; then the map starts over.
  static constexpr size_t kMaxEntries = 4096;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };

  const Duration ttl_;
  EVP_MD* const sha256_;  // fetched once: an implicit fetch per digest costs more
  std::array<unsigned char, 32> secret_;
  mutable std::shared_mutex mu_;
  absl::flat_hash_map<Key, Entry, KeyHash> entries_;  // guarded by mu_
  uint64_t generation_ = 0;                           // guarded by mu_
};

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_TOKENS_H_
