#include "service/tokens.h"

#include "common/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace spotopt {
namespace {

constexpr std::string_view kScheme = "sot_";
constexpr size_t kPrefixLength = 8;
constexpr size_t kSecretLength = 24;
constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void RandomBytes(unsigned char* out, size_t n) {
  // Without entropy no token can be safe; there is nothing sensible to fall back to.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

// Uniform base62 text: bytes >= 248 are rejected so each of the 62 letters is equally
// likely (248 = 4 * 62).
std::string RandomBase62(size_t length) {
  std::string out;
  while (out.size() < length) {
    std::array<unsigned char, 64> buf;
    RandomBytes(buf.data(), buf.size());
    for (unsigned char b : buf) {
      if (b < 248 && out.size() < length) out.push_back(kAlphabet[b % 62]);
    }
  }
  return out;
}

std::string SaltedHash(std::string_view salt, std::string_view plaintext) {
  std::string input;
  input.reserve(salt.size() + plaintext.size());
  input.append(salt).append(plaintext);
  return Sha256Hex(input);
}

}  // namespace

IssuedToken IssueToken(std::string_view tenant_id, Time now) {
  IssuedToken t;
  const std::string prefix = RandomBase62(kPrefixLength);
  t.plaintext = std::string(kScheme) + prefix + RandomBase62(kSecretLength);
  std::array<unsigned char, 16> salt;
  RandomBytes(salt.data(), salt.size());
  t.record.prefix = prefix;
  t.record.tenant_id = std::string(tenant_id);
  t.record.salt = Hex(salt.data(), salt.size());
  t.record.hash = SaltedHash(t.record.salt, t.plaintext);
  t.record.created_at = now;
  return t;
}

absl::StatusOr<std::string> TokenPrefix(std::string_view plaintext) {
  const bool well_formed =
      plaintext.size() == kScheme.size() + kPrefixLength + kSecretLength &&
      plaintext.substr(0, kScheme.size()) == kScheme &&
      plaintext.find_first_not_of(kAlphabet, kScheme.size()) == std::string_view::npos;
  if (!well_formed) return absl::UnauthenticatedError("invalid token");
  return std::string(plaintext.substr(kScheme.size(), kPrefixLength));
}

bool VerifyToken(const ApiToken& stored, std::string_view plaintext) {
  const std::string hash = SaltedHash(stored.salt, plaintext);
  return hash.size() == stored.hash.size() &&
         CRYPTO_memcmp(hash.data(), stored.hash.data(), hash.size()) == 0;
}

AuthCache::AuthCache(Duration ttl) : ttl_(ttl), sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
  if (sha256_ == nullptr) std::abort();  // as in SaltedHash: no digest, no tokens
  RandomBytes(secret_.data(), secret_.size());
}

AuthCache::~AuthCache() { EVP_MD_free(sha256_); }

AuthCache::Key AuthCache::KeyOf(std::string_view token) const {
  Key key;
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, sha256_, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, secret_.data(), secret_.size()) == 1 &&
                  EVP_DigestUpdate(ctx, token.data(), token.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, key.data(), &length) == 1 && length == key.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();
  return key;
}

size_t AuthCache::KeyHash::operator()(const Key& k) const {
  // The key is already a uniform digest.
  size_t h;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

std::optional<AuthCache::Entry> AuthCache::Find(const Key& key, Time now) const {
  std::shared_lock lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.fresh_until) return std::nullopt;
  if (it->second.token_expires_at && *it->second.token_expires_at <= now) return std::nullopt;
  return it->second;
}

uint64_t AuthCache::Generation() const {
  std::shared_lock lock(mu_);
  return generation_;
}

void AuthCache::Insert(const Key& key, const Tenant& tenant, std::optional<Time> token_expires_at,
                       Time now, uint64_t generation) {
  if (ttl_ <= absl::ZeroDuration()) return;
  std::unique_lock lock(mu_);
  if (generation != generation_) return;
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_.insert_or_assign(key, Entry{tenant, token_expires_at, now + ttl_});
}

void AuthCache::InvalidateTenant(std::string_view tenant_id) {
  std::unique_lock lock(mu_);
  ++generation_;
  absl::erase_if(entries_, [&](const auto& e) { return e.second.tenant.id == tenant_id; });
}

}  // namespace spotopt
