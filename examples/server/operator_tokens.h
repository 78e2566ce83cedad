// Operator tokens for the management API. They live outside the tenant tables on
// purpose: an operator is not a tenant, and a tenant token must never open
// /api/admin/. Each token is one line of `<db>.operators` (mode 0600):
// `<prefix> <salt> <sha256(salt || token)> <created_at>`; the plaintext is printed
// once and never stored.
#ifndef SPOTOPT_EXAMPLES_SERVER_OPERATOR_TOKENS_H_
#define SPOTOPT_EXAMPLES_SERVER_OPERATOR_TOKENS_H_

#include <ctime>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "spotopt/domain/tenant.h"

namespace spotopt::server {

class OperatorTokens {
 public:
  explicit OperatorTokens(std::string path) : path_(std::move(path)) {}

  static std::string PathForDb(std::string_view db_path) {
    return std::string(db_path) + ".operators";
  }

  // Appends a new token's hash to the file; returns the plaintext.
  absl::StatusOr<std::string> Issue(Time now);
  // The token's prefix (who acted, for the audit trail) when the token is an
  // operator's. The file is re-read when it changed, so `operator-token` takes
  // effect on a running server.
  absl::StatusOr<std::string> Authenticate(std::string_view token);

 private:
  absl::Status ReloadIfChanged();  // requires mu_

  const std::string path_;
  std::mutex mu_;
  std::vector<ApiToken> tokens_;  // guarded by mu_
  timespec loaded_mtime_{};       // guarded by mu_
  bool loaded_ = false;           // guarded by mu_
};

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_OPERATOR_TOKENS_H_
