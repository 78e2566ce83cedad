// The C ABI: decisions, the decision log, and the engines that make them, including
// a host's own through a function pointer.
#include <memory>
#include <string>

#include "common.h"
#include "protocol/decision_views.h"
#include "spotopt/decision/json.h"

namespace {

using spotopt::capi::ArrayOf;
using spotopt::capi::CopyOut;
using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::JsonOut;
using spotopt::capi::Require;
using spotopt::capi::StatusOut;

// A host's engine behind the C function pointer: the input goes out as JSON, the
// answer comes back as JSON and is parsed like any host engine's.
class HostEngine final : public spotopt::decision::Engine {
 public:
  HostEngine(std::string name, std::string version, spotopt_engine_fn fn, void* user_data,
             spotopt_release_fn release)
      : name_(std::move(name)),
        version_(std::move(version)),
        fn_(fn),
        user_data_(user_data),
        release_(release) {}
  ~HostEngine() override {
    if (release_ != nullptr) release_(user_data_);
  }
  // A registration that failed leaves user_data with the caller: no release then.
  void Disarm() { release_ = nullptr; }
  HostEngine(const HostEngine&) = delete;
  HostEngine& operator=(const HostEngine&) = delete;

  std::string_view name() const override { return name_; }
  std::string_view version() const override { return version_; }
  absl::StatusOr<spotopt::decision::Decision> Decide(
      const spotopt::decision::DecisionInput& in) const override {
    const std::string input = spotopt::decision::InputToJson(in);
    const char* answer = nullptr;
    if (const int rc = fn_(user_data_, input.c_str(), &answer); rc != 0) {
      return absl::InternalError(fmt::format("the host engine returned {}", rc));
    }
    if (answer == nullptr) return absl::InternalError("the host engine gave no answer");
    return spotopt::decision::DecisionFromJson(answer, in);
  }

 private:
  std::string name_;
  std::string version_;
  spotopt_engine_fn fn_;
  void* user_data_;
  spotopt_release_fn release_;
};

// Writes `json` to *out when the caller asked for it (out may be NULL).
template <typename T, typename Render>
spotopt_status OptionalJsonOut(const absl::StatusOr<T>& result, Render render, char** out) {
  if (!result.ok()) return Fail(result.status());
  if (out != nullptr) *out = CopyOut(spotopt::json::Serialize(render(*result))).release();
  return SPOTOPT_OK;
}

}  // namespace

