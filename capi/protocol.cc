// The C ABI: the agent protocol handler, for hosts that serve the deployed agents.
#include "common.h"

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "spotopt/protocol/handler.h"

namespace {

using spotopt::capi::CopyOut;
using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::Require;

spotopt_status CheckBody(const char* function, const char* body, size_t body_len) {
  if (body == nullptr && body_len != 0) {
    return Fail(SPOTOPT_INVALID_ARGUMENT,
                fmt::format("{}: body is NULL but body_len is {}", function, body_len));
  }
  return SPOTOPT_OK;
}

std::string_view BodyView(const char* body, size_t body_len) {
  return body == nullptr ? std::string_view() : std::string_view(body, body_len);
}

// The response of spotopt_handle_http and the storage its pointers point into.
struct HttpResponse : spotopt_http_response {
  explicit HttpResponse(spotopt::protocol::Response response)
      : spotopt_http_response{}, owned(std::move(response)) {
    header_array.reserve(owned.headers.size());
    for (const auto& [name, value] : owned.headers) {
      header_array.push_back(spotopt_header{name.c_str(), value.c_str()});
    }
    status = owned.status;
    headers = header_array.data();
    header_count = header_array.size();
    body = owned.body.c_str();
    body_len = owned.body.size();
  }
  spotopt::protocol::Response owned;
  std::vector<spotopt_header> header_array;
};

}  // namespace

extern "C" {

// ---- Agent protocol --------------------------------------------------------------------

spotopt_status spotopt_handle_request(spotopt_controller* controller, const char* method,
                                      const char* target, const char* authorization,
                                      const char* body, size_t body_len, int* http_status_out,
                                      char** response_body_out) {
  constexpr const char* kFn = "spotopt_handle_request";
  return Guard(kFn, [&] {
    if (spotopt_status s =
            Require(kFn, {{controller, "controller"}, {method, "method"}, {target, "target"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (spotopt_status s = CheckBody(kFn, body, body_len); s != SPOTOPT_OK) return s;
    if (spotopt_status s = Require(
            kFn, {{http_status_out, "http_status_out"}, {response_body_out, "response_body_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    spotopt::protocol::Request request{
        .method = method, .target = target, .body = BodyView(body, body_len)};
    if (authorization != nullptr) request.headers.push_back({"Authorization", authorization});
    const spotopt::protocol::Response response = controller->protocol.Handle(request);
    *response_body_out = CopyOut(response.body).release();
    *http_status_out = response.status;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_handle_http(spotopt_controller* controller, const char* method,
                                   const char* target, const spotopt_header* headers,
                                   size_t header_count, const char* body, size_t body_len,
                                   spotopt_http_response** response_out) {
  constexpr const char* kFn = "spotopt_handle_http";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {method, "method"},
                                         {target, "target"},
                                         {response_out, "response_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (headers == nullptr && header_count != 0) {
      return Fail(SPOTOPT_INVALID_ARGUMENT,
                  fmt::format("{}: headers is NULL but header_count is {}", kFn, header_count));
    }
    if (spotopt_status s = CheckBody(kFn, body, body_len); s != SPOTOPT_OK) return s;
    spotopt::protocol::Request request{
        .method = method, .target = target, .body = BodyView(body, body_len)};
    request.headers.reserve(header_count);
    for (size_t i = 0; i < header_count; ++i) {
      if (headers[i].name == nullptr || headers[i].value == nullptr) {
        return Fail(SPOTOPT_INVALID_ARGUMENT,
                    fmt::format("{}: headers[{}] has a NULL name or value", kFn, i));
      }
      request.headers.push_back({headers[i].name, headers[i].value});
    }
    *response_out = new HttpResponse(controller->protocol.Handle(request));
    return SPOTOPT_OK;
  });
}

void spotopt_http_response_free(spotopt_http_response* response) {
  Guard("spotopt_http_response_free", [&] {
    delete static_cast<HttpResponse*>(response);
    return SPOTOPT_OK;
  });
}

}  // extern "C"
