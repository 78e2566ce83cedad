#include "http_server.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <unordered_map>
#include <vector>

#include "log.h"

namespace spotopt::server {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Route label of requests refused before they reached a handler.
constexpr std::string_view kRejectedRoute = "rejected";
// After a refusal the client may still be sending; read and drop up to this much
// (for at most a second) so it sees our answer instead of a reset.
constexpr size_t kDrainLimit = 1024 * 1024;
// Periodic tasks run below the request threads. A fleet decision run takes seconds
// of CPU; on a request thread it held requests back by up to 120 ms (p99) while it
// ran, and even at nice 19 a request thread waited up to 8 ms for the CPU. Under
// SCHED_IDLE a request thread that wakes takes the CPU at once; the task still gets
// what the requests leave (and a sliver under full load), so it finishes.
void LowerToIdlePriority() {
  sched_param param{};
  param.sched_priority = 0;
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
}

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpOptions options, Dispatch dispatch, Metrics& metrics)
      : options_(std::move(options)),
        dispatch_(std::move(dispatch)),
        metrics_(metrics),
        ioc_(options_.threads),
        control_(net::make_strand(ioc_)),
        acceptor_(control_),
        signals_(control_, SIGINT, SIGTERM) {}

  absl::Status Listen();
  void Every(Duration interval, std::function<void()> task);
  void Run();

  const HttpOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  protocol::Response Handle(const protocol::Request& r) { return dispatch_(r); }
  Metrics& metrics() { return metrics_; }

  class Session;
  void Forget(Session* s) {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(s);
  }

 private:
  struct Periodic {
    std::chrono::microseconds interval;
    std::function<void()> task;
    std::unique_ptr<net::steady_timer> timer;  // on tasks_
  };

  void Accept();
  void Arm(Periodic& p);
  void Stop();

  const HttpOptions options_;
  const Dispatch dispatch_;
  Metrics& metrics_;
  net::io_context ioc_;
  // Acceptor, signals and timers are touched only on this strand.
  net::strand<net::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  // Periodic tasks and their timers, run one at a time on a thread of their own.
  net::io_context tasks_{1};
  std::vector<std::unique_ptr<Periodic>> periodic_;
  std::atomic<bool> stopping_{false};
  std::mutex sessions_mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mu_
};

// One connection. Its handlers run on its own strand, one at a time.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    remote_ = stream_.socket().remote_endpoint(ec);
  }
  ~Session() { server_.Forget(this); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

  // Closes the connection if it is waiting for a request; one being answered is
  // finished first and then closed.
  void Stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_) self->stream_.cancel();
    });
  }

 private:
  void Read() {
    if (server_.stopping()) return Close();
    parser_.emplace();
    parser_->body_limit(server_.options().body_limit);
    parser_->header_limit(static_cast<uint32_t>(server_.options().header_limit));
    stream_.expires_after(absl::ToChronoMicroseconds(server_.options().read_timeout));
    reading_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    reading_ = false;
    if (ec == http::error::body_limit) {
      return Reject(413, "payload_too_large",
                    fmt::format("body: larger than {} bytes", server_.options().body_limit));
    }
    if (ec == http::error::header_limit) {
      return Reject(431, "header_too_large", "request headers too large");
    }
    // Any other parse error is a malformed request; everything else (timeout, reset,
    // end of stream, stop) just ends the connection.
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Reject(400, "invalid_argument", fmt::format("malformed request: {}", ec.message()));
    }
    if (ec) return Close();
    Answer();
  }

  void Answer() {
    const auto start = std::chrono::steady_clock::now();
    const http::request<http::string_body>& req = parser_->get();
    protocol::Request request{
        .method = View(req.method_string()), .target = View(req.target()), .body = req.body()};
    request.headers.reserve(16);
    for (const auto& field : req) {
      request.headers.push_back({View(field.name_string()), View(field.value())});
    }
    protocol::Response response = server_.Handle(request);
    const bool keep_alive = req.keep_alive() && !server_.stopping();
    // Checked here: Log's arguments (the peer's address text) would be built anyway.
    if (LogEnabled(LogLevel::kDebug)) {
      Log(LogLevel::kDebug, "request", "method={} route={} status={} us={} remote={}",
          request.method, response.route, response.status,
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                start)
              .count(),
          remote_.address().to_string());
    }
    Write(std::move(response), req.version(), keep_alive, start);
  }

  void Reject(int status, std::string_view code, std::string message) {
    Log(LogLevel::kDebug, "request refused", "status={} reason=\"{}\" remote={}", status, message,
        remote_.address().to_string());
    protocol::Response response = protocol::ErrorResponse(status, code, message);
    response.route = kRejectedRoute;
    Write(std::move(response), 11, false, std::chrono::steady_clock::now());
  }

  void Write(protocol::Response response, unsigned version, bool keep_alive,
             std::chrono::steady_clock::time_point start) {
    res_ = {};
    res_.result(static_cast<unsigned>(response.status));
    res_.version(version);
    for (auto& [name, value] : response.headers) res_.insert(name, value);
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    server_.metrics().RecordRequest(response.route, response.status,
                                    absl::FromChrono(std::chrono::steady_clock::now() - start));
    stream_.expires_after(absl::ToChronoMicroseconds(server_.options().read_timeout));
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) return Close();
    if (!res_.keep_alive()) return Linger();
    Read();
  }

  // Half-close, then drop what the client still sends, so it reads our answer.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(std::chrono::seconds(1));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kDrainLimit) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Impl& server_;
  tcp::endpoint remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  bool reading_ = false;
  std::array<char, 4096> drain_;
  size_t drained_ = 0;
};

