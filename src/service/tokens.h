// API tokens: issued from OpenSSL's CSPRNG, stored as salted SHA-256 hashes,
// verified in constant time. Internal to the service layer.
#ifndef SPOTOPT_SERVICE_TOKENS_H_
#define SPOTOPT_SERVICE_TOKENS_H_

#include <string>
#include <string_view>

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

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_TOKENS_H_
