// Name lookups for JobStatus and ErrorType (job_status.hpp).
#include "logging/job_status.hpp"

namespace runner::logging {

std::optional<JobStatus> job_status_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kJobStatusNames.size(); ++i)
    if (kJobStatusNames[i] == name) return static_cast<JobStatus>(i);
  return std::nullopt;
}

std::optional<ErrorType> error_type_from_name(std::string_view name) {
  if (name.empty()) return ErrorType::none;
  for (std::size_t i = 0; i < kErrorTypeNames.size(); ++i)
    if (kErrorTypeNames[i] == name) return static_cast<ErrorType>(i);
  return std::nullopt;
}

}  // namespace runner::logging
