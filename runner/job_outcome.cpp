// classify_exit and classify: see the header.
#include "runner/job_outcome.hpp"

#include "common/utf8.hpp"
#include "runner/errors.hpp"

#include <cctype>

namespace runner {
namespace {
std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}
}  // namespace

std::string cut_message(std::string_view text, std::size_t max_chars) {
  text = trim(text);
  const std::size_t length = runner::utf8_length(text);
  if (length <= max_chars) return std::string(text);
  const std::size_t half = max_chars / 2;
  const std::size_t head_end = runner::utf8_offset(text, half);
  const std::size_t tail_start = runner::utf8_offset(text, length - half);
  std::string out(text.substr(0, head_end));
  out += " ... ";
  out.append(text.substr(tail_start));
  return out;
}

JobOutcome classify_exit(const ExitFacts& f) {
  JobOutcome out;
  if (f.timed_out) {
    out = {JobStatus::error, ErrorType::user, 1,
           "Component exceeded the timeout of " + std::to_string(f.timeout_seconds) + " seconds"};
    return out;
  }
  if (f.oom_killed) {
    out = {JobStatus::error, ErrorType::user, 1,
           "Component out of memory (exceeded " + f.memory_limit + ")"};
    return out;
  }
  if (f.exit_code == 137 || f.exit_code == 125) {
    // Killed (SIGKILL, or the runtime failed) by someone other than runner, and the engine does
    // not say it was the memory limit.
    if (f.timeout_seconds > 0 && f.elapsed_seconds >= f.timeout_seconds) {
      out = {JobStatus::error, ErrorType::user, 1,
             "Component exceeded the timeout of " + std::to_string(f.timeout_seconds) + " seconds"};
      return out;
    }
    out = {JobStatus::error, ErrorType::user, 1,
           "Component was killed (exit code " + std::to_string(f.exit_code) +
               ") without the engine reporting an out-of-memory kill: possibly out of memory "
               "(limit " +
               f.memory_limit + ")"};
    return out;
  }
  if (f.exit_code == 0) {
    out = {JobStatus::success, ErrorType::none, 0, "Component finished successfully"};
    return out;
  }
  std::string detail = cut_message(f.stderr_text);
  if (detail.empty()) detail = cut_message(f.stdout_text);
  if (detail.empty()) detail = cut_message(f.gelf_error);
  if (detail.empty()) detail = "No error message.";
  if (f.exit_code == 1 || f.no_application_errors) {
    out = {JobStatus::error, ErrorType::user, 1, detail};
    return out;
  }
  out = {JobStatus::error, ErrorType::application, 2,
         "Application error (exit code " + std::to_string(f.exit_code) + "): " + detail};
  return out;
}

JobOutcome classify(std::exception_ptr error) {
  JobOutcome out{JobStatus::error, ErrorType::internal, kExitInternal, ""};
  try {
    std::rethrow_exception(std::move(error));
  } catch (const ConfigError& e) {
    std::string text;
    for (const auto& problem : e.problems()) text += (text.empty() ? "" : "; ") + problem;
    out = {JobStatus::error, ErrorType::user, kExitInvalidComponent, "invalid component: " + text};
  } catch (const Error& e) {
    out.exit_code = exit_code(e.kind());
    out.message = e.what();
    if (e.kind() == ErrorKind::user) out.error_type = ErrorType::user;
    if (e.kind() == ErrorKind::invalid_config) {
      out.error_type = ErrorType::user;
      out.message = std::string("invalid component: ") + e.what();
    }
    if (e.kind() == ErrorKind::engine_unavailable) out.error_type = ErrorType::engine;
    if (e.kind() == ErrorKind::internal) out.message = std::string("internal error: ") + e.what();
  } catch (const std::exception& e) {
    out.message = std::string("internal error: ") + e.what();
  } catch (...) {
    out.message = "internal error: an exception that is not a std::exception";
  }
  return out;
}

}  // namespace runner
