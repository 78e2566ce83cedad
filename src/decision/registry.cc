#include "spotopt/decision/registry.h"

#include <algorithm>
#include <mutex>
#include <tuple>

#include <fmt/format.h>

#include "common/sha256.h"
#include "spotopt/decision/rules.h"
#include "spotopt/decision/scoring.h"

namespace spotopt::decision {
namespace {

bool IsSha256(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A built-in engine's digest covers what defines its behaviour.
std::string BuiltinDigest(std::string_view name, std::string_view version,
                          std::string_view params) {
  return Sha256Hex(fmt::format("spotopt builtin engine\n{}\n{}\n{}", name, version, params));
}

std::string Describe(const RiskModel& r) {
  return fmt::format("bands={},{},{},{},{} unknown={} termination={} rebalance={} volatility={}",
                     r.band_rate[0], r.band_rate[1], r.band_rate[2], r.band_rate[3], r.band_rate[4],
                     r.unknown_band_rate, r.per_termination, r.per_rebalance, r.per_volatility);
}

std::string Describe(const ScoringParams& p) {
  return fmt::format("horizon={}s interruption={}h switch={}h {}", absl::ToInt64Seconds(p.horizon),
                     p.interruption_hours, p.switch_hours, Describe(p.risk));
}

}  // namespace

std::string_view ToString(EngineKind k) {
  switch (k) {
    case EngineKind::kBuiltin:
      return "builtin";
    case EngineKind::kModel:
      return "model";
    case EngineKind::kHost:
      return "host";
  }
  return "unknown";
}

EngineRef RulesRef() {
  return {std::string(RulesEngine::kName), std::string(RulesEngine::kVersion),
          BuiltinDigest(RulesEngine::kName, RulesEngine::kVersion, Describe(RiskModel{}))};
}

EngineRef ScoringRef() {
  return {std::string(ScoringEngine::kName), std::string(ScoringEngine::kVersion),
          BuiltinDigest(ScoringEngine::kName, ScoringEngine::kVersion, Describe(ScoringParams{}))};
}

EngineRegistry::EngineRegistry() {
  for (auto [engine, ref, description] :
       {std::tuple<std::shared_ptr<const Engine>, EngineRef, std::string_view>{
            std::make_shared<RulesEngine>(), RulesRef(),
            "the config's thresholds as rules, money compared exactly"},
        {std::make_shared<ScoringEngine>(), ScoringRef(),
         "expected cost per hour: price, interruption risk and the cost of moving"}}) {
    engines_[{ref.name, ref.version}] =
        RegisteredEngine{engine, EngineInfo{ref, EngineKind::kBuiltin, std::string(description)}};
  }
}

absl::Status EngineRegistry::Register(std::shared_ptr<const Engine> engine, EngineKind kind,
                                      std::string_view sha256, std::string_view description) {
  if (engine == nullptr) return absl::InvalidArgumentError("engine: must not be null");
  if (absl::Status s = ValidateShortString(engine->name(), "engine.name"); !s.ok()) return s;
  if (absl::Status s = ValidateShortString(engine->version(), "engine.version"); !s.ok()) return s;
  if (!IsSha256(sha256)) {
    return absl::InvalidArgumentError("engine.sha256: must be 64 lowercase hex digits");
  }
  if (kind == EngineKind::kBuiltin) {
    return absl::InvalidArgumentError("engine: only the library registers built-in engines");
  }
  EngineInfo info{
      {std::string(engine->name()), std::string(engine->version()), std::string(sha256)},
      kind,
      std::string(description)};
  std::unique_lock lock(mu_);
  auto key = std::make_pair(info.ref.name, info.ref.version);
  if (auto it = engines_.find(key); it != engines_.end()) {
    if (it->second.info.ref.sha256 != info.ref.sha256 ||
        it->second.info.kind == EngineKind::kBuiltin) {
      return absl::AlreadyExistsError(fmt::format("engine {} {} is registered with sha256 {}",
                                                  info.ref.name, info.ref.version,
                                                  it->second.info.ref.sha256));
    }
  }
  engines_[std::move(key)] = RegisteredEngine{std::move(engine), std::move(info)};
  return absl::OkStatus();
}

absl::Status EngineRegistry::Unregister(std::string_view name, std::string_view version) {
  std::unique_lock lock(mu_);
  const auto it = engines_.find(std::make_pair(std::string(name), std::string(version)));
  if (it == engines_.end()) {
    return absl::NotFoundError(fmt::format("engine {} {} is not registered", name, version));
  }
  if (it->second.info.kind == EngineKind::kBuiltin) {
    return absl::FailedPreconditionError("built-in engines cannot be unregistered");
  }
  engines_.erase(it);
  return absl::OkStatus();
}

std::optional<RegisteredEngine> EngineRegistry::Find(std::string_view name,
                                                     std::string_view version) const {
  std::shared_lock lock(mu_);
  const auto it = engines_.find(std::make_pair(std::string(name), std::string(version)));
  if (it == engines_.end()) return std::nullopt;
  return it->second;
}

std::vector<EngineInfo> EngineRegistry::List() const {
  std::shared_lock lock(mu_);
  std::vector<EngineInfo> out;
  out.reserve(engines_.size());
  for (const auto& [key, entry] : engines_) out.push_back(entry.info);
  return out;
}

}  // namespace spotopt::decision
