// Constant-rate load for bench/server/run_bench.py: wrk measures how fast a server
// can go, this measures latency at a given rate (Debian has wrk 4, without wrk2's
// -R). Request n is due at start + n / RATE; each keep-alive connection sends its
// share in order, and a request's latency counts from when it was due, not from
// when it could be sent, so a stall shows in the percentiles instead of silently
// lowering the rate (coordinated omission).
//
// Usage: spotopt-rate-client PORT AGENTS_FILE ROUTE RATE SECONDS [CONNECTIONS] [THREADS]
//   AGENTS_FILE: "token registration_id" lines; ROUTE: heartbeat, poll, config, pricing,
//   mix (the agent's own ratio, see kMinute) or fixed (heartbeats, for the baseline).
// Prints one line: sent=N errors=N rate=R (answers per second of the whole run)
// p50_ms=.. p90_ms=.. p99_ms=.. p999_ms=.. max_ms=..; then one with each call's p99
// (heartbeat_p99_ms=.. and so on), for the calls the route sent.
#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

enum class Call { kHeartbeat, kPoll, kConfig, kReplicaPoll, kPricing };
constexpr std::array<std::string_view, 5> kCallNames = {"heartbeat", "poll", "config", "replicas",
                                                        "pricing"};

// One agent's default minute (protocol section 5): 4 command polls (15 s),
// 2 heartbeats (30 s), 2 replica polls (30 s), 1 config read (60 s). The mix is five
// such minutes and one pricing report (300 s); cleanup reports (1 h) are left out.
constexpr std::array<Call, 9> kMinute = {Call::kPoll,        Call::kHeartbeat, Call::kPoll,
                                         Call::kReplicaPoll, Call::kConfig,    Call::kPoll,
                                         Call::kHeartbeat,   Call::kPoll,      Call::kReplicaPoll};
constexpr size_t kMixLength = 5 * kMinute.size() + 1;

// What agent v4 sends (protocol section 5.6) from the benchmark fleet's pool: three
// AZs of its type and the on-demand price, observed at `collected_at`.
std::string PricingBody(std::time_t collected_at) {
  std::tm utc{};
  gmtime_r(&collected_at, &utc);
  std::array<char, 40> when{};  // 32 characters and the NUL
  std::strftime(when.data(), when.size(), "%Y-%m-%dT%H:%M:%S.000000+00:00", &utc);
  return std::string(
             R"({"instance":{"instance_id":"i-0a1b2c3d4e5f67890","instance_type":"m5.large",)"
             R"("region":"us-east-1","az":"us-east-1a","mode":"spot","pool_id":"m5.large.us-east-1a"},)"
             R"("pricing":{"on_demand_price":0.096,"current_spot_price":0.0389,)"
             R"("cheapest_pool":{"pool_id":"m5.large.us-east-1c","price":0.0342},"spot_pools":[)"
             R"({"pool_id":"m5.large.us-east-1a","instance_type":"m5.large","az":"us-east-1a","price":0.0389},)"
             R"({"pool_id":"m5.large.us-east-1b","instance_type":"m5.large","az":"us-east-1b","price":0.0411},)"
             R"({"pool_id":"m5.large.us-east-1c","instance_type":"m5.large","az":"us-east-1c","price":0.0342}],)"
             R"("collected_at":")") +
         when.data() + R"("}})";
}

struct Agent {
  std::string token;
  std::string id;
};

struct Plan {
  std::vector<Agent> agents;
  std::string route;
  std::string pricing_body;
  Clock::time_point start;
  Clock::time_point end;
  std::chrono::nanoseconds period;  // between two requests, over all connections
  int connections = 0;
};

Call CallFor(const Plan& plan, uint64_t n) {
  if (plan.route == "mix") {
    const size_t k = n % kMixLength;
    return k + 1 == kMixLength ? Call::kPricing : kMinute[k % kMinute.size()];
  }
  if (plan.route == "poll") return Call::kPoll;
  if (plan.route == "config") return Call::kConfig;
  if (plan.route == "pricing") return Call::kPricing;
  return Call::kHeartbeat;  // heartbeat, fixed
}

void Build(const Plan& plan, uint64_t n, http::request<http::string_body>& req) {
  const Agent& a = plan.agents[n % plan.agents.size()];
  req = {};
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + a.token);
  req.set(http::field::content_type, "application/json");
  const std::string base = "/api/agents/" + a.id;
  switch (CallFor(plan, n)) {
    case Call::kHeartbeat:
      req.method(http::verb::post);
      req.target(base + "/heartbeat");
      req.body() = R"({"status":"online"})";
      break;
    case Call::kPoll:
      req.method(http::verb::get);
      req.target(base + "/pending-commands");
      break;
    case Call::kConfig:
      req.method(http::verb::get);
      req.target(base + "/config");
      break;
    case Call::kReplicaPoll:
      req.method(http::verb::get);
      req.target(base + "/replicas?status=launching");
      break;
    case Call::kPricing:
      req.method(http::verb::post);
      req.target(base + "/pricing-report");
      req.body() = plan.pricing_body;
      break;
  }
  req.prepare_payload();
}

