// The agent wire protocol v4, transport-agnostic: (method, target, headers, body)
// in, (status, headers, body) out. Any HTTP server becomes a backend for the
// deployed agents by passing its requests through AgentProtocol::Handle.
//
// Thread safety: Handle may be called from many threads at once.
// Every response has a JSON body and a JSON content type; errors are
// {"error": <code>, "message": <why>} with the status codes of protocol section 1.5.
#ifndef SPOTOPT_PROTOCOL_HANDLER_H_
#define SPOTOPT_PROTOCOL_HANDLER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spotopt/service/controller.h"

namespace spotopt::protocol {

struct Header {
  std::string_view name;  // compared case-insensitively
  std::string_view value;
};

struct Request {
  std::string_view method;
  std::string_view target;  // path with query, as on the request line
  std::vector<Header> headers;
  std::string_view body;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The route template that answered ("/api/agents/{id}/heartbeat"), or "unknown":
  // a low-cardinality label for metrics and logs.
  std::string_view route = "unknown";
};

// A response with a JSON body and the protocol's content type.
SPOTOPT_EXPORT Response JsonResponse(int status, std::string body);
// The protocol's error answer: {"error": <code>, "message": <why>} with the HTTP
// status of section 1.5 for the Status's code; 503 carries Retry-After. Hosts use it
// for the routes they answer themselves, so every error looks the same.
SPOTOPT_EXPORT Response ErrorResponse(const absl::Status& status);
// For answers absl has no code for (405, 431).
SPOTOPT_EXPORT Response ErrorResponse(int http_status, std::string_view code,
                                      std::string_view message);

class SPOTOPT_EXPORT AgentProtocol {
 public:
  explicit AgentProtocol(Controller& controller) : controller_(controller) {}
  Response Handle(const Request& request);

 private:
  Controller& controller_;
};

}  // namespace spotopt::protocol

#endif  // SPOTOPT_PROTOCOL_HANDLER_H_
