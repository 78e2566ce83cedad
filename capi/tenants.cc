// The C ABI: tenants and their API tokens.
#include "common.h"

#include <string_view>

namespace {

using spotopt::capi::CopyOut;
using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::JsonOut;
using spotopt::capi::OutString;
using spotopt::capi::Require;
using spotopt::capi::StatusOut;
using spotopt::protocol::JsonArray;

using TenantTransition = absl::Status (spotopt::Controller::*)(std::string_view);

spotopt_status ChangeTenant(const char* function, spotopt_controller* controller,
                            const char* tenant_id, TenantTransition transition) {
  return Guard(function, [&] {
    if (spotopt_status s =
            Require(function, {{controller, "controller"}, {tenant_id, "tenant_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut((controller->controller.*transition)(tenant_id));
  });
}

}  // namespace

extern "C" {

// ---- Tenants and tokens ----------------------------------------------------------

spotopt_status spotopt_tenant_create(spotopt_controller* controller, const char* name,
                                     char** tenant_id_out, char** token_out) {
  constexpr const char* kFn = "spotopt_tenant_create";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {name, "name"},
                                         {tenant_id_out, "tenant_id_out"},
                                         {token_out, "token_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto created = controller->controller.CreateTenant(name);
    if (!created.ok()) return Fail(created.status());
    OutString id = CopyOut(created->tenant.id);
    OutString token = CopyOut(created->token);
    *tenant_id_out = id.release();
    *token_out = token.release();
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tenant_get(spotopt_controller* controller, const char* tenant_id,
                                  char** tenant_json_out) {
  constexpr const char* kFn = "spotopt_tenant_get";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {tenant_json_out, "tenant_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.GetTenant(tenant_id), spotopt::protocol::TenantJson,
                   tenant_json_out);
  });
}

spotopt_status spotopt_tenant_list(spotopt_controller* controller, char** tenants_json_out) {
  constexpr const char* kFn = "spotopt_tenant_list";
  return Guard(kFn, [&] {
    if (spotopt_status s =
            Require(kFn, {{controller, "controller"}, {tenants_json_out, "tenants_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.ListTenants(),
        [](const auto& v) { return JsonArray(v, spotopt::protocol::TenantJson); },
        tenants_json_out);
  });
}

spotopt_status spotopt_tenant_suspend(spotopt_controller* controller, const char* tenant_id) {
  return ChangeTenant("spotopt_tenant_suspend", controller, tenant_id,
                      &spotopt::Controller::SuspendTenant);
}

spotopt_status spotopt_tenant_reactivate(spotopt_controller* controller, const char* tenant_id) {
  return ChangeTenant("spotopt_tenant_reactivate", controller, tenant_id,
                      &spotopt::Controller::ReactivateTenant);
}

spotopt_status spotopt_tenant_delete(spotopt_controller* controller, const char* tenant_id) {
  return ChangeTenant("spotopt_tenant_delete", controller, tenant_id,
                      &spotopt::Controller::DeleteTenant);
}

spotopt_status spotopt_tenant_rotate_token(spotopt_controller* controller, const char* tenant_id,
                                           char** token_out) {
  constexpr const char* kFn = "spotopt_tenant_rotate_token";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {token_out, "token_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto token = controller->controller.RotateToken(tenant_id);
    if (!token.ok()) return Fail(token.status());
    *token_out = CopyOut(*token).release();
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tenant_authenticate(spotopt_controller* controller, const char* token,
                                           char** tenant_id_out) {
  constexpr const char* kFn = "spotopt_tenant_authenticate";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {token, "token"}, {tenant_id_out, "tenant_id_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto tenant = controller->controller.Authenticate(token);
    if (!tenant.ok()) return Fail(tenant.status());
    *tenant_id_out = CopyOut(tenant->id).release();
    return SPOTOPT_OK;
  });
}

}  // extern "C"
