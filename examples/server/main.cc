// spotopt-server: the HTTP host that makes libspotopt a drop-in backend for the
// deployed agents, plus a management API for operators. See README.md.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "admin_api.h"
#include "dashboard.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "model_files.h"
#include "operator_tokens.h"
#include "spotopt/protocol/handler.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/open.h"
#include "spotopt/store/sqlite_store.h"

namespace spotopt::server {
namespace {

constexpr std::string_view kUsage = R"(usage:
  spotopt-server [--db FILE|URI] [--operators FILE] [--listen ADDRESS:PORT] [--threads N]
                 [--log-level LEVEL] [--decide-every SECONDS] [--model MANIFEST]...
                 [--advisor-feed FILE]
      Serve the agent protocol (/api/agents/...), the management API (/api/admin/...),
      the operator dashboard (/ui), /health and /metrics. Defaults: --db spotopt.db
      --listen 127.0.0.1:5000, --threads = CPU cores, --log-level info (debug logs
      every request).
      --db: a SQLite file, or a store URI: sqlite:PATH, memory:, a PostgreSQL URI
      (postgresql://user@host:port/db) or postgresql:KEYWORDS (libpq's keyword form,
      "postgresql:host=/run/postgresql dbname=spotopt"). Several servers may share one
      PostgreSQL database.
      --operators: the operator token file; defaults to FILE.operators for a SQLite
      database, and is required with any other store.
      Every --decide-every seconds (default 60; 0: never) the decision engines decide
      for every agent with auto switch on. --model registers a model engine from its
      manifest (the model file beside it); repeat it for several.
      --advisor-feed: AWS's Spot Advisor JSON (spot-advisor-data.json), for the
      interruption bands of market views and decisions.
  spotopt-server tenant create NAME [--db FILE|URI]
      Create a tenant; prints its agent token once on stdout.
  spotopt-server operator-token [--db FILE|URI] [--operators FILE]
      Issue a management API token; prints it once on stdout. Its salted hash goes to
      the operator token file.
  spotopt-server --help
)";

constexpr Duration kTickInterval = absl::Seconds(5);

struct Options {
  std::vector<std::string> command;  // positional words
  std::string db = "spotopt.db";
  std::string operators;     // empty: beside a SQLite database
  std::string advisor_feed;  // empty: none
  HttpOptions http;
  int64_t decide_every_seconds = 60;
  std::vector<std::string> models;
};

bool ParseListen(std::string_view text, HttpOptions* http) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:5000
  }
  const std::string_view port = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), http->port);
  if (ec != std::errc() || end != port.data() + port.size() || host.empty()) return false;
  http->address = std::string(host);
  return true;
}

// Returns an error message, or empty on success.
std::string ParseArgs(int argc, char** argv, Options* o) {
  o->http.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--db" && has_value) {
      o->db = argv[++i];
    } else if (arg == "--operators" && has_value) {
      o->operators = argv[++i];
    } else if (arg == "--advisor-feed" && has_value) {
      o->advisor_feed = argv[++i];
    } else if (arg == "--listen" && has_value) {
      if (!ParseListen(argv[++i], &o->http)) return fmt::format("--listen: bad value {}", argv[i]);
    } else if (arg == "--threads" && has_value) {
      const std::string_view v = argv[++i];
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o->http.threads);
      if (ec != std::errc() || end != v.data() + v.size() || o->http.threads < 1) {
        return fmt::format("--threads: bad value {}", v);
      }
    } else if (arg == "--decide-every" && has_value) {
      const std::string_view v = argv[++i];
      const auto [end, ec] =
          std::from_chars(v.data(), v.data() + v.size(), o->decide_every_seconds);
      if (ec != std::errc() || end != v.data() + v.size() || o->decide_every_seconds < 0) {
        return fmt::format("--decide-every: bad value {}", v);
      }
    } else if (arg == "--model" && has_value) {
      o->models.emplace_back(argv[++i]);
    } else if (arg == "--log-level" && has_value) {
      LogLevel level;
      if (!ParseLogLevel(argv[++i], &level))
        return fmt::format("--log-level: bad value {}", argv[i]);
      SetLogLevel(level);
    } else if (arg.starts_with("--")) {
      return fmt::format("unknown or incomplete option {}", arg);
    } else {
      o->command.emplace_back(arg);
    }
  }
  return {};
}

