// Sync actions: see the header.
#include "runner/sync_action.hpp"

#include "logging/json_reader.hpp"

#include <algorithm>

namespace runner {

bool is_sync_action(const ComponentSpec& spec) {
  return spec.action != "run";
}

int job_timeout_seconds(const ComponentSpec& spec) {
  if (!is_sync_action(spec)) return spec.limits.timeout_seconds;
  return std::min(spec.limits.timeout_seconds, kSyncActionTimeoutSeconds);
}

ActionResponse judge_action_response(std::string_view stdout_text, std::uint64_t omitted_bytes) {
  ActionResponse response;
  if (omitted_bytes > 0) {
    response.problem = "The sync action's output on stdout is over the " +
                       std::to_string(kMaxActionResponseBytes / (1024 * 1024)) +
                       " MiB a response may have";
    return response;
  }
  const auto first = stdout_text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    response.problem = "The sync action printed nothing on stdout: it must print one JSON document";
    return response;
  }
  const auto last = stdout_text.find_last_not_of(" \t\r\n");
  const std::string_view text = stdout_text.substr(first, last - first + 1);
  std::string error;
  if (!logging::try_read_json(text, logging::JsonLimits{}, &error)) {
    response.problem = "The sync action's output on stdout is not one JSON document: " + error;
    return response;
  }
  response.json = std::string(text);
  return response;
}

}  // namespace runner
