// Exit-code mapping: Keboola's semantics, rule by rule.
#include "runner/job_outcome.hpp"

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
  CHECK(classify_exit(facts(137)).error_type == runner::logging::ErrorType::application);
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
