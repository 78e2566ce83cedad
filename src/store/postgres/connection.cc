#include "store/postgres/connection.h"

#include <poll.h>

#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "spotopt/store/store.h"
#include "store/sql.h"

namespace spotopt::pg {
namespace {

// Result columns come back in binary form: no number parsing, no escaping.
constexpr int kBinary = 1;
constexpr int kText = 0;

std::string Trimmed(const char* message) {
  return std::string(absl::StripTrailingAsciiWhitespace(message == nullptr ? "" : message));
}

// An array element in double quotes, so no text can end it early.
void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

absl::Status Lost(PGconn* conn, std::string_view what) {
  return Retryable(absl::UnavailableError(
      fmt::format("{}: lost the connection to PostgreSQL: {}", what,
                  Trimmed(conn == nullptr ? nullptr : PQerrorMessage(conn)))));
}

std::string StatementName(int i) { return fmt::format("s{}", i); }

}  // namespace

void Params::Add(std::string_view s) {
  // A null pointer would send SQL NULL; an empty view must stay an empty text.
  values_.push_back(s.empty() ? "" : s.data());
  lengths_.push_back(static_cast<int>(s.size()));
  formats_.push_back(kBinary);
}

void Params::Add(int64_t v) {
  std::string& bytes = owned_.emplace_back(8, '\0');
  const auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(u >> (56 - 8 * i));
  values_.push_back(bytes.data());
  lengths_.push_back(8);
  formats_.push_back(kBinary);
}

void Params::Add(const std::optional<Time>& t) {
  if (t.has_value()) return Add(*t);
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(kBinary);
}

void Params::AddArray(const std::vector<std::string_view>& items) {
  std::string& text = owned_.emplace_back("{");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ',';
    AppendQuoted(text, items[i]);
  }
  text += '}';
  values_.push_back(text.c_str());
  lengths_.push_back(0);
  formats_.push_back(kText);
}

void Params::AddArray(const std::vector<int64_t>& items) {
  std::string& text = owned_.emplace_back("{");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(items[i]);
  }
  text += '}';
  values_.push_back(text.c_str());
  lengths_.push_back(0);
  formats_.push_back(kText);
}

int64_t Result::Int(int row, int col) const {
  // int8 (8 bytes), or a boolean (1 byte), big-endian.
  const std::string_view bytes = Text(row, col);
  uint64_t u = 0;
  for (char c : bytes) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<int64_t>(u);
}

int64_t Result::Changed() const {
  return r_ == nullptr ? 0 : std::strtoll(PQcmdTuples(r_.get()), nullptr, 10);
}

absl::Status ErrorOf(const PGresult* r, std::string_view what) {
  const char* field = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const std::string_view state = field == nullptr ? "" : field;
  const std::string detail = Trimmed(r == nullptr ? nullptr : PQresultErrorMessage(r));
  // Serialization failures and deadlocks: the transaction lost to a concurrent one
  // and may simply run again.
  if (state == "40001" || state == "40P01") {
    return Retryable(absl::UnavailableError(
        fmt::format("{}: conflict with a concurrent transaction ({})", what, detail)));
  }
  // The server is going away, restarting or full: nothing of this transaction stays.
  if (state.starts_with("08") || state.starts_with("53") || state == "57P01" || state == "57P02" ||
      state == "57P03") {
    return Retryable(absl::UnavailableError(fmt::format("{}: {}", what, detail)));
  }
  if (state == "57014") return absl::UnavailableError(fmt::format("{}: {}", what, detail));
  if (state == "23505") {
    const char* index = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    if (const sql::UniqueRule* rule = sql::FindUniqueRule(index == nullptr ? "" : index, "")) {
      return absl::Status(rule->code, fmt::format("{}: {}", what, rule->message));
    }
    return absl::AlreadyExistsError(fmt::format("{}: the record already exists", what));
  }
  if (state == "23503") {
    return absl::FailedPreconditionError(
        fmt::format("{}: refers to a tenant or agent that does not exist", what));
  }
  if (state.starts_with("23")) {
    return absl::FailedPreconditionError(fmt::format("{}: {}", what, detail));
  }
  if (state == "25P02") {
    return absl::AbortedError(
        fmt::format("{}: the transaction was rolled back by an earlier error", what));
  }
  return absl::InternalError(fmt::format("{}: {}", what, detail));
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  // The caller's string is expanded in place of dbname; what it sets wins over the
  // defaults before it.
  const char* keywords[] = {"fallback_application_name", "connect_timeout", "dbname", nullptr};
  const char* values[] = {"spotopt", "5", conninfo.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  std::unique_ptr<Connection> conn(new Connection(raw));
  if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
    return Retryable(absl::UnavailableError(
        fmt::format("postgres store: cannot connect: {}",
                    Trimmed(raw == nullptr ? nullptr : PQerrorMessage(raw)))));
  }
  // The server's notices (a migration's "already exists, skipping") are no business
  // of the host's stderr, where libpq would print them.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return conn;
}