// How logs and errors name --db: a PostgreSQL connection string may hold a password,
// so only its scheme.
std::string StoreName(const std::string& db) {
  return db.starts_with("postgres") && IsStoreUri(db) ? "postgresql:..." : db;
}

// --db is a store URI (spotopt/store/open.h) or, for compatibility, a SQLite path.
absl::StatusOr<std::unique_ptr<Controller>> OpenController(const std::string& db) {
  absl::StatusOr<std::unique_ptr<Store>> store =
      IsStoreUri(db) ? OpenStore(db)
                     : absl::StatusOr<std::unique_ptr<Store>>(SqliteStore::Open(db));
  if (!store.ok()) return store.status();
  return std::make_unique<Controller>(std::move(*store), std::make_shared<SystemClock>());
}

// The operator token file: --operators, or beside a SQLite database. A server store
// (PostgreSQL) has no file to put it beside; each server of a group reads the same
// file, or a copy of it.
absl::StatusOr<std::string> OperatorsPath(const Options& o) {
  if (!o.operators.empty()) return o.operators;
  constexpr std::string_view kSqlite = "sqlite:";
  if (!IsStoreUri(o.db)) return OperatorTokens::PathForDb(o.db);
  if (o.db.starts_with(kSqlite)) return OperatorTokens::PathForDb(o.db.substr(kSqlite.size()));
  return absl::InvalidArgumentError(
      fmt::format("--operators FILE is required with --db {}", StoreName(o.db)));
}

int Fail(const absl::Status& s) {
  Log(LogLevel::kError, "failed", "error=\"{}\"", s.ToString());
  return 1;
}

absl::Status LoadAdvisorFeed(Controller& controller, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("--advisor-feed: cannot read {}", path));
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  absl::StatusOr<size_t> entries = controller.LoadAdvisorFeed(text);
  if (!entries.ok()) return entries.status();
  Log(LogLevel::kInfo, "advisor feed loaded", "file={} entries={}", path, *entries);
  return absl::OkStatus();
}

int CreateTenant(const Options& o, const std::string& name) {
  absl::StatusOr<std::unique_ptr<Controller>> controller = OpenController(o.db);
  if (!controller.ok()) return Fail(controller.status());
  absl::StatusOr<CreatedTenant> created = (*controller)->CreateTenant(name);
  if (!created.ok()) return Fail(created.status());
  Log(LogLevel::kInfo, "tenant created", "tenant={} name={}", created->tenant.id, name);
  std::printf("%s\n", created->token.c_str());
  return 0;
}

int IssueOperatorToken(const Options& o) {
  absl::StatusOr<std::string> path = OperatorsPath(o);
  if (!path.ok()) return Fail(path.status());
  OperatorTokens operators(*path);
  absl::StatusOr<std::string> token = operators.Issue(absl::Now());
  if (!token.ok()) return Fail(token.status());
  Log(LogLevel::kInfo, "operator token issued", "file={}", *path);
  std::printf("%s\n", token->c_str());
  return 0;
}

protocol::Response Health(const protocol::Request&) {
  return protocol::JsonResponse(200, R"({"status":"ok"})");
}

