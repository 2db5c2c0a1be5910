// Sync actions: Keboola's synchronous calls of a component (developer docs, common interface:
// actions). Any `action` other than "run" is one: the same image and configuration (config.json
// says which action), run at once and waited for, its stdout returned as the answer (to a UI or
// an API), so it must be one JSON document. Limited to 30 s (not counting the image pull: the
// job's deadline is armed when the container starts), no state read or written, never a queued
// job. Exit codes as for `run`; stdout that is not JSON is an application error.
//
// The job (JobRunner) runs an action like any other job with three differences, all decided
// here: the shorter limit, stdout kept as the response instead of becoming events
// (StreamRules::StdoutMode::response), and the response judged after a successful exit.
#pragma once

#include "logging/job_status.hpp"
#include "runner/component.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace runner {

struct JobOutcome;

inline constexpr int kSyncActionTimeoutSeconds = 30;
// The largest response kept (head and tail of 1 MiB each in StreamRules): beyond it the
// response is refused, not cut into something that is not the component's.
inline constexpr std::size_t kMaxActionResponseBytes = 2 * 1024 * 1024;

bool is_sync_action(const ComponentSpec& spec);
// The job's limit: the component's timeout, at most 30 s for a sync action.
int job_timeout_seconds(const ComponentSpec& spec);

// The answer of a sync action that exited 0: its stdout when it is one JSON document (trimmed of
// surrounding whitespace), else the application error saying why it is not (`problem`).
struct ActionResponse {
  std::optional<std::string> json;
  std::string problem;
};
ActionResponse judge_action_response(std::string_view stdout_text, std::uint64_t omitted_bytes);

}  // namespace runner
