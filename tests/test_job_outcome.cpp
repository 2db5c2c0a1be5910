// Outcomes: Keboola's exit-code semantics rule by rule, and classify(), the one mapping from
// exceptions to exit codes and error types.
#include "runner/job_outcome.hpp"

#include "docker/engine_errors.hpp"
#include "runner/errors.hpp"
#include "secrets/config_cipher.hpp"
#include "store/store.hpp"

#include <catch2/catch.hpp>

using runner::classify_exit;
using runner::cut_message;
using runner::ExitFacts;

namespace {
ExitFacts facts(std::int64_t code, std::string err = "", std::string out = "") {
  ExitFacts f;
  f.exit_code = code;
  f.stderr_text = std::move(err);
  f.stdout_text = std::move(out);
  f.memory_limit = "256m";
  f.timeout_seconds = 3600;
  return f;
}
}  // namespace

TEST_CASE("exit 0 is success even with stderr", "[runner][outcome]") {
  auto o = classify_exit(facts(0, "warning text"));
  CHECK(o.status == runner::logging::JobStatus::success);
  CHECK(o.exit_code == 0);
  CHECK(o.error_type == runner::logging::ErrorType::none);
}

TEST_CASE("exit 1 is a user error with the message from stderr, else stdout, else a default",
          "[runner][outcome]") {
  auto o = classify_exit(facts(1, "  bad input\n", "stdout text"));
  CHECK(o.status == runner::logging::JobStatus::error);
  CHECK(o.error_type == runner::logging::ErrorType::user);
  CHECK(o.exit_code == 1);
  CHECK(o.message == "bad input");
  CHECK(classify_exit(facts(1, "", "from stdout\n")).message == "from stdout");
  CHECK(classify_exit(facts(1, "\n", "")).message == "No error message.");
}

TEST_CASE("other exit codes are application errors unless no_application_errors",
          "[runner][outcome]") {
  auto o = classify_exit(facts(2, "trace"));
  CHECK(o.error_type == runner::logging::ErrorType::application);
  CHECK(o.exit_code == 2);
  CHECK(o.message == "Application error (exit code 2): trace");
  CHECK(classify_exit(facts(255)).error_type == runner::logging::ErrorType::application);
  CHECK(classify_exit(facts(139)).error_type == runner::logging::ErrorType::application);
  auto f = facts(3, "handled");
  f.no_application_errors = true;
  o = classify_exit(f);
  CHECK(o.error_type == runner::logging::ErrorType::user);
  CHECK(o.exit_code == 1);
  CHECK(o.message == "handled");
}

TEST_CASE("OOM and timeout are user errors with fixed messages", "[runner][outcome]") {
  auto f = facts(137);
  f.oom_killed = true;
  auto o = classify_exit(f);
  CHECK(o.error_type == runner::logging::ErrorType::user);
  CHECK(o.message == "Component out of memory (exceeded 256m)");
  f = facts(137);
  f.timed_out = true;
  f.timeout_seconds = 5;
  o = classify_exit(f);
  CHECK(o.error_type == runner::logging::ErrorType::user);
  CHECK(o.exit_code == 1);
  CHECK(o.message == "Component exceeded the timeout of 5 seconds");
}

TEST_CASE("exit 137 or 125 without OOMKilled: a timeout at the limit, else possibly out of memory",
          "[runner][outcome]") {
  for (const std::int64_t code : {137, 125}) {
    auto f = facts(code, "killed");
    f.elapsed_seconds = 12;
    auto o = classify_exit(f);
    CHECK(o.error_type == runner::logging::ErrorType::user);
    CHECK(o.exit_code == 1);
    CHECK(o.message == "Component was killed (exit code " + std::to_string(code) +
                           ") without the engine reporting an out-of-memory kill: possibly out "
                           "of memory (limit 256m)");
    f.timeout_seconds = 10;  // the run reached its limit: the timeout, whoever killed it
    o = classify_exit(f);
    CHECK(o.error_type == runner::logging::ErrorType::user);
    CHECK(o.message == "Component exceeded the timeout of 10 seconds");
  }
}

