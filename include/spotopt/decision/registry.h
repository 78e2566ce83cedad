// The engines a process can decide with, by (name, version, sha256). The built-in
// rules and scoring engines are always there; a host adds models and engines of its
// own. Tenants pick one by name and version (Tenant::engine) and the sha256 pins
// exactly which: a re-registered engine with other code or another model file under
// the same name and version is refused, never silently swapped in.
//
// Thread-safe; lookups take a shared lock and return shared ownership, so an engine
// stays alive while a decision uses it even if it is unregistered meanwhile.
#ifndef SPOTOPT_DECISION_REGISTRY_H_
#define SPOTOPT_DECISION_REGISTRY_H_

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "spotopt/decision/decision.h"
#include "spotopt/domain/tenant.h"

namespace spotopt::decision {

enum class EngineKind { kBuiltin, kModel, kHost };
SPOTOPT_EXPORT std::string_view ToString(EngineKind k);  // builtin | model | host

struct EngineInfo {
  EngineRef ref;  // name, version, sha256
  EngineKind kind = EngineKind::kBuiltin;
  std::string description;
  friend bool operator==(const EngineInfo&, const EngineInfo&) = default;
};

struct RegisteredEngine {
  std::shared_ptr<const Engine> engine;
  EngineInfo info;
};

// The built-in engines' identities; their sha256 is that of their name, version and
// parameters, so a build that changes them changes it.
SPOTOPT_EXPORT EngineRef RulesRef();
SPOTOPT_EXPORT EngineRef ScoringRef();

class SPOTOPT_EXPORT EngineRegistry {
 public:
  EngineRegistry();  // with the built-in engines

  // Adds an engine under its name and version. The same (name, version, sha256)
  // again replaces the instance (a host re-registering after a restart);
  // AlreadyExists when the name and version are taken with another sha256;
  // InvalidArgument for an empty name or version or a sha256 that is not 64
  // lowercase hex digits.
  absl::Status Register(std::shared_ptr<const Engine> engine, EngineKind kind,
                        std::string_view sha256, std::string_view description);
  // NotFound when absent; FailedPrecondition for a built-in engine.
  absl::Status Unregister(std::string_view name, std::string_view version);

  std::optional<RegisteredEngine> Find(std::string_view name, std::string_view version) const;
  // Ordered by name, then version.
  std::vector<EngineInfo> List() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::pair<std::string, std::string>, RegisteredEngine, std::less<>> engines_;
};

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_REGISTRY_H_
