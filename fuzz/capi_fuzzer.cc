// The C ABI's entry points that take JSON text (capi/spotopt.h), through the C ABI
// only, as a host would call them.
//
// An input is a session of up to 8 calls separated by lines of "%%", each
//
//   ENTRY [expected_version]
//   json text
//
// with ENTRY one of config_update, enqueue_switch, enqueue_create_replica,
// replica_request, prices_import, advisor_load, or host_decision (the tenant's engine
// is a host's that answers the JSON text, and spotopt_decide previews the agent's
// decision); an unknown ENTRY is skipped. Empty JSON text is NULL where the function
// allows it. The session (Reused, in harness.h) is a "memory:" controller holding a
// tenant with one registered agent.
//
// Checked on every call: a status of the enum and never SPOTOPT_INTERNAL; on success
// the output is JSON; on failure the outputs are untouched, spotopt_last_error()
// says why, and the agent, its commands and replicas, the latest prices and the
// market (with its advisor band) read exactly as before. A preview changes nothing
// either way, and a host's answer, whatever it is, never fails it: another engine
// decides instead.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "fuzz/harness.h"
#include "spotopt/spotopt.h"

namespace spotopt::fuzz {
namespace {

constexpr size_t kMaxCalls = 8;
constexpr int kInputsPerSession = 100;
constexpr int64_t kEpochMicros = 1763892000000000;  // 2025-11-23T10:00:00Z

// A string the library returned, released with spotopt_free.
class Out {
 public:
  Out() = default;
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  ~Out() { spotopt_free(p_); }
  char** ptr() { return &p_; }
  std::string_view view() const { return p_ == nullptr ? std::string_view() : p_; }

 private:
  char* p_ = nullptr;
};

// The host engine: answers whatever the current input's JSON text is.
constexpr const char* kHostEngineSha256 =
    "0000000000000000000000000000000000000000000000000000000000000001";
int AnswerWith(void* user_data, const char* /*input_json*/, const char** decision_json_out) {
  *decision_json_out = static_cast<const std::string*>(user_data)->c_str();
  return 0;
}

void Expect(spotopt_status s, std::string_view step) {
  FUZZ_CHECK(s == SPOTOPT_OK, "set-up {}: {} ({})", step, static_cast<int>(s),
             spotopt_last_error());
}

// A controller with a tenant and one registered agent, closed at the end.
class Session {
 public:
  Session() {
    Expect(spotopt_clock_create_manual(kEpochMicros, &clock_), "clock");
    Expect(spotopt_controller_open_with_clock("memory:", clock_, &c_), "open");
    Out tenant;
    Out token;
    Expect(spotopt_tenant_create(c_, "acme", tenant.ptr(), token.ptr()), "tenant");
    tenant_ = tenant.view();
    const std::string bearer = fmt::format("Bearer {}", token.view());
    constexpr std::string_view kRegister =
        R"({"instance_id": "i-0a1b2c3d4e0000001", "region": "us-east-1",
            "instance_type": "m5.large", "az": "us-east-1a", "mode": "spot",
            "logical_agent_id": "api"})";
    int status = 0;
    Out answer;
    Expect(spotopt_handle_request(c_, "POST", "/api/agents/register", bearer.c_str(),
                                  kRegister.data(), kRegister.size(), &status, answer.ptr()),
           "register");
    FUZZ_CHECK(status == 201, "set-up register: {} {}", status, answer.view());
    Out agents;
    Expect(spotopt_agent_list(c_, tenant_.c_str(), agents.ptr()), "agent list");
    agent_ = boost::json::parse(agents.view()).at(0).at("id").as_string();
    Expect(spotopt_engine_register(c_, "fuzz", "1", kHostEngineSha256, nullptr, &AnswerWith,
                                   &host_answer_, nullptr),
           "host engine");
    Expect(spotopt_engine_activate(c_, tenant_.c_str(), "fuzz", "1", nullptr), "activate");
    state_ = State();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    spotopt_controller_close(c_);
    spotopt_clock_destroy(clock_);
  }

  void Call(std::string_view text) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    const std::string json(eol == std::string_view::npos ? "" : text.substr(eol + 1));
    const size_t space = line.find(' ');
    const std::string_view entry = line.substr(0, space);
    const int64_t version =
        space == std::string_view::npos
            ? 0
            : std::strtoll(std::string(line.substr(space + 1)).c_str(), nullptr, 10);
    // NULL for an empty request, where the function allows it.
    const char* request = json.empty() ? nullptr : json.c_str();
    const char* t = tenant_.c_str();
    const char* a = agent_.c_str();

