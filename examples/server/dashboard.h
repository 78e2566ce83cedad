// The operator dashboard at /ui: the embedded files of ui_assets.h, sent with a
// Content-Security-Policy that allows only the dashboard's own script, styles and
// requests to this server. The page calls the management API like any client, with
// the operator token the operator types in; these routes need no token and hold no
// data.
#ifndef SPOTOPT_EXAMPLES_SERVER_DASHBOARD_H_
#define SPOTOPT_EXAMPLES_SERVER_DASHBOARD_H_

#include "spotopt/protocol/handler.h"

namespace spotopt::server {

// Whether `path` (no query) is one of the dashboard's.
bool IsDashboardPath(std::string_view path);

// GET /ui and /ui/ (the page), /ui/<file>; 304 for a matching If-None-Match.
protocol::Response ServeDashboard(const protocol::Request& request);

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_DASHBOARD_H_
