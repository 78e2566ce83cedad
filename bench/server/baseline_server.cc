// The yardstick for spotopt-server's HTTP overhead: the same Beast/Asio shape
// (async accept, keep-alive, one io_context run by a thread per core) answering
// every request with a fixed 200 JSON body, no store, no routing.
//
// Usage: spotopt-baseline-server PORT [THREADS]
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket&& socket) : stream_(std::move(socket)) {
    stream_.socket().set_option(tcp::no_delay(true));
  }
  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }
  void OnRead(beast::error_code ec, size_t) {
    if (ec) return stream_.close();
    res_ = {http::status::ok, req_.version()};
    res_.set(http::field::content_type, "application/json; charset=utf-8");
    res_.body() = R"({"success":true,"config_version":1})";
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }
  void OnWrite(beast::error_code ec, size_t) {
    if (ec || !res_.keep_alive()) return stream_.close();
    Read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void Accept(net::io_context& ioc, tcp::acceptor& acceptor) {
  acceptor.async_accept(net::make_strand(ioc), [&](beast::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Session>(std::move(socket))->Start();
    Accept(ioc, acceptor);
  });
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const int threads = argc > 2
                          ? std::atoi(argv[2])
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  net::io_context ioc(threads);
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), port});
  Accept(ioc, acceptor);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
}
