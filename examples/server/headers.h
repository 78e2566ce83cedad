// A request header by name, compared as HTTP compares names: ignoring case.
#ifndef SPOTOPT_EXAMPLES_SERVER_HEADERS_H_
#define SPOTOPT_EXAMPLES_SERVER_HEADERS_H_

#include <string_view>

#include <strings.h>

#include "spotopt/protocol/handler.h"

namespace spotopt::server {

// The first header called `name`; empty when there is none.
inline std::string_view HeaderValue(const protocol::Request& request, std::string_view name) {
  for (const protocol::Header& h : request.headers) {
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0)
      return h.value;
  }
  return {};
}

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_HEADERS_H_
