// The price side at scale, on the real data of ../shared/data scaled up, in one run:
//
//   1. the SEF pipeline (sef::Bucketize, then DetectGaps and Clean per series) against
//      std::sort of the same observations by (pool, time); target: within 3x;
//   2. ingest into SqliteStore through Transaction::InsertPriceObservation against a
//      bare sqlite3 loop (one prepared statement, one transaction) on a table with the
//      same schema and indexes, copied from the store's own database; target: >= 0.5.
//      Controller::ImportPrices in chunks of 10,000 for reference;
//   3. peak resident bytes per observation stored in MemoryStore.
//
// The observations: the Linux/UNIX rows of the two eu-west-1 90-day dumps (507,016),
// repeated with every time shifted by the data's span (rounded up to a whole bucket,
// plus one) per copy until there are --rows of them; the last copy may be partial.
// Ingest sees them in random order (a fixed-seed shuffle), the pipeline both shuffled
// and sorted by (pool, time). Pools get dense series ids before anything is timed.
//
// Usage: pricing_bench [--rows=10000000] [--ingest-rows=N] [--import-rows=N]
//                      [--memory-rows=N] [--memory-order=sorted|shuffled] [--repeat=3]
//                      [--data=../shared/data] [--db-dir=/tmp] [--check]
// --ingest-rows, --import-rows and --memory-rows default to --rows; 0 skips a phase.
// MemoryStore is filled in (pool, time) order by default: the footprint does not
// depend on the order, and a store kept in time order pays for every insert older
// than a series' newest row (--memory-order=shuffled shows how much).
// --check: exit 1 when a target is missed. Run from the project root (or pass --data).
#include <sqlite3.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "absl/container/flat_hash_map.h"
#include "fleet.h"
#include "spotopt/pricing/price_files.h"
#include "spotopt/pricing/sef.h"
#include "spotopt/store/memory_store.h"
#include "spotopt/store/sqlite_store.h"

namespace spotopt::bench {
namespace {

constexpr double kPipelineTarget = 3.0;  // pipeline time / sort time, at most
constexpr double kIngestTarget = 0.5;    // store rows/s / bare rows/s, at least
constexpr size_t kImportChunk = 10'000;
constexpr uint64_t kShuffleSeed = 20220607;
constexpr std::array<std::string_view, 2> kDumps = {
    "aws-spot-price-history/euw1_linux_2021-12-13_2022-03-13.tsv.gz",
    "aws-spot-price-history/euw1_linux_2022-03-09_2022-06-07.tsv.gz"};

struct Options {
  int64_t rows = 10'000'000;
  std::optional<int64_t> ingest_rows;
  std::optional<int64_t> import_rows;
  std::optional<int64_t> memory_rows;
  bool memory_shuffled = false;
  int repeat = 3;
  std::string data = "../shared/data";
  std::string db_dir = "/tmp";
  bool check = false;
};

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out >= 0;
}

bool ParseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string_view key = arg.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    bool ok = false;
    int64_t n = 0;
    if (key == "--rows") {
      ok = ParseNumber(value, options.rows) && options.rows > 0;
    } else if (key == "--ingest-rows" && ParseNumber(value, n)) {
      options.ingest_rows = n;
      ok = true;
    } else if (key == "--import-rows" && ParseNumber(value, n)) {
      options.import_rows = n;
      ok = true;
    } else if (key == "--memory-rows" && ParseNumber(value, n)) {
      options.memory_rows = n;
      ok = true;
    } else if (key == "--memory-order") {
      ok = value == "sorted" || value == "shuffled";
      options.memory_shuffled = value == "shuffled";
    } else if (key == "--repeat") {
      ok = ParseNumber(value, options.repeat) && options.repeat > 0;
    } else if (key == "--data" && !value.empty()) {
      options.data = std::string(value);
      ok = true;
    } else if (key == "--db-dir" && !value.empty()) {
      options.db_dir = std::string(value);
      ok = true;
    } else if (key == "--check" && value.empty()) {
      options.check = ok = true;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "pricing_bench: bad argument '%s'\nusage: pricing_bench [--rows=10000000] "
                   "[--ingest-rows=N] [--import-rows=N] [--memory-rows=N] "
                   "[--memory-order=sorted|shuffled] [--repeat=3] "
                   "[--data=../shared/data] [--db-dir=/tmp] [--check]\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return fmt::format("{} {} {}", one, five, fifteen);
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false when not permitted.
bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return out.good();
}

// 12,345,678 -> "12,345,678".
std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// ---- The real rows and their scaled-up copies ----

struct BaseRow {
  uint32_t pool = 0;
  int64_t at_us = 0;
  int64_t price_micros = 0;
};

struct Data {
  std::vector<Pool> pools;  // by dense id
  std::vector<BaseRow> rows;
  int64_t shift_us = 0;  // per copy
  int64_t copies = 0;
  int64_t n = 0;  // observations
  double parse_seconds = 0;

