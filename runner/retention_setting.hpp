// RUNNER_RETENTION: `runner prune` applied automatically, in bounded steps, at the end of
// `runner run` and in the worker's loop after each job (docs/store.md, "Retention"); and the
// duration syntax both use. In the library (runner_core) because the worker is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace runner {

// A duration such as "30d", "12h", "1.5h", "2w", "900s" or ISO-8601 ("P30D", "PT12H"); nullopt
// when the text is none of these or not positive.
std::optional<std::chrono::microseconds> parse_retention_duration(std::string_view text);

// With RUNNER_RETENTION set (a duration), prunes the store at `store_url` of jobs finished
// longer ago than that: at most a batch of jobs and a bounded reclaim, so a run pays little.
// Unset or empty: nothing. Problems are warnings on stderr (never an error of the job).
void apply_retention_setting(const std::string& store_url);

}  // namespace runner
