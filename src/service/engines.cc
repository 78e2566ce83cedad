// Decision engines: what this process can run, and which one each tenant uses.
#include <fmt/format.h>

#include "service/use_case.h"
#include "spotopt/decision/model.h"
#include "spotopt/service/controller.h"

namespace spotopt {
namespace {

TenantEngines EnginesOf(const Tenant& t) {
  return TenantEngines{t.engine.value_or(decision::RulesRef()), t.previous_engine};
}

absl::StatusOr<Tenant> LoadTenant(Transaction& tx, std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
  if (absl::IsNotFound(t.status()) || (t.ok() && t->state == TenantState::kDeleted)) {
    return NotFound("tenant");
  }
  return t;
}

}  // namespace

absl::Status Controller::RegisterEngine(std::shared_ptr<const decision::Engine> engine,
                                        std::string_view sha256, std::string_view description) {
  return engines_->Register(std::move(engine), decision::EngineKind::kHost, sha256,
                            SanitizeFreeText(description));
}

absl::StatusOr<decision::EngineInfo> Controller::RegisterModel(std::string_view manifest_json,
                                                               std::string_view model_bytes) {
  SPOTOPT_ASSIGN_OR_RETURN(decision::ModelManifest manifest,
                           decision::ParseManifest(manifest_json));
  SPOTOPT_ASSIGN_OR_RETURN(std::shared_ptr<const decision::PriceModel> model,
                           decision::PriceModel::Load(manifest, model_bytes));
  const std::string description = SanitizeFreeText(
      fmt::format("scoring with an XGBoost forecast ({}), trained {} to {}", manifest.target,
                  FormatTimestamp(manifest.train_from), FormatTimestamp(manifest.train_to)));
  SPOTOPT_RETURN_IF_ERROR(engines_->Register(decision::ModelEngine(std::move(model)),
                                             decision::EngineKind::kModel, manifest.sha256,
                                             description));
  return engines_->Find(manifest.name, manifest.version)->info;
}

absl::Status Controller::UnregisterEngine(std::string_view name, std::string_view version) {
  return engines_->Unregister(name, version);
}

std::vector<decision::EngineInfo> Controller::ListEngines() const { return engines_->List(); }

absl::StatusOr<TenantEngines> Controller::GetTenantEngines(std::string_view tenant_id) {
  return InTransaction(*store_, TxMode::kRead,
                       [&](Transaction& tx) -> absl::StatusOr<TenantEngines> {
                         SPOTOPT_ASSIGN_OR_RETURN(Tenant t, LoadTenant(tx, tenant_id));
                         return EnginesOf(t);
                       });
}

absl::StatusOr<TenantEngines> Controller::ActivateEngine(std::string_view tenant_id,
                                                         std::string_view name,
                                                         std::string_view version) {
  const std::optional<decision::RegisteredEngine> found = engines_->Find(name, version);
  if (!found) return NotFound(fmt::format("engine {} {}", name, version));
  const EngineRef ref = found->info.ref;
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite,
                       [&](Transaction& tx) -> absl::StatusOr<TenantEngines> {
                         SPOTOPT_ASSIGN_OR_RETURN(Tenant t, LoadTenant(tx, tenant_id));
                         const EngineRef active = t.engine.value_or(decision::RulesRef());
                         if (active == ref) return EnginesOf(t);  // already active: nothing moves
                         t.previous_engine = active;
                         t.engine = ref;
                         t.updated_at = now;
                         SPOTOPT_RETURN_IF_ERROR(tx.UpdateTenant(t));
                         return EnginesOf(t);
                       });
}

absl::StatusOr<TenantEngines> Controller::RollbackEngine(std::string_view tenant_id) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite,
                       [&](Transaction& tx) -> absl::StatusOr<TenantEngines> {
                         SPOTOPT_ASSIGN_OR_RETURN(Tenant t, LoadTenant(tx, tenant_id));
                         if (!t.previous_engine)
                           return Refused("the tenant has no previous engine to roll back to");
                         const EngineRef active = t.engine.value_or(decision::RulesRef());
                         t.engine = *t.previous_engine;
                         t.previous_engine = active;
                         t.updated_at = now;
                         SPOTOPT_RETURN_IF_ERROR(tx.UpdateTenant(t));
                         return EnginesOf(t);
                       });
}

}  // namespace spotopt