  // Observation i: copy i / rows.size() of base row i % rows.size().
  BaseRow At(int64_t i) const {
    const auto size = static_cast<int64_t>(rows.size());
    BaseRow r = rows[static_cast<size_t>(i % size)];
    r.at_us += (i / size) * shift_us;
    return r;
  }
};

absl::Status ReadDumps(const std::string& dir, Data& data) {
  absl::flat_hash_map<std::string, uint32_t> ids;
  const auto start = std::chrono::steady_clock::now();
  for (std::string_view name : kDumps) {
    const std::string path = fmt::format("{}/{}", dir, name);
    std::unique_ptr<gzFile_s, decltype(&gzclose)> file(gzopen(path.c_str(), "rb"), &gzclose);
    if (file == nullptr) return absl::NotFoundError(fmt::format("cannot open {}", path));
    gzbuffer(file.get(), 1 << 17);
    std::array<char, 4096> buffer{};
    int64_t line_number = 0;
    while (gzgets(file.get(), buffer.data(), static_cast<int>(buffer.size())) != nullptr) {
      ++line_number;
      std::string_view line(buffer.data());
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      absl::StatusOr<SpotPriceRow> row = ParseSpotPriceHistoryLine(line);
      if (!row.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("{}:{}: {}", path, line_number, row.status().ToString()));
      }
      if (row->product != "Linux/UNIX") continue;
      const auto [it, added] =
          ids.try_emplace(fmt::format("{}\t{}", row->instance_type, row->az), data.pools.size());
      if (added) data.pools.push_back(Pool{row->region, row->az, row->instance_type});
      data.rows.push_back(BaseRow{it->second, ToMicros(row->at), row->price.micros()});
    }
    int error = Z_OK;
    const char* message = gzerror(file.get(), &error);
    if (error != Z_OK) return absl::DataLossError(fmt::format("{}: {}", path, message));
  }
  data.parse_seconds = Seconds(start);
  if (data.rows.empty()) return absl::NotFoundError("no rows");
  return absl::OkStatus();
}

void Scale(Data& data, int64_t n, int64_t bucket_us) {
  const auto [lo, hi] =
      std::minmax_element(data.rows.begin(), data.rows.end(),
                          [](const BaseRow& a, const BaseRow& b) { return a.at_us < b.at_us; });
  const int64_t span = hi->at_us - lo->at_us;
  data.shift_us = (span / bucket_us + 2) * bucket_us;  // whole buckets, copies never share one
  data.n = n;
  const auto size = static_cast<int64_t>(data.rows.size());
  data.copies = (n + size - 1) / size;
}

// A permutation of [0, n): random (fixed seed) or ordered by (pool, time).
std::vector<uint32_t> Order(const Data& data, int64_t n, bool shuffled) {
  std::vector<uint32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (shuffled) {
    std::mt19937_64 rng(kShuffleSeed);
    std::shuffle(order.begin(), order.end(), rng);
  } else {
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const BaseRow x = data.At(a);
      const BaseRow y = data.At(b);
      return std::tie(x.pool, x.at_us, a) < std::tie(y.pool, y.at_us, b);
    });
  }
  return order;
}

// ---- Report ----

struct Line {
  std::string what;
  std::string order;
  int64_t rows = 0;
  double seconds = 0;
  std::string ratio;  // empty: none
  std::string target;
};

std::string Rate(const Line& l) {
  return l.seconds > 0 ? Thousands(static_cast<int64_t>(static_cast<double>(l.rows) / l.seconds))
                       : "-";
}

