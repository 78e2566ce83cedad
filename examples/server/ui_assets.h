// The dashboard's built files (ui/), compiled into spotopt-server: the build bundles
// ui/src with esbuild and ui/embed.mjs turns the result into ui_assets.cc, so the
// server needs no files beside it.
#ifndef SPOTOPT_EXAMPLES_SERVER_UI_ASSETS_H_
#define SPOTOPT_EXAMPLES_SERVER_UI_ASSETS_H_

#include <span>
#include <string_view>

namespace spotopt::server {

struct UiAsset {
  std::string_view name;          // "index.html", "app.js", ...
  std::string_view content_type;  // with charset for text
  std::string_view etag;          // quoted strong validator of the body
  std::string_view body;
};

std::span<const UiAsset> UiAssets();

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_UI_ASSETS_H_