TEST_CASE("long messages are cut to head ... tail by characters", "[runner][outcome]") {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "\xC3\xA9";  // 3000 characters, 6000 bytes
  text += "END";
  CHECK(cut_message(text) == text);
  text = std::string(2500, 'a') + std::string(2500, 'b');
  const std::string cut = cut_message(text);
  CHECK(cut == std::string(2000, 'a') + " ... " + std::string(2000, 'b'));
  CHECK(classify_exit(facts(1, text)).message == cut);
}

namespace {
template <typename E>
runner::JobOutcome classify_thrown(E error) {
  try {
    throw error;
  } catch (...) {
    return runner::classify(std::current_exception());
  }
}
}  // namespace

TEST_CASE("classify: every kind of error has its exit code and error type",
          "[runner][outcome][classify]") {
  using runner::ErrorKind;
  using runner::logging::ErrorType;
  struct Case {
    ErrorKind kind;
    int exit_code;
    ErrorType type;
  };
  for (const Case c : {Case{ErrorKind::usage, 64, ErrorType::internal},
                       Case{ErrorKind::invalid_config, 65, ErrorType::user},
                       Case{ErrorKind::user, 1, ErrorType::user},
                       Case{ErrorKind::not_found, 66, ErrorType::internal},
                       Case{ErrorKind::engine_unavailable, 69, ErrorType::engine},
                       Case{ErrorKind::internal, 70, ErrorType::internal},
                       Case{ErrorKind::store_unavailable, 74, ErrorType::internal},
                       Case{ErrorKind::export_failed, 75, ErrorType::internal}}) {
    INFO("kind " << static_cast<int>(c.kind));
    const auto o = classify_thrown(runner::Error(c.kind, "what"));
    CHECK(o.status == runner::logging::JobStatus::error);
    CHECK(o.exit_code == c.exit_code);
    CHECK(runner::exit_code(c.kind) == c.exit_code);
    CHECK(o.error_type == c.type);
  }
}

TEST_CASE("classify: the libraries' own errors map by their kind, messages say what failed",
          "[runner][outcome][classify]") {
  using runner::logging::ErrorType;
  auto o = classify_thrown(runner::ConfigError({"$.image: expected a string", "$.x: unknown"}));
  CHECK(o.exit_code == 65);
  CHECK(o.error_type == ErrorType::user);
  CHECK(o.message == "invalid component: $.image: expected a string; $.x: unknown");

  o = classify_thrown(runner::docker::EngineUnreachableError("cannot connect to /x.sock"));
  CHECK(o.exit_code == 69);
  CHECK(o.error_type == ErrorType::engine);
  CHECK(o.message == "cannot connect to /x.sock");
  CHECK(classify_thrown(runner::docker::EngineVersionError("API 1.12")).exit_code == 69);
  // A refused request the caller did not turn into a user error is runner's problem.
  o = classify_thrown(runner::docker::EngineApiError(500, "inspect", "boom"));
  CHECK(o.exit_code == 70);
  CHECK(o.message == "internal error: inspect: boom (HTTP 500)");

  o = classify_thrown(runner::store::StoreError("database is locked"));
  CHECK(o.exit_code == 74);
  o = classify_thrown(runner::secrets::SecretError(runner::secrets::SecretError::Kind::BadKey,
                                                   "RUNNER_ENCRYPTION_KEY: not 32 bytes"));
  CHECK(o.exit_code == 65);
  CHECK(o.message == "invalid component: RUNNER_ENCRYPTION_KEY: not 32 bytes");
  CHECK(classify_thrown(runner::UserError("no such image")).message == "no such image");
  CHECK(classify_thrown(runner::UsageError("--store: bad")).exit_code == 64);
}

TEST_CASE("classify: anything else is an internal error", "[runner][outcome][classify]") {
  auto o = classify_thrown(std::runtime_error("vector too long"));
  CHECK(o.exit_code == 70);
  CHECK(o.error_type == runner::logging::ErrorType::internal);
  CHECK(o.message == "internal error: vector too long");
  o = classify_thrown(42);
  CHECK(o.exit_code == 70);
  CHECK(o.message.starts_with("internal error: "));
}