// The figures of a run: each printed as soon as it is measured, then all in one table.
class Report {
 public:
  void Add(Line line) {
    fmt::print("  -> {} ({}): {} rows in {:.3f} s, {} rows/s {}\n", line.what, line.order,
               Thousands(line.rows), line.seconds, Rate(line), line.ratio);
    std::fflush(stdout);
    lines_.push_back(std::move(line));
  }

  void Print() const {
    fmt::print("\n{:<46} {:<9} {:>11} {:>9} {:>11}  {:<32} {}\n", "measure", "order", "rows",
               "seconds", "rows/s", "ratio", "target");
    for (const Line& l : lines_) {
      fmt::print("{:<46} {:<9} {:>11} {:>9.3f} {:>11}  {:<32} {}\n", l.what, l.order,
                 Thousands(l.rows), l.seconds, Rate(l), l.ratio, l.target);
    }
  }

 private:
  std::vector<Line> lines_;
};

// ---- 1. SEF pipeline vs std::sort ----

struct PipelineResult {
  size_t buckets = 0;
  size_t gaps = 0;
  size_t points = 0;
  double bucketize_s = 0;  // stage times (sort included in Bucketize)
  double gaps_s = 0;
  double clean_s = 0;
};

PipelineResult RunPipeline(std::span<sef::Sample> samples, int64_t now_us,
                           const sef::Options& options) {
  PipelineResult r;
  auto start = std::chrono::steady_clock::now();
  const std::vector<sef::MeasuredBucket> measured = sef::Bucketize(samples, options);
  r.bucketize_s = Seconds(start);
  r.buckets = measured.size();
  for (size_t begin = 0; begin < measured.size();) {
    size_t end = begin + 1;
    while (end < measured.size() && measured[end].series == measured[begin].series) ++end;
    const std::span<const sef::MeasuredBucket> series(measured.data() + begin, end - begin);
    start = std::chrono::steady_clock::now();
    r.gaps += sef::DetectGaps(series, options).size();
    const auto middle = std::chrono::steady_clock::now();
    r.points += sef::Clean(series, std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max(), now_us, options)
                    .size();
    r.gaps_s += std::chrono::duration<double>(middle - start).count();
    r.clean_s += Seconds(middle);
    begin = end;
  }
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool MeasurePipeline(const Data& data, const Options& options, Report& report) {
  const sef::Options sef_options;
  const int64_t now_us = data.At(data.n - 1).at_us + data.shift_us;  // after every copy
  bool met = true;
  for (const bool shuffled : {true, false}) {
    std::vector<sef::Sample> input;
    {
      const std::vector<uint32_t> order = Order(data, data.n, shuffled);
      input.reserve(order.size());
      for (uint32_t i : order) {
        const BaseRow r = data.At(i);
        input.push_back(sef::Sample{r.pool, r.at_us, r.price_micros, static_cast<int64_t>(i),
                                    PriceSource::kCatalog});
      }
    }
    std::vector<double> sort_times;
    std::vector<double> pipeline_times;
    PipelineResult result;
    for (int k = 0; k < options.repeat; ++k) {
      std::vector<sef::Sample> copy = input;
      auto start = std::chrono::steady_clock::now();
      std::sort(copy.begin(), copy.end(), [](const sef::Sample& a, const sef::Sample& b) {
        return std::tie(a.series, a.observed_us) < std::tie(b.series, b.observed_us);
      });
      sort_times.push_back(Seconds(start));

      copy = input;
      start = std::chrono::steady_clock::now();
      result = RunPipeline(copy, now_us, sef_options);
      pipeline_times.push_back(Seconds(start));
    }
    const double sort_s = Median(sort_times);
    const double pipeline_s = Median(pipeline_times);
    const double ratio = pipeline_s / sort_s;
    met = met && ratio <= kPipelineTarget;
    const std::string order = shuffled ? "shuffled" : "sorted";
    report.Add(Line{"std::sort by (pool, time), a copy", order, data.n, sort_s, "", ""});
    report.Add(Line{"SEF pipeline: Bucketize, DetectGaps, Clean", order, data.n, pipeline_s,
                    fmt::format("{:.2f}x the sort", ratio),
                    fmt::format("<= {:.0f}x: {}", kPipelineTarget,
                                ratio <= kPipelineTarget ? "met" : "NOT met")});
    fmt::print(
        "pipeline ({}): {} buckets, {} gaps, {} clean points; median of {} runs; last run: "
        "Bucketize {:.3f} s, DetectGaps {:.3f} s, Clean {:.3f} s\n",
        order, Thousands(result.buckets), Thousands(result.gaps), Thousands(result.points),
        options.repeat, result.bucketize_s, result.gaps_s, result.clean_s);
    std::fflush(stdout);
  }
  return met;
}

// ---- 2. Ingest into SQLite ----

absl::Status Context(const absl::Status& s, std::string_view what) {
  return absl::Status(s.code(), fmt::format("{}: {}", what, std::string(s.message())));
}

class DbFiles {
 public:
  explicit DbFiles(std::string path) : path_(std::move(path)) { Remove(); }
  ~DbFiles() { Remove(); }
  DbFiles(const DbFiles&) = delete;
  DbFiles& operator=(const DbFiles&) = delete;
  const std::string& path() const { return path_; }

 private:
  void Remove() {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_ + suffix, ignored);
    }
  }
  std::string path_;
};

