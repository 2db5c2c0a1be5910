// `runner prune` and RUNNER_RETENTION (prune_command.hpp), on store::prune (store/retention.hpp).
#include "runner/prune_command.hpp"

#include "logging/event.hpp"
#include "runner/errors.hpp"
#include "runner/retention_setting.hpp"
#include "store/retention.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

namespace runner {

namespace {

std::string size_text(std::uint64_t bytes) {
  if (bytes >= (std::uint64_t{1} << 30))
    return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1 << 30));
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

std::unique_ptr<store::Store> open_or_throw(const std::string& option) {
  const std::string url = option.empty() ? store::default_store_url() : option;
  if (url == "none") throw UsageError("--store none: runner prune needs a store");
  try {
    return store::open_store(url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }
}

void print_report(const store::Store& db, const PruneArgs& args, const store::PruneReport& r) {
  if (args.json) {
    nlohmann::ordered_json out;
    out["dry_run"] = args.dry_run;
    out["jobs"] = r.removed.jobs;
    out["events"] = r.removed.events;
    out["job_ids"] = nlohmann::json::array();
    for (const auto& j : r.jobs) out["job_ids"].push_back(j.id);
    if (r.size_before) out["size_before"] = *r.size_before;
    if (r.size_after) out["size_after"] = *r.size_after;
    std::printf("%s\n", out.dump().c_str());
    return;
  }
  for (const auto& j : r.jobs)
    std::printf("%s %-36s  %-10s  %-16s  finished %s\n", args.dry_run ? "would prune" : "pruned",
                j.id.c_str(), j.status.c_str(), j.namespace_name.c_str(),
                j.finished_at ? logging::format_time(*j.finished_at).c_str() : "-");
  if (args.dry_run) {
    std::printf("would prune %s%zu job(s) (up to %llu events) from %s\n",
                args.keep_jobs ? "the events of " : "", r.jobs.size(),
                static_cast<unsigned long long>(r.removed.events), db.describe().c_str());
    return;
  }
  std::printf("pruned %s%llu job(s), %llu events from %s", args.keep_jobs ? "the events of " : "",
              static_cast<unsigned long long>(args.keep_jobs ? r.jobs.size() : r.removed.jobs),
              static_cast<unsigned long long>(r.removed.events), db.describe().c_str());
  if (r.size_before && r.size_after)
    std::printf("; size %s -> %s", size_text(*r.size_before).c_str(),
                size_text(*r.size_after).c_str());
  std::printf("\n");
}

}  // namespace

PruneCommand::PruneCommand(CLI::App& app) {
  cmd_ = app.add_subcommand(
      "prune", "Delete finished jobs older than a duration, and their events; shrink the store");
  cmd_->add_option("--older-than", args_.older_than,
                   "Jobs that finished longer ago than this: 30d, 12h, 90m, 2w or ISO-8601 (P30D)")
      ->required();
  cmd_->add_option("--namespace", args_.namespace_name,
                   "Only jobs in this namespace (and its child namespaces)");
  cmd_->add_option("--status", args_.status, "Only jobs with this final status")
      ->check(CLI::IsMember({"success", "warning", "error", "cancelled", "terminated"}));
  cmd_->add_flag("--dry-run", args_.dry_run, "Only list what would be deleted");
  cmd_->add_flag("--keep-jobs", args_.keep_jobs,
                 "Delete only the events; keep the job rows (marked: events pruned)");
  cmd_->add_flag("--json", args_.json, "The result as one JSON object");
  cmd_->add_option("--store", args_.store,
                   "Store: sqlite:PATH or postgresql://... (default $RUNNER_STORE, else "
                   "sqlite:$RUNNER_HOME/runner.db)");
}

bool PruneCommand::parsed() const {
  return cmd_->parsed();
}

int PruneCommand::run() const {
  const auto age = parse_retention_duration(args_.older_than);
  if (!age)
    throw UsageError("--older-than: expected a duration such as 30d, 12h, 90m, 2w or P30D, got \"" +
                     args_.older_than + "\"");
  auto db = open_or_throw(args_.store);
  store::PruneOptions options;
  options.filter.finished_before = logging::now_utc() - *age;
  if (!args_.namespace_name.empty()) options.filter.namespace_name = args_.namespace_name;
  if (!args_.status.empty()) options.filter.status = args_.status;
  options.filter.limit = 100;
  options.keep_jobs = args_.keep_jobs;
  options.dry_run = args_.dry_run;
  const store::PruneReport report = store::prune(*db, options);
  print_report(*db, args_, report);
  return 0;
}

}  // namespace runner
