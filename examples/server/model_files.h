// Model engines from files: a manifest and the model file it names beside it
// (spotopt/decision/model.h). The library takes bytes; reading files is the host's.
#ifndef SPOTOPT_EXAMPLES_SERVER_MODEL_FILES_H_
#define SPOTOPT_EXAMPLES_SERVER_MODEL_FILES_H_

#include <string>

#include "spotopt/service/controller.h"

namespace spotopt::server {

// NotFound when a file cannot be read; otherwise Controller::RegisterModel's answer.
absl::StatusOr<decision::EngineInfo> RegisterModelFiles(Controller& controller,
                                                        const std::string& manifest_path);

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_MODEL_FILES_H_