absl::Status HttpServer::Impl::Listen() {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec)
    return absl::InvalidArgumentError(fmt::format("--listen: bad address {}", options_.address));
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("cannot listen on {}:{}: {}", options_.address, options_.port, ec.message()));
  }
  const tcp::endpoint bound = acceptor_.local_endpoint(ec);
  Log(LogLevel::kInfo, "listening", "address={} port={} threads={}", bound.address().to_string(),
      bound.port(), options_.threads);
  return absl::OkStatus();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping()) return;
    if (ec) {
      // Out of file descriptors and the like: back off briefly instead of spinning.
      Log(LogLevel::kWarn, "accept failed", "error=\"{}\"", ec.message());
      auto timer = std::make_shared<net::steady_timer>(control_, std::chrono::milliseconds(100));
      timer->async_wait([this, timer](beast::error_code) {
        if (!stopping()) Accept();
      });
      return;
    }
    auto session = std::make_shared<Session>(std::move(socket), *this);
    {
      std::lock_guard lock(sessions_mu_);
      sessions_.emplace(session.get(), session);
    }
    session->Start();
    Accept();
  });
}

void HttpServer::Impl::Every(Duration interval, std::function<void()> task) {
  auto p = std::make_unique<Periodic>();
  p->interval = absl::ToChronoMicroseconds(interval);
  p->task = std::move(task);
  p->timer = std::make_unique<net::steady_timer>(tasks_);
  periodic_.push_back(std::move(p));
}

void HttpServer::Impl::Arm(Periodic& p) {
  // Every `interval` from the first run on; a run that overran starts the next at once.
  p.timer->expires_at(
      std::max(p.timer->expiry() + p.interval, net::steady_timer::clock_type::now()));
  p.timer->async_wait([this, &p](beast::error_code ec) {
    if (ec || stopping()) return;
    p.task();
    Arm(p);
  });
}

void HttpServer::Impl::Stop() {
  stopping_.store(true, std::memory_order_release);
  beast::error_code ec;
  acceptor_.close(ec);
  net::post(tasks_, [this] {
    for (auto& p : periodic_) p->timer->cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->Stop();
  Log(LogLevel::kInfo, "stopping", "open_connections={}", live.size());
}

void HttpServer::Impl::Run() {
  for (auto& p : periodic_) {
    p->timer->expires_at(net::steady_timer::clock_type::now());
    Arm(*p);
  }
  std::thread tasks([this] {
    LowerToIdlePriority();
    tasks_.run();  // returns once Stop has cancelled the timers
  });
  net::dispatch(control_, [this] {
    Accept();
    signals_.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      Log(LogLevel::kInfo, "signal received", "signal={}", signal);
      Stop();
    });
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (std::thread& t : threads) t.join();
  tasks.join();
}

HttpServer::HttpServer(HttpOptions options, Dispatch dispatch, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dispatch), metrics)) {}
HttpServer::~HttpServer() = default;
absl::Status HttpServer::Listen() { return impl_->Listen(); }
void HttpServer::Every(Duration interval, std::function<void()> task) {
  impl_->Every(interval, std::move(task));
}
void HttpServer::Run() { impl_->Run(); }

}  // namespace spotopt::server
