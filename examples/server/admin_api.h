// The management API for operators under /api/admin/: tenants, their agents,
// config, switches, replicas, commands, incidents and events. JSON in and out,
// authenticated with an operator token (see operator_tokens.h) as a Bearer token.
//
// Thread safety: Handle may be called from many threads at once.
#ifndef SPOTOPT_EXAMPLES_SERVER_ADMIN_API_H_
#define SPOTOPT_EXAMPLES_SERVER_ADMIN_API_H_

#include "operator_tokens.h"
#include "spotopt/protocol/handler.h"
#include "spotopt/service/controller.h"

namespace spotopt::server {

class AdminApi {
 public:
  AdminApi(Controller& controller, OperatorTokens& operators)
      : controller_(controller), operators_(operators) {}

  protocol::Response Handle(const protocol::Request& request);

 private:
  protocol::Response Answer(const protocol::Request& request);

  Controller& controller_;
  OperatorTokens& operators_;
};

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_ADMIN_API_H_
