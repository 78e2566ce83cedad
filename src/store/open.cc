// OpenStore: the store URI schemes, and Retryable, the mark of a unit of work that
// may run again.
#include "spotopt/store/open.h"

#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "absl/strings/cord.h"
#include "spotopt/store/memory_store.h"
#include "spotopt/store/postgres_store.h"
#include "spotopt/store/sqlite_store.h"

namespace spotopt {
namespace {

constexpr std::string_view kMemory = "memory:";
constexpr std::string_view kSqlite = "sqlite:";
// libpq reads both URI prefixes itself; the keyword form is what follows "postgresql:".
constexpr std::array<std::string_view, 2> kPostgresUris = {"postgresql://", "postgres://"};
constexpr std::string_view kPostgresKeywords = "postgresql:";

constexpr char kRetryPayload[] = "spotopt.store/retryable";

template <class S>
absl::StatusOr<std::unique_ptr<Store>> Opened(absl::StatusOr<std::unique_ptr<S>> store) {
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(*std::move(store));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view uri) {
  if (uri == kMemory) return std::make_unique<MemoryStore>();
  if (uri.starts_with(kSqlite) && uri.size() > kSqlite.size()) {
    return Opened(SqliteStore::Open(std::string(uri.substr(kSqlite.size()))));
  }
  for (std::string_view prefix : kPostgresUris) {
    if (uri.starts_with(prefix) && uri.size() > prefix.size()) {
      return Opened(PostgresStore::Open(std::string(uri)));
    }
  }
  if (uri.starts_with(kPostgresKeywords) && !uri.starts_with(kPostgresUris[0]) &&
      uri.find_first_not_of(' ', kPostgresKeywords.size()) != std::string_view::npos) {
    return Opened(PostgresStore::Open(std::string(uri.substr(kPostgresKeywords.size()))));
  }
  return absl::InvalidArgumentError(
      fmt::format("unsupported store URI \"{}\": expected \"memory:\", \"sqlite:PATH\", "
                  "\"postgresql://...\" or \"postgresql:KEYWORDS\"",
                  uri));
}

bool IsStoreUri(std::string_view text) {
  return text.starts_with(kMemory) || text.starts_with(kSqlite) ||
         text.starts_with(kPostgresKeywords) || text.starts_with(kPostgresUris[1]);
}

absl::Status Retryable(absl::Status status) {
  if (!status.ok()) status.SetPayload(kRetryPayload, absl::Cord());
  return status;
}

bool IsRetryable(const absl::Status& status) {
  return status.GetPayload(kRetryPayload).has_value();
}

}  // namespace spotopt
