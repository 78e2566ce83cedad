#include "operator_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "service/tokens.h"

namespace spotopt::server {

absl::StatusOr<std::string> OperatorTokens::Issue(Time now) {
  IssuedToken issued = IssueToken("operator", now);
  const std::string line = fmt::format("{} {} {} {}\n", issued.record.prefix, issued.record.salt,
                                       issued.record.hash, FormatTimestamp(now));
  // O_APPEND keeps concurrent writers' lines whole; 0600 because the hashes are
  // still worth hiding from other local users.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(fmt::format("cannot open {}", path_));
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return absl::UnavailableError(fmt::format("cannot write {}", path_));
  return std::move(issued.plaintext);
}

absl::Status OperatorTokens::ReloadIfChanged() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    tokens_.clear();
    loaded_ = false;
    return absl::OkStatus();
  }
  if (loaded_ && st.st_mtim.tv_sec == loaded_mtime_.tv_sec &&
      st.st_mtim.tv_nsec == loaded_mtime_.tv_nsec) {
    return absl::OkStatus();
  }
  std::ifstream in(path_);
  if (!in) return absl::UnavailableError(fmt::format("cannot read {}", path_));
  std::vector<ApiToken> tokens;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    ApiToken t;
    if (fields >> t.prefix >> t.salt >> t.hash) tokens.push_back(std::move(t));
  }
  tokens_ = std::move(tokens);
  loaded_mtime_ = st.st_mtim;
  loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> OperatorTokens::Authenticate(std::string_view token) {
  absl::StatusOr<std::string> prefix = TokenPrefix(token);
  if (!prefix.ok()) return prefix.status();
  std::lock_guard lock(mu_);
  if (absl::Status s = ReloadIfChanged(); !s.ok()) return s;
  for (const ApiToken& t : tokens_) {
    if (t.prefix == *prefix && VerifyToken(t, token)) return *prefix;
  }
  return absl::UnauthenticatedError("unknown operator token");
}

}  // namespace spotopt::server