    char* const kUntouched = reinterpret_cast<char*>(&untouched_);
    char* out = kUntouched;
    int64_t count = -7;
    spotopt_status s;
    if (entry == "config_update") {
      s = spotopt_config_update(c_, t, a, json.c_str(), version, &out);
    } else if (entry == "enqueue_switch") {
      s = spotopt_command_enqueue_switch(c_, t, a, json.c_str(), &out);
    } else if (entry == "enqueue_create_replica") {
      s = spotopt_command_enqueue_create_replica(c_, t, a, request, &out);
    } else if (entry == "replica_request") {
      s = spotopt_replica_request(c_, t, a, request, &out);
    } else if (entry == "prices_import") {
      s = spotopt_prices_import(c_, t, json.c_str(), &count);
    } else if (entry == "advisor_load") {
      s = spotopt_advisor_load(c_, json.data(), json.size(), &count);
    } else if (entry == "host_decision") {
      host_answer_ = json;
      s = spotopt_decide(c_, t, a, &out);
      FUZZ_CHECK(s == SPOTOPT_OK, "host_decision: status {} ({}) for answer {}",
                 static_cast<int>(s), spotopt_last_error(), json);
    } else {
      return;
    }

    const std::string error = spotopt_last_error();  // the reads below clear it
    FUZZ_CHECK(s >= SPOTOPT_OK && s < SPOTOPT_INTERNAL, "{}: status {} ({})", entry,
               static_cast<int>(s), error);
    std::string after = State();
    if (entry == "host_decision") {
      FUZZ_CHECK(after == state_, "host_decision: a preview changed the state");
    }
    if (s == SPOTOPT_OK) {
      FUZZ_CHECK(error.empty(), "{}: succeeded with an error message", entry);
      if (out != kUntouched) {
        boost::system::error_code ec;
        boost::json::parse(out, ec);
        FUZZ_CHECK(!ec, "{}: output is not JSON: {}", entry, out);
        spotopt_free(out);
      } else {
        FUZZ_CHECK(count >= 0, "{}: succeeded without a count", entry);
      }
      state_ = std::move(after);
      return;
    }
    FUZZ_CHECK(out == kUntouched && count == -7, "{}: failed but wrote an output", entry);
    FUZZ_CHECK(!error.empty(), "{}: failed without a message", entry);
    FUZZ_CHECK(after == state_, "{}: failed ({}) but changed the state", entry, error);
  }

 private:
  // What a failed call must leave as it was.
  std::string State() {
    std::string state;
    const char* t = tenant_.c_str();
    const char* a = agent_.c_str();
    for (auto read : {+[](spotopt_controller*c, const char*t, const char*a, char**out) {
                        return spotopt_agent_get(c, t, a, out);
                      },
                      +[](spotopt_controller*c, const char*t, const char*a, char**out) {
                        return spotopt_command_list(c, t, a, out);
                      },
                      +[](spotopt_controller*c, const char*t, const char*a, char**out) {
                        return spotopt_replica_list(c, t, a, out);
                      },
                      +[](spotopt_controller*c, const char*t, const char*, char**out) {
                        return spotopt_prices_latest(c, t, out);
                      },
                      +[](spotopt_controller*c, const char*t, const char*, char**out) {
                        return spotopt_market(c, t, "us-east-1", "m5.large", out);
                      }}) {
      Out json;
      Expect(read(c_, t, a, json.ptr()), "state read");
      state.append(json.view()).push_back('\n');
    }
    return state;
  }

  spotopt_clock* clock_ = nullptr;
  spotopt_controller* c_ = nullptr;
  std::string tenant_;
  std::string agent_;
  std::string state_;        // State() after the last call
  std::string host_answer_;  // what the host engine answers
  int untouched_ = 0;        // its address marks an output the library has not written
};

}  // namespace
}  // namespace spotopt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using spotopt::fuzz::Session;
  Session& session = spotopt::fuzz::Reused<Session, spotopt::fuzz::kInputsPerSession>();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view call : spotopt::fuzz::SplitCalls(input, spotopt::fuzz::kMaxCalls)) {
    session.Call(call);
  }
  return 0;
}
