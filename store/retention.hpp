// prune: what `runner prune` and the RUNNER_RETENTION setting do to a store. Finished jobs older
// than a cut-off (optionally one namespace, one status) lose their events, and, unless
// keep_jobs, their rows; then the freed space goes back to the file system (SQLite) where the
// backend can. Nothing but jobs, event blocks and event-removal records is touched: the key-value
// offsets of the shipper (and any state table) survive.
//
// Work is bounded by `max_jobs` and `max_reclaim_bytes`, so the automatic retention at the end of
// a run costs little; `runner prune` sets no bounds.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <limits>
#include <vector>

namespace runner::store {

struct PruneOptions {
  PruneFilter filter;  // its limit is the batch size
  bool keep_jobs = false;
  bool dry_run = false;
  std::uint64_t max_jobs = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_reclaim_bytes = std::numeric_limits<std::uint64_t>::max();
};

struct PruneReport {
  RemovedCounts removed;        // with dry_run: what would be (events counted from events_stored)
  std::vector<JobRecord> jobs;  // the jobs selected (at most the first 1000 are kept here)
  std::uint64_t reclaimed_bytes = 0;
  std::optional<std::uint64_t> size_before;
  std::optional<std::uint64_t> size_after;
};

PruneReport prune(Store& store, const PruneOptions& options);

// The store size from which `runner jobs` suggests pruning (docs/store.md).
inline constexpr std::uint64_t kStoreSizeWorthKnowing = std::uint64_t{1} << 30;  // 1 GiB

}  // namespace runner::store
