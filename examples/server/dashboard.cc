#include "dashboard.h"

#include <algorithm>

#include "headers.h"
#include "ui_assets.h"

namespace spotopt::server {
namespace {

constexpr std::string_view kPrefix = "/ui";

// Only the bundle's own files run and style the page, and it may talk to this server
// only: no inline script or style, no other origin, no framing, no form posts.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const UiAsset* Find(std::string_view name) {
  const std::span<const UiAsset> assets = UiAssets();
  const auto it = std::ranges::find(assets, name, &UiAsset::name);
  return it == assets.end() ? nullptr : &*it;
}

protocol::Response Answer(const protocol::Request& request) {
  if (request.method != "GET") {
    protocol::Response response = protocol::ErrorResponse(405, "method_not_allowed", "GET only");
    response.headers.emplace_back("Allow", "GET");
    return response;
  }
  std::string_view name = request.target.substr(0, request.target.find('?'));
  name.remove_prefix(std::min(name.size(), kPrefix.size() + 1));
  const UiAsset* asset = Find(name.empty() ? "index.html" : name);
  if (!asset) return protocol::ErrorResponse(absl::NotFoundError("no such dashboard file"));
  protocol::Response response;
  response.headers = {
      {"Content-Type", std::string(asset->content_type)},
      {"Content-Security-Policy", std::string(kContentSecurityPolicy)},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      // Revalidated on every load (a cheap 304), so a new server build shows at once.
      {"Cache-Control", "no-cache"},
      {"ETag", std::string(asset->etag)},
  };
  if (HeaderValue(request, "if-none-match").find(asset->etag) != std::string_view::npos) {
    response.status = 304;
  } else {
    response.body = asset->body;
  }
  return response;
}

}  // namespace

bool IsDashboardPath(std::string_view path) {
  return path == kPrefix || (path.starts_with(kPrefix) && path[kPrefix.size()] == '/');
}

protocol::Response ServeDashboard(const protocol::Request& request) {
  protocol::Response response = Answer(request);
  response.route = kPrefix;
  return response;
}

}  // namespace spotopt::server