extern "C" {

spotopt_status spotopt_decide(spotopt_controller* controller, const char* tenant_id,
                              const char* agent_id, char** preview_json_out) {
  return spotopt::capi::AgentRead(
      "spotopt_decide", controller, tenant_id, agent_id, preview_json_out, "preview_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.Decide(t, a); },
      spotopt::protocol::DecisionPreviewJson);
}

spotopt_status spotopt_decisions_run(spotopt_controller* controller, int64_t now_unix_micros,
                                     char** report_json_out) {
  return Guard("spotopt_decisions_run", [&] {
    if (spotopt_status s = Require("spotopt_decisions_run", {{controller, "controller"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return OptionalJsonOut(
        controller->controller.RunDecisions(spotopt::FromMicros(now_unix_micros)),
        spotopt::protocol::DecisionRunJson, report_json_out);
  });
}

spotopt_status spotopt_decisions_list(spotopt_controller* controller, const char* tenant_id,
                                      const char* agent_id, int64_t before_seq, int64_t limit,
                                      char** json_out) {
  return Guard("spotopt_decisions_list", [&] {
    if (spotopt_status s =
            Require("spotopt_decisions_list",
                    {{controller, "controller"}, {tenant_id, "tenant_id"}, {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (limit < 1) return Fail(SPOTOPT_INVALID_ARGUMENT, "limit: must be from 1 to 1000");
    const spotopt::DecisionPage page{before_seq, static_cast<size_t>(limit)};
    spotopt::Controller& c = controller->controller;
    const bool whole_tenant = agent_id == nullptr || *agent_id == '\0';
    return JsonOut(whole_tenant ? c.ListTenantDecisions(tenant_id, page)
                                : c.ListDecisions(tenant_id, agent_id, page),
                   ArrayOf(spotopt::protocol::DecisionRecordJson), json_out);
  });
}

spotopt_status spotopt_engines_list(spotopt_controller* controller, char** json_out) {
  return Guard("spotopt_engines_list", [&] {
    if (spotopt_status s =
            Require("spotopt_engines_list", {{controller, "controller"}, {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(absl::StatusOr<std::vector<spotopt::decision::EngineInfo>>(
                       controller->controller.ListEngines()),
                   ArrayOf(spotopt::protocol::EngineInfoJson), json_out);
  });
}

spotopt_status spotopt_engine_register_model(spotopt_controller* controller,
                                             const char* manifest_json, const char* model,
                                             size_t model_len, char** engine_json_out) {
  return Guard("spotopt_engine_register_model", [&] {
    if (spotopt_status s = Require(
            "spotopt_engine_register_model",
            {{controller, "controller"}, {manifest_json, "manifest_json"}, {model, "model"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return OptionalJsonOut(
        controller->controller.RegisterModel(manifest_json, std::string_view(model, model_len)),
        spotopt::protocol::EngineInfoJson, engine_json_out);
  });
}

spotopt_status spotopt_engine_register(spotopt_controller* controller, const char* name,
                                       const char* version, const char* sha256,
                                       const char* description, spotopt_engine_fn fn,
                                       void* user_data, spotopt_release_fn release) {
  return Guard("spotopt_engine_register", [&] {
    if (spotopt_status s =
            Require("spotopt_engine_register", {{controller, "controller"},
                                                {name, "name"},
                                                {version, "version"},
                                                {sha256, "sha256"},
                                                {reinterpret_cast<void*>(fn), "fn"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto engine = std::make_shared<HostEngine>(name, version, fn, user_data, release);
    const absl::Status registered = controller->controller.RegisterEngine(
        engine, sha256, description == nullptr ? "" : description);
    if (!registered.ok()) engine->Disarm();  // nobody else holds it
    return StatusOut(registered);
  });
}

spotopt_status spotopt_engine_unregister(spotopt_controller* controller, const char* name,
                                         const char* version) {
  return Guard("spotopt_engine_unregister", [&] {
    if (spotopt_status s =
            Require("spotopt_engine_unregister",
                    {{controller, "controller"}, {name, "name"}, {version, "version"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut(controller->controller.UnregisterEngine(name, version));
  });
}

spotopt_status spotopt_tenant_engines(spotopt_controller* controller, const char* tenant_id,
                                      char** json_out) {
  return Guard("spotopt_tenant_engines", [&] {
    if (spotopt_status s =
            Require("spotopt_tenant_engines",
                    {{controller, "controller"}, {tenant_id, "tenant_id"}, {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.GetTenantEngines(tenant_id),
                   spotopt::protocol::TenantEnginesJson, json_out);
  });
}

spotopt_status spotopt_engine_activate(spotopt_controller* controller, const char* tenant_id,
                                       const char* name, const char* version, char** json_out) {
  return Guard("spotopt_engine_activate", [&] {
    if (spotopt_status s = Require("spotopt_engine_activate", {{controller, "controller"},
                                                               {tenant_id, "tenant_id"},
                                                               {name, "name"},
                                                               {version, "version"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return OptionalJsonOut(controller->controller.ActivateEngine(tenant_id, name, version),
                           spotopt::protocol::TenantEnginesJson, json_out);
  });
}

spotopt_status spotopt_engine_rollback(spotopt_controller* controller, const char* tenant_id,
                                       char** json_out) {
  return Guard("spotopt_engine_rollback", [&] {
    if (spotopt_status s = Require("spotopt_engine_rollback",
                                   {{controller, "controller"}, {tenant_id, "tenant_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return OptionalJsonOut(controller->controller.RollbackEngine(tenant_id),
                           spotopt::protocol::TenantEnginesJson, json_out);
  });
}

}  // extern "C"