// Connection k sends requests k, k + C, k + 2C, ... each at its due time.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, const Plan& plan, int index)
      : plan_(plan),
        index_(index),
        stream_(net::make_strand(ioc)),
        timer_(stream_.get_executor()) {}

  bool Connect(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    stream_.socket().connect(endpoint, ec);
    if (!ec) stream_.socket().set_option(tcp::no_delay(true), ec);
    return !ec;
  }

  void Start() { Next(); }

  // Each answered request's latency, in microseconds, by call.
  const std::array<std::vector<int64_t>, kCallNames.size()>& latencies_us() const {
    return latencies_us_;
  }
  uint64_t errors() const { return errors_; }

 private:
  void Next() {
    n_ = static_cast<uint64_t>(index_) + sent_ * static_cast<uint64_t>(plan_.connections);
    due_ = plan_.start + plan_.period * static_cast<int64_t>(n_);
    if (due_ >= plan_.end) return;
    timer_.expires_at(due_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Send();
    });
  }

  void Send() {
    Build(plan_, n_, req_);
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail();
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec, size_t) { self->OnRead(ec); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Fail();
    latencies_us_[static_cast<size_t>(CallFor(plan_, n_))].push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - due_).count());
    if (res_.result() != http::status::ok) ++errors_;
    ++sent_;
    Next();
  }

  // A broken connection ends its share; the requests it did not send count as errors.
  void Fail() {
    const auto left = (plan_.end - due_) / (plan_.period * plan_.connections) + 1;
    errors_ += static_cast<uint64_t>(std::max<int64_t>(left, 1));
  }

  const Plan& plan_;
  const int index_;
  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  uint64_t sent_ = 0;
  uint64_t n_ = 0;
  Clock::time_point due_;
  std::array<std::vector<int64_t>, kCallNames.size()> latencies_us_;
  uint64_t errors_ = 0;
};

std::vector<Agent> ReadAgents(const char* path) {
  std::vector<Agent> agents;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Agent a;
    if (fields >> a.token >> a.id) agents.push_back(std::move(a));
  }
  return agents;
}

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return static_cast<double>(sorted[i]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s PORT AGENTS_FILE ROUTE RATE SECONDS [CONNECTIONS] [THREADS]\n",
                 argv[0]);
    return 2;
  }
  Plan plan;
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  plan.agents = ReadAgents(argv[2]);
  plan.route = argv[3];
  const double rate = std::atof(argv[4]);
  const double seconds = std::atof(argv[5]);
  plan.connections = argc > 6 ? std::atoi(argv[6]) : 64;
  const int threads = argc > 7 ? std::atoi(argv[7]) : 1;
  const std::array<std::string_view, 6> routes = {"heartbeat", "poll", "config",
                                                  "pricing",   "mix",  "fixed"};
  if (plan.agents.empty() || rate <= 0 || seconds <= 0 || plan.connections < 1 || threads < 1 ||
      std::find(routes.begin(), routes.end(), plan.route) == routes.end()) {
    std::fprintf(stderr, "%s: bad arguments or empty agents file\n", argv[0]);
    return 2;
  }
  plan.period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / rate));
  plan.pricing_body = PricingBody(std::time(nullptr));

  net::io_context ioc(threads);
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  std::vector<std::shared_ptr<Connection>> connections;
  for (int k = 0; k < plan.connections; ++k) {
    connections.push_back(std::make_shared<Connection>(ioc, plan, k));
    if (!connections.back()->Connect(endpoint)) {
      std::fprintf(stderr, "%s: cannot connect to port %u\n", argv[0], port);
      return 1;
    }
  }
  // A short lead so that the first requests are not already late.
  plan.start = Clock::now() + std::chrono::milliseconds(50);
  plan.end = plan.start + std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
  for (auto& c : connections) c->Start();
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (std::thread& t : pool) t.join();
  // Achieved, not asked for: a server that falls behind takes longer than SECONDS.
  const double elapsed = std::chrono::duration<double>(Clock::now() - plan.start).count();

  std::vector<int64_t> all;
  std::array<std::vector<int64_t>, kCallNames.size()> by_call;
  uint64_t errors = 0;
  for (const auto& c : connections) {
    for (size_t k = 0; k < by_call.size(); ++k) {
      by_call[k].insert(by_call[k].end(), c->latencies_us()[k].begin(), c->latencies_us()[k].end());
      all.insert(all.end(), c->latencies_us()[k].begin(), c->latencies_us()[k].end());
    }
    errors += c->errors();
  }
  std::sort(all.begin(), all.end());
  std::printf(
      "sent=%zu errors=%llu rate=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
      "max_ms=%.3f\n",
      all.size(), static_cast<unsigned long long>(errors),
      static_cast<double>(all.size()) / std::max(elapsed, seconds), Percentile(all, 0.50),
      Percentile(all, 0.90), Percentile(all, 0.99), Percentile(all, 0.999),
      all.empty() ? 0.0 : static_cast<double>(all.back()) / 1000.0);
  // Which call a mix's tail comes from: each call's own p99, on a second line.
  std::string calls;
  for (size_t k = 0; k < by_call.size(); ++k) {
    if (by_call[k].empty()) continue;
    std::sort(by_call[k].begin(), by_call[k].end());
    calls += fmt::format("{}{}_p99_ms={:.3f}", calls.empty() ? "" : " ", kCallNames[k],
                         Percentile(by_call[k], 0.99));
  }
  std::printf("%s\n", calls.c_str());
  return 0;
}
