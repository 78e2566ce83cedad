// The HTTP/1.1 transport of spotopt-server (Boost.Beast): async accept, keep-alive,
// bounded requests, per-request read deadline, graceful stop on SIGTERM/SIGINT.
// Beast stays inside http_server.cc; the rest of the server sees protocol::Request
// and protocol::Response only.
#ifndef SPOTOPT_EXAMPLES_SERVER_HTTP_SERVER_H_
#define SPOTOPT_EXAMPLES_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "metrics.h"
#include "spotopt/protocol/handler.h"

namespace spotopt::server {

struct HttpOptions {
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6
  uint16_t port = 5000;
  int threads = 1;
  // A whole request (headers and body), and an idle keep-alive connection, must
  // arrive within this; slow clients cannot hold a connection longer.
  Duration read_timeout = absl::Seconds(30);
  size_t body_limit = 256 * 1024;   // larger: 413 without reading the rest
  size_t header_limit = 16 * 1024;  // larger: 431
};

// Answers one complete request; called on the server's threads, concurrently.
using Dispatch = std::function<protocol::Response(const protocol::Request&)>;

class HttpServer {
 public:
  HttpServer(HttpOptions options, Dispatch dispatch, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; Unavailable when the address cannot be bound.
  absl::Status Listen();
  // `task` runs every `interval` until the server stops, on the thread of the periodic
  // tasks (one at a time, below the request threads' priority).
  void Every(Duration interval, std::function<void()> task);
  // Serves until SIGTERM or SIGINT, then stops accepting, closes idle connections,
  // lets in-flight requests finish, and returns.
  void Run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_HTTP_SERVER_H_