int Serve(const Options& o) {
  absl::StatusOr<std::string> operators_path = OperatorsPath(o);
  if (!operators_path.ok()) return Fail(operators_path.status());
  absl::StatusOr<std::unique_ptr<Controller>> opened = OpenController(o.db);
  if (!opened.ok()) return Fail(opened.status());
  // Declared before the server so they outlive it: destroying the Controller closes
  // the store only after the last request has been answered.
  std::unique_ptr<Controller> controller = *std::move(opened);
  for (const std::string& manifest : o.models) {
    absl::StatusOr<decision::EngineInfo> model = RegisterModelFiles(*controller, manifest);
    if (!model.ok()) return Fail(model.status());
    Log(LogLevel::kInfo, "model registered", "engine={} version={} sha256={}", model->ref.name,
        model->ref.version, model->ref.sha256);
  }
  if (!o.advisor_feed.empty()) {
    if (absl::Status s = LoadAdvisorFeed(*controller, o.advisor_feed); !s.ok()) return Fail(s);
  }
  OperatorTokens operators(*operators_path);
  protocol::AgentProtocol agents(*controller);
  AdminApi admin(*controller, operators);
  Metrics metrics;

  auto dispatch = [&](const protocol::Request& r) -> protocol::Response {
    const std::string_view path = r.target.substr(0, r.target.find('?'));
    if (path.starts_with("/api/agents/")) return agents.Handle(r);
    if (path.starts_with("/api/admin/")) return admin.Handle(r);
    if (IsDashboardPath(path)) return ServeDashboard(r);
    protocol::Response response;
    if (path == "/health" || path == "/health/") {
      response = r.method == "GET" ? Health(r)
                                   : protocol::ErrorResponse(405, "method_not_allowed", "GET only");
      response.route = "/health";
    } else if (path == "/metrics" || path == "/metrics/") {
      if (r.method == "GET") {
        response.body = metrics.Render(*controller);
        response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      } else {
        response = protocol::ErrorResponse(405, "method_not_allowed", "GET only");
      }
      response.route = "/metrics";
    } else {
      response = protocol::ErrorResponse(absl::NotFoundError("unknown route"));
    }
    if (response.status == 405) response.headers.emplace_back("Allow", "GET");
    return response;
  };

  HttpServer server(o.http, dispatch, metrics);
  if (absl::Status s = server.Listen(); !s.ok()) return Fail(s);
  server.Every(kTickInterval, [&] {
    absl::StatusOr<TickReport> report = controller->Tick(absl::Now());
    metrics.RecordTick(report.ok());
    if (!report.ok()) {
      Log(LogLevel::kWarn, "tick failed", "error=\"{}\"", report.status().ToString());
    } else if (*report != TickReport{}) {
      Log(LogLevel::kInfo, "tick",
          "commands_expired={} replicas_failed={} replicas_requested={} incidents_closed={}",
          report->commands_expired, report->replicas_failed, report->replicas_requested,
          report->incidents_closed);
    }
  });
  if (o.decide_every_seconds > 0) {
    server.Every(absl::Seconds(o.decide_every_seconds), [&] {
      absl::StatusOr<DecisionRunReport> report = controller->RunDecisions(absl::Now());
      if (!report.ok()) {
        Log(LogLevel::kWarn, "decisions failed", "error=\"{}\"", report.status().ToString());
      } else if (report->logged > 0) {
        Log(LogLevel::kInfo, "decisions",
            "agents={} logged={} acted={} held={} refused={} fallbacks={}", report->agents,
            report->logged, report->acted, report->held, report->refused, report->fallbacks);
      }
    });
  }
  Log(LogLevel::kInfo, "started", "db={}", StoreName(o.db));
  server.Run();
  Log(LogLevel::kInfo, "stopped", "db={}", StoreName(o.db));
  return 0;
}

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage.data(), stdout);
      return 0;
    }
  }
  Options o;
  if (std::string error = ParseArgs(argc, argv, &o); !error.empty()) {
    std::fprintf(stderr, "spotopt-server: %s\n%s", error.c_str(), kUsage.data());
    return 2;
  }
  const std::vector<std::string>& cmd = o.command;
  if (cmd.empty()) return Serve(o);
  if (cmd.size() == 3 && cmd[0] == "tenant" && cmd[1] == "create") return CreateTenant(o, cmd[2]);
  if (cmd.size() == 1 && cmd[0] == "operator-token") return IssueOperatorToken(o);
  std::fprintf(stderr, "spotopt-server: unknown command\n%s", kUsage.data());
  return 2;
}

}  // namespace
}  // namespace spotopt::server

int main(int argc, char** argv) { return spotopt::server::Main(argc, argv); }
