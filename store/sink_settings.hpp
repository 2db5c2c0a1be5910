// The store sink's settings from the environment, for `runner run` and the worker (docs/store.md,
// "When the store is busy or down"):
//   RUNNER_STORE_RETRY_SECONDS  how long a busy or unreachable store is retried before a job's
//                               events count as lost (default 300; 0: not retried)
//   RUNNER_SPOOL_MAX_BYTES      the most a job's on-disk spool may hold (default 1 GiB; a number
//                               of bytes, or with a K, M or G suffix for KiB, MiB, GiB; 0: no
//                               spool, the job waits for the store instead)
// A value that is not one of these is a usage error (exit 64) naming the variable, raised before
// the job starts.
#pragma once

#include "store/store_sink.hpp"

namespace runner::store {

inline constexpr std::uint64_t kMaxRetrySeconds = 7 * 24 * 3600;

// Applies the variables that are set (and not empty) to `options`.
void apply_sink_settings(StoreSinkOptions& options);

}  // namespace runner::store
