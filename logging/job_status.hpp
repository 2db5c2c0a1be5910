// JobStatus and ErrorType: the states a job goes through and the kinds of failure, as enums with
// their names in one list each (the names are what the store, `--events`, `--json` and people
// see). They live in logging, the lowest layer that knows about jobs, so that the job summary,
// the store, the worker and the CLI all use the same values instead of comparing strings.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace runner::logging {

// Keboola's queue statuses. `created`..`terminating` are live; the rest are final.
#define RUNNER_JOB_STATUSES(X) \
  X(created)                   \
  X(waiting)                   \
  X(processing)                \
  X(terminating)               \
  X(success)                   \
  X(warning)                   \
  X(error)                     \
  X(cancelled)                 \
  X(terminated)

// What failed: nothing (`none`, written as "" in the store and null in JSON), the component's
// author (`user`), the component itself (`application`), the Docker engine (`engine`) or runner
// (`internal`).
#define RUNNER_ERROR_TYPES(X) \
  X(none)                     \
  X(user)                     \
  X(application)              \
  X(engine)                   \
  X(internal)

#define RUNNER_ENUM_VALUE(name) name,
enum class JobStatus : unsigned char { RUNNER_JOB_STATUSES(RUNNER_ENUM_VALUE) };
enum class ErrorType : unsigned char { RUNNER_ERROR_TYPES(RUNNER_ENUM_VALUE) };
#undef RUNNER_ENUM_VALUE

#define RUNNER_ENUM_NAME(name) std::string_view(#name),
inline constexpr std::array kJobStatusNames{RUNNER_JOB_STATUSES(RUNNER_ENUM_NAME)};
inline constexpr std::array kErrorTypeNames{RUNNER_ERROR_TYPES(RUNNER_ENUM_NAME)};
#undef RUNNER_ENUM_NAME

constexpr std::string_view job_status_name(JobStatus s) {
  return kJobStatusNames[static_cast<std::size_t>(s)];
}
// "" for ErrorType::none (the store's and the summary's spelling of "no error").
constexpr std::string_view error_type_name(ErrorType t) {
  return t == ErrorType::none ? std::string_view() : kErrorTypeNames[static_cast<std::size_t>(t)];
}
std::optional<JobStatus> job_status_from_name(std::string_view name);
// "" and "none" are ErrorType::none.
std::optional<ErrorType> error_type_from_name(std::string_view name);

constexpr bool is_final(JobStatus s) {
  return s == JobStatus::success || s == JobStatus::warning || s == JobStatus::error ||
         s == JobStatus::cancelled || s == JobStatus::terminated;
}
// A job a runner is working on (claimed by a worker, or being run by `runner run`).
constexpr bool is_running(JobStatus s) {
  return s == JobStatus::processing || s == JobStatus::terminating;
}

}  // namespace runner::logging
