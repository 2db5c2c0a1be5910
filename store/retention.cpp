// prune (retention.hpp): select a batch of prunable jobs, delete them, repeat; then reclaim.
#include "store/retention.hpp"

#include <algorithm>

namespace runner::store {

PruneReport prune(Store& store, const PruneOptions& options) {
  PruneReport report;
  report.size_before = store.size_bytes();
  PruneFilter filter = options.filter;
  // Kept rows stay selectable: select only those that still have events to lose.
  if (options.keep_jobs) filter.only_with_events = true;
  if (filter.limit == 0) filter.limit = 100;
  std::uint64_t seen = 0;
  // A dry run cannot page by deleting: it lists one batch of up to max_jobs (capped).
  if (options.dry_run) {
    filter.limit = static_cast<std::size_t>(std::min<std::uint64_t>(options.max_jobs, 100000));
    report.jobs = store.prunable_jobs(filter);
    report.removed.jobs = options.keep_jobs ? 0 : report.jobs.size();
    for (const auto& job : report.jobs) report.removed.events += job.events_stored;
    report.size_after = report.size_before;
    return report;
  }
  while (seen < options.max_jobs) {
    filter.limit =
        static_cast<std::size_t>(std::min<std::uint64_t>(filter.limit, options.max_jobs - seen));
    auto batch = store.prunable_jobs(filter);
    if (batch.empty()) break;
    std::vector<std::string> ids;
    ids.reserve(batch.size());
    for (const auto& job : batch) ids.push_back(job.id);
    const RemovedCounts counts = store.delete_jobs(ids, options.keep_jobs);
    report.removed.jobs += counts.jobs;
    report.removed.blocks += counts.blocks;
    report.removed.events += counts.events;
    seen += batch.size();
    for (auto& job : batch)
      if (report.jobs.size() < 1000) report.jobs.push_back(std::move(job));
  }
  if (report.removed.blocks > 0 || report.removed.jobs > 0)
    report.reclaimed_bytes = store.reclaim_space(options.max_reclaim_bytes);
  report.size_after = store.size_bytes();
  return report;
}

}  // namespace runner::store
