// How a job ends: the outcome of a container's exit (classify_exit, Keboola's rules) and of an
// exception (classify, the one place exceptions become outcomes).
//
// Exit-code semantics, as Keboola's runner defines them (REFERENCE.md section 1): 0 success; 1 user
// error with the message taken from stderr, else stdout, else the last error-level GELF message,
// else "No error message."; any other code an application error (or a user error when the component
// sets logging.no_application_errors); OOM and timeout are user errors with fixed messages. Exit
// 137 or 125 without the engine's OOMKilled: a timeout when the run reached its limit, else the
// user error "possibly out of memory" (Keboola's rule, not an application error). A pure
// function of the facts, so every rule is unit-tested without Docker.
#pragma once

#include "logging/job_status.hpp"

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace runner {

struct ExitFacts {
  std::int64_t exit_code = 0;
  bool oom_killed = false;
  bool timed_out = false;
  int timeout_seconds = 0;
  // How long the container ran (for 137/125 without OOMKilled).
  double elapsed_seconds = 0;
  std::string memory_limit;  // "256m"
  bool no_application_errors = false;
  std::string stderr_text;
  std::string stdout_text;
  std::string gelf_error;  // the last error-level GELF message, if any
};

using logging::ErrorType;
using logging::JobStatus;

struct JobOutcome {
  JobStatus status = JobStatus::error;     // success or error
  ErrorType error_type = ErrorType::none;  // none, user or application
  int exit_code = 0;                       // runner's exit code: 0, 1 or 2
  std::string message;
};

JobOutcome classify_exit(const ExitFacts& facts);

// The outcome of a job or command that failed with `error` (status error). A runner::Error's kind
// decides the exit code (runner::exit_code) and the error type: user errors and invalid
// components are the author's (`user`), an engine that cannot be reached is `engine`, the rest
// `internal`. Anything else thrown is an internal error (exit 70). Messages: an invalid
// component's problems (joined with "; ") or an invalid key or value after "invalid component: ";
// internal errors start with "internal error: ". Used by `runner run`, the worker and JobRunner
// alike.
JobOutcome classify(std::exception_ptr error);

// Cuts a message longer than `max_chars` characters to its first and last max_chars/2 characters
// joined by " ... " (Keboola's rule), after trimming surrounding whitespace.
std::string cut_message(std::string_view text, std::size_t max_chars = 4000);

}  // namespace runner