absl::Status Connection::Prepare(const std::array<std::string, kStmtCount>& sql) {
  if (PQenterPipelineMode(conn_) != 1) return Lost(conn_, "enter pipeline mode");
  for (int i = 0; i < kStmtCount; ++i) {
    if (PQsendPrepare(conn_, StatementName(i).c_str(), sql[i].c_str(), 0, nullptr) != 1) {
      return Lost(conn_, "prepare statements");
    }
  }
  if (PQpipelineSync(conn_) != 1) return Lost(conn_, "prepare statements");
  size_t failed = 0;
  std::vector<Result> results;
  absl::Status s = ReadPipeline(kStmtCount, "prepare statements", &results, &failed);
  if (!s.ok())
    return absl::Status(s.code(),
                        fmt::format("{} (statement {})", std::string(s.message()), failed));
  return s;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return failed_ || PQstatus(conn_) != CONNECTION_OK; }

bool Connection::StillUp() {
  if (broken()) return false;
  if (unread_ > 0) return true;  // what is waiting is ours
  pollfd p{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
  if (poll(&p, 1, 0) > 0 && (PQconsumeInput(conn_) != 1 || PQstatus(conn_) != CONNECTION_OK)) {
    failed_ = true;
  }
  return !broken();
}

absl::Status Connection::SendCalls(const std::vector<Call>& calls, std::string_view what) {
  if (broken()) return Lost(conn_, what);
  const Params none;
  for (const Call& call : calls) {
    const Params& p = call.params == nullptr ? none : *call.params;
    if (PQsendQueryPrepared(conn_, StatementName(call.stmt).c_str(), p.size(), p.values(),
                            p.lengths(), p.formats(), kBinary) != 1) {
      failed_ = true;
      return Lost(conn_, what);
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    failed_ = true;
    return Lost(conn_, what);
  }
  return absl::OkStatus();
}

absl::Status Connection::ReadPipeline(size_t calls, std::string_view what,
                                      std::vector<Result>* results, size_t* failed) {
  absl::Status first;
  for (size_t i = 0; i < calls; ++i) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      failed_ = true;
      return Lost(conn_, what);
    }
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      Result owned(r);  // freed here unless the caller keeps it
      if (results != nullptr) results->push_back(std::move(owned));
    } else {
      if (status != PGRES_PIPELINE_ABORTED && first.ok()) {
        first = broken() ? Lost(conn_, what) : ErrorOf(r, what);
        if (failed != nullptr) *failed = i;
      }
      PQclear(r);
      if (broken()) {
        failed_ = true;
        return first;
      }
    }
    // Each statement's results end with a null.
    if (PGresult* extra = PQgetResult(conn_); extra != nullptr) {
      PQclear(extra);
      failed_ = true;
      return absl::InternalError("postgres store: a statement returned more than one result");
    }
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced) {
    failed_ = true;
    return first.ok() ? Lost(conn_, what) : first;
  }
  return first;
}

absl::Status Connection::DrainSent() {
  for (; unread_ > 0; --unread_) {
    // What a finished read-only transaction's end answered does not matter, unless
    // the connection went with it.
    (void)ReadPipeline(1, "end a transaction", nullptr, nullptr);
    if (broken()) return Lost(conn_, "end a transaction");
  }
  return absl::OkStatus();
}

absl::Status Connection::Run(const std::vector<Call>& calls, std::string_view what,
                             std::vector<Result>* results, size_t* failed) {
  results->clear();
  results->reserve(calls.size());
  // Ours go out first, so that the round trip overlaps reading what is left over.
  if (absl::Status s = SendCalls(calls, what); !s.ok()) return s;
  if (absl::Status s = DrainSent(); !s.ok()) return s;
  return ReadPipeline(calls.size(), what, results, failed);
}

void Connection::Send(const std::vector<Call>& calls) {
  if (SendCalls(calls, "end a transaction").ok()) ++unread_;
}

}  // namespace spotopt::pg
