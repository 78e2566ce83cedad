#include "model_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "spotopt/decision/model.h"

namespace spotopt::server {
namespace {

// Manifests and models are small (hundreds of KB); more is not a model of ours.
constexpr std::uintmax_t kMaxFile = 64 << 20;

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec)
    return absl::NotFoundError(fmt::format("cannot read {}: {}", path.string(), ec.message()));
  if (size > kMaxFile)
    return absl::InvalidArgumentError(fmt::format("{} is too large", path.string()));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof())
    return absl::NotFoundError(fmt::format("cannot read {}", path.string()));
  return text.str();
}

}  // namespace

absl::StatusOr<decision::EngineInfo> RegisterModelFiles(Controller& controller,
                                                        const std::string& manifest_path) {
  absl::StatusOr<std::string> manifest = ReadFile(manifest_path);
  if (!manifest.ok()) return manifest.status();
  absl::StatusOr<decision::ModelManifest> parsed = decision::ParseManifest(*manifest);
  if (!parsed.ok()) return parsed.status();
  // The model file is named relative to the manifest, never anywhere else.
  const std::filesystem::path model_file(parsed->model_file);
  if (model_file.has_parent_path() || model_file.is_absolute()) {
    return absl::InvalidArgumentError("model_file: must be a file name beside the manifest");
  }
  absl::StatusOr<std::string> model =
      ReadFile(std::filesystem::path(manifest_path).parent_path() / model_file);
  if (!model.ok()) return model.status();
  return controller.RegisterModel(*manifest, *model);
}

}  // namespace spotopt::server