std::string DbPath(const Options& options, std::string_view name) {
  return fmt::format("{}/pricing_bench-{}-{}.db", options.db_dir, getpid(), name);
}

PriceObservation CatalogObservation(std::string tenant_id, Time received_at) {
  PriceObservation o;
  o.tenant_id = std::move(tenant_id);
  o.kind = PriceKind::kSpot;
  o.source = PriceSource::kCatalog;
  o.received_at = received_at;
  return o;
}

void Fill(PriceObservation& o, const Data& data, const BaseRow& r) {
  const Pool& pool = data.pools[r.pool];
  o.region = pool.region;
  o.az = pool.az;
  o.instance_type = pool.instance_type;
  o.price = Money::FromMicros(r.price_micros);
  o.observed_at = FromMicros(r.at_us);
}

struct Sqlite {
  sqlite3* db = nullptr;
  ~Sqlite() { sqlite3_close_v2(db); }
  absl::Status Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      absl::Status s = absl::InternalError(fmt::format("{}: {}", sql, error ? error : "?"));
      sqlite3_free(error);
      return s;
    }
    return absl::OkStatus();
  }
};

// The CREATE statements of the store's tenants and price_observations tables and
// their indexes, as the store's own database holds them.
absl::StatusOr<std::vector<std::string>> StoreSchema(const std::string& path) {
  Sqlite conn;
  if (sqlite3_open_v2(path.c_str(), &conn.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    return absl::InternalError(fmt::format("open {}", path));
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(conn.db,
                         "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN "
                         "('tenants', 'price_observations') ORDER BY type DESC, name",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(sqlite3_errmsg(conn.db));
  }
  std::vector<std::string> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  return out;
}

// Rows/s of the store's InsertPriceObservation, all rows in one write transaction.
absl::StatusOr<double> StoreIngest(const Data& data, std::span<const uint32_t> order,
                                   const Options& options, std::vector<std::string>* schema) {
  DbFiles file(DbPath(options, "store"));
  absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(file.path());
  if (!opened.ok()) return opened.status();
  std::shared_ptr<Store> store = std::move(*opened);
  std::string tenant_id;
  {
    Controller controller(store, std::make_shared<SystemClock>());
    absl::StatusOr<CreatedTenant> tenant = controller.CreateTenant("bench");
    if (!tenant.ok()) return tenant.status();
    tenant_id = tenant->tenant.id;
  }
  PriceObservation o = CatalogObservation(tenant_id, absl::Now());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store->Begin(TxMode::kWrite);
  if (!tx.ok()) return tx.status();
  for (uint32_t i : order) {
    Fill(o, data, data.At(i));
    if (absl::StatusOr<int64_t> seq = (*tx)->InsertPriceObservation(o); !seq.ok()) {
      return seq.status();
    }
  }
  if (absl::Status s = (*tx)->Commit(); !s.ok()) return s;
  const double seconds = Seconds(start);
  tx->reset();
  store.reset();
  absl::StatusOr<std::vector<std::string>> sql = StoreSchema(file.path());
  if (!sql.ok()) return sql.status();
  *schema = *std::move(sql);
  return seconds;
}

// The same rows through one prepared statement, on a database with the store's
// schema for the two tables and the store's connection settings; all in one
// transaction, or a commit every `tx_rows` rows.
absl::StatusOr<double> BareIngest(const Data& data, std::span<const uint32_t> order,
                                  const Options& options, const std::vector<std::string>& schema,
                                  size_t tx_rows = 0) {
  DbFiles file(DbPath(options, tx_rows == 0 ? "bare" : "bare-chunked"));
  Sqlite conn;
  if (sqlite3_open_v2(file.path().c_str(), &conn.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return absl::InternalError(fmt::format("open {}", file.path()));
  }
  // SqliteStore's settings (src/store/sqlite/pool.cc).
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                             "PRAGMA foreign_keys = ON", "PRAGMA mmap_size = 0",
                             "PRAGMA cache_size = -262144", "PRAGMA wal_autocheckpoint = 16384"}) {
    if (absl::Status s = conn.Exec(pragma); !s.ok()) return s;
  }
  for (const std::string& sql : schema) {
    if (absl::Status s = conn.Exec(sql); !s.ok()) return s;
  }
  // An id as the store makes them (a 36-character UUID): the pool index leads with it,
  // so a shorter one would make the bare loop's index smaller and faster.
  const std::string tenant_id = NewId();
  if (absl::Status s = conn.Exec(fmt::format(
          "INSERT INTO tenants (id, name, state, created_at, doc) VALUES ('{}', 'bench', "
          "'active', 0, '{{}}')",
          tenant_id));
      !s.ok()) {
    return s;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(
          conn.db,
          "INSERT INTO price_observations (tenant_id, agent_id, registration_id, region, az, "
          "instance_type, kind, price_micros, observed_at, received_at, server_received, source) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
          -1, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(sqlite3_errmsg(conn.db));
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> owned(stmt, &sqlite3_finalize);
  const auto text = [&](int column, std::string_view s) {
    sqlite3_bind_text(stmt, column, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  };
  const std::string_view kind = ToString(PriceKind::kSpot);
  const std::string_view source = ToString(PriceSource::kCatalog);
  const int64_t received_us = ToMicros(absl::Now());
  const auto start = std::chrono::steady_clock::now();
  if (absl::Status s = conn.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  size_t in_tx = 0;
  for (uint32_t i : order) {
    if (tx_rows > 0 && in_tx++ == tx_rows) {
      if (absl::Status s = conn.Exec("COMMIT"); !s.ok()) return s;
      if (absl::Status s = conn.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
      in_tx = 1;
    }
    const BaseRow r = data.At(i);
    const Pool& pool = data.pools[r.pool];
    text(1, tenant_id);
    text(2, "");
    text(3, "");
    text(4, pool.region);
    text(5, pool.az);
    text(6, pool.instance_type);
    text(7, kind);
    sqlite3_bind_int64(stmt, 8, r.price_micros);
    sqlite3_bind_int64(stmt, 9, r.at_us);
    sqlite3_bind_int64(stmt, 10, received_us);
    sqlite3_bind_int64(stmt, 11, 0);
    text(12, source);
    if (sqlite3_step(stmt) != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(conn.db));
    sqlite3_reset(stmt);
  }
  if (absl::Status s = conn.Exec("COMMIT"); !s.ok()) return s;
  return Seconds(start);
}

// Controller::ImportPrices in chunks, each its own transaction.
absl::StatusOr<double> ImportIngest(const Data& data, std::span<const uint32_t> order,
                                    const Options& options, std::vector<std::string>* schema) {
  DbFiles file(DbPath(options, "import"));
  absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(file.path());
  if (!opened.ok()) return opened.status();
  Controller controller(std::move(*opened), std::make_shared<SystemClock>());
  absl::StatusOr<CreatedTenant> tenant = controller.CreateTenant("bench");
  if (!tenant.ok()) return tenant.status();
  std::vector<CatalogPrice> chunk;
  chunk.reserve(kImportChunk);
  const auto start = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < order.size(); begin += kImportChunk) {
    chunk.clear();
    for (size_t k = begin; k < std::min(order.size(), begin + kImportChunk); ++k) {
      const BaseRow r = data.At(order[k]);
      chunk.push_back(
          CatalogPrice{data.pools[r.pool], Money::FromMicros(r.price_micros), FromMicros(r.at_us)});
    }
    if (absl::StatusOr<int64_t> n = controller.ImportPrices(tenant->tenant.id, chunk); !n.ok()) {
      return n.status();
    }
  }
  const double seconds = Seconds(start);
  absl::StatusOr<std::vector<std::string>> sql = StoreSchema(file.path());
  if (!sql.ok()) return sql.status();
  *schema = *std::move(sql);
  return seconds;
}

// Whether the ingest target is met.
absl::StatusOr<bool> MeasureIngest(const Data& data, int64_t rows, int64_t import_rows,
                                   const Options& options, Report& report) {
  const Data scaled = [&] {
    Data d = data;
    d.n = std::max(rows, import_rows);
    return d;
  }();
  const std::vector<uint32_t> order = Order(scaled, scaled.n, /*shuffled=*/true);
  bool met = true;
  double bare_s = 0;
  if (rows > 0) {
    const std::span<const uint32_t> part(order.data(), static_cast<size_t>(rows));
    std::vector<std::string> schema;
    absl::StatusOr<double> store_s = StoreIngest(data, part, options, &schema);
    if (!store_s.ok()) return Context(store_s.status(), "SqliteStore ingest");
    fmt::print("SqliteStore ingest: {} rows in {:.1f} s; schema copied for the bare loop:\n",
               Thousands(rows), *store_s);
    for (const std::string& sql : schema) fmt::print("  {}\n", sql);
    std::fflush(stdout);
    absl::StatusOr<double> bare = BareIngest(data, part, options, schema);
    if (!bare.ok()) return Context(bare.status(), "bare SQLite ingest");
    bare_s = *bare;
    const double ratio = bare_s / *store_s;  // rows/s of the store over rows/s of the bare loop
    met = ratio >= kIngestTarget;
    report.Add(
        Line{"bare sqlite3 loop, 1 statement, 1 transaction", "shuffled", rows, bare_s, "", ""});
    report.Add(Line{"SqliteStore InsertPriceObservation, 1 tx", "shuffled", rows, *store_s,
                    fmt::format("{:.2f} of bare", ratio),
                    fmt::format(">= {:.1f}: {}", kIngestTarget, met ? "met" : "NOT met")});
  }
  if (import_rows > 0) {
    const std::span<const uint32_t> part(order.data(), static_cast<size_t>(import_rows));
    std::vector<std::string> schema;
    absl::StatusOr<double> import_s = ImportIngest(data, part, options, &schema);
    if (!import_s.ok()) return Context(import_s.status(), "ImportPrices");
    // The same commits without the Controller and the store.
    absl::StatusOr<double> chunked = BareIngest(data, part, options, schema, kImportChunk);
    if (!chunked.ok()) return Context(chunked.status(), "bare SQLite ingest, chunked");
    report.Add(Line{"bare sqlite3 loop, a commit every 10k rows", "shuffled", import_rows, *chunked,
                    "", "(reference)"});
    std::string ratio = fmt::format("{:.2f} of bare 10k", *chunked / *import_s);
    if (bare_s > 0) {
      ratio += fmt::format(", {:.2f} of bare 1 tx",
                           (static_cast<double>(import_rows) / *import_s) / (rows / bare_s));
    }
    report.Add(Line{"Controller::ImportPrices, 10k-row chunks", "shuffled", import_rows, *import_s,
                    ratio, "(reference)"});
  }
  return met;
}

// ---- 3. MemoryStore footprint ----

absl::Status MeasureMemory(const Data& data, int64_t rows, bool shuffled, Report& report) {
  Data scaled = data;
  scaled.n = rows;
  const std::vector<uint32_t> order = Order(scaled, rows, shuffled);
  const bool reset = ResetPeakRss();
  const int64_t before_hwm = PeakRssBytes();
  const int64_t before_rss = CurrentRssBytes();
  auto store = std::make_shared<MemoryStore>();
  std::string tenant_id;
  {
    Controller controller(store, std::make_shared<SystemClock>());
    absl::StatusOr<CreatedTenant> tenant = controller.CreateTenant("bench");
    if (!tenant.ok()) return tenant.status();
    tenant_id = tenant->tenant.id;
  }
  PriceObservation o = CatalogObservation(tenant_id, absl::Now());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store->Begin(TxMode::kWrite);
  if (!tx.ok()) return tx.status();
  for (uint32_t i : order) {
    Fill(o, data, data.At(i));
    if (absl::StatusOr<int64_t> seq = (*tx)->InsertPriceObservation(o); !seq.ok()) {
      return seq.status();
    }
  }
  if (absl::Status s = (*tx)->Commit(); !s.ok()) return s;
  const double seconds = Seconds(start);
  const int64_t after_hwm = PeakRssBytes();
  const int64_t after_rss = CurrentRssBytes();
  const double per_row = static_cast<double>(after_hwm - before_hwm) / static_cast<double>(rows);
  fmt::print(
      "MemoryStore: {} observations; VmHWM {:.1f} -> {:.1f} MiB ({}), VmRSS {:.1f} -> {:.1f} "
      "MiB: {:.1f} peak bytes per observation ({:.1f} resident after)\n",
      Thousands(rows), before_hwm / 1048576.0, after_hwm / 1048576.0,
      reset ? "peak reset before" : "peak NOT reset: run this phase first", before_rss / 1048576.0,
      after_rss / 1048576.0, per_row, static_cast<double>(after_rss - before_rss) / rows);
  report.Add(Line{"MemoryStore InsertPriceObservation, 1 tx", shuffled ? "shuffled" : "sorted",
                  rows, seconds, fmt::format("{:.1f} B/obs peak RSS", per_row), ""});
  std::fflush(stdout);
  return absl::OkStatus();
}

int Run(const Options& options) {
  fmt::print("pricing_bench: load average {} ({} CPUs)\n", LoadAverage(),
             sysconf(_SC_NPROCESSORS_ONLN));
  Data data;
  if (absl::Status s = ReadDumps(options.data, data); !s.ok()) {
    fmt::print(stderr, "pricing_bench: reading the price dumps in {}: {}\n", options.data,
               s.ToString());
    return 2;
  }
  const sef::Options sef_options;
  const int64_t bucket_us = absl::ToInt64Microseconds(sef_options.bucket);
  const int64_t most = std::max({options.rows, options.ingest_rows.value_or(options.rows),
                                 options.import_rows.value_or(options.rows),
                                 options.memory_rows.value_or(options.rows)});
  if (most > std::numeric_limits<uint32_t>::max()) {
    fmt::print(stderr, "pricing_bench: at most {} rows\n", std::numeric_limits<uint32_t>::max());
    return 2;
  }
  Scale(data, options.rows, bucket_us);
  fmt::print(
      "real data: {} Linux/UNIX rows, {} pools, parsed in {:.2f} s ({} rows/s); span shift "
      "{:.2f} days per copy\n",
      Thousands(static_cast<int64_t>(data.rows.size())), data.pools.size(), data.parse_seconds,
      Thousands(static_cast<int64_t>(data.rows.size() / data.parse_seconds)),
      data.shift_us / 86'400e6);
  fmt::print(
      "pipeline: {} observations = {} copies of the real rows (last one {})\n", Thousands(data.n),
      data.copies,
      data.n % static_cast<int64_t>(data.rows.size()) == 0
          ? "whole"
          : fmt::format("{} rows", Thousands(data.n % static_cast<int64_t>(data.rows.size()))));
  std::fflush(stdout);

  Report report;
  bool met = true;
  // Memory first, while the process is small, so the peak it reads is its own.
  if (const int64_t rows = options.memory_rows.value_or(options.rows); rows > 0) {
    if (absl::Status s = MeasureMemory(data, rows, options.memory_shuffled, report); !s.ok()) {
      fmt::print(stderr, "pricing_bench: MemoryStore: {}\n", s.ToString());
      return 1;
    }
  }
  met = MeasurePipeline(data, options, report) && met;
  const int64_t ingest_rows = options.ingest_rows.value_or(options.rows);
  const int64_t import_rows = options.import_rows.value_or(options.rows);
  if (ingest_rows > 0 || import_rows > 0) {
    absl::StatusOr<bool> ingest_met =
        MeasureIngest(data, ingest_rows, import_rows, options, report);
    if (!ingest_met.ok()) {
      fmt::print(stderr, "pricing_bench: {}\n", ingest_met.status().ToString());
      return 1;
    }
    met = *ingest_met && met;
  }
  report.Print();
  fmt::print("\nload average at the end: {}\n", LoadAverage());
  return options.check && !met ? 1 : 0;
}

}  // namespace
}  // namespace spotopt::bench

int main(int argc, char** argv) {
  spotopt::bench::Options options;
  if (!spotopt::bench::ParseOptions(argc, argv, options)) return 2;
  return spotopt::bench::Run(options);
}
