// Store helpers shared by both backends, the default URL and the URL dispatch (store.hpp).
#include "store/store.hpp"

#include "secrets/config_cipher.hpp"
#include "store/postgres_store.hpp"
#include "store/schema.hpp"
#include "store/sqlite_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>

namespace runner::store {

bool is_final_status(std::string_view status) {
  const auto known = logging::job_status_from_name(status);
  return known && logging::is_final(*known);
}

std::vector<JobRecord> end_jobs_of_dead_runners(Store& store, std::string_view host,
                                                const std::function<bool(std::int64_t)>& alive,
                                                const std::function<void(JobRecord&)>& salvage) {
  std::vector<JobRecord> ended;
  for (const auto status : {kStatusProcessing, kStatusTerminating}) {
    JobFilter filter;
    filter.status = std::string(status);
    filter.limit = std::numeric_limits<std::size_t>::max() / 2;
    for (auto& job : store.list_jobs(filter)) {
      if (job.runner_host != host || !job.runner_pid || job.lease_until) continue;
      if (alive(*job.runner_pid)) continue;
      if (salvage) salvage(job);
      job.status = std::string(kStatusError);
      job.error_type = std::string(logging::error_type_name(logging::ErrorType::internal));
      job.exit_code = kExitInternal;
      job.message = fmt::format(
          "The runner died: its process (pid {} on {}) is gone and the job never finished (the "
          "runner was killed, or the machine stopped); events up to #{} were stored",
          *job.runner_pid, job.runner_host, job.events_stored);
      job.finished_at = logging::now_utc();
      store.finish_job(job);
      ended.push_back(std::move(job));
    }
  }
  return ended;
}

namespace {
std::string prefix_problem(std::string_view prefix, const std::vector<std::string>& matches) {
  const std::size_t shown = std::min(matches.size(), JobIdPrefixError::kPrefixCandidates);
  std::string list;
  for (std::size_t i = 0; i < shown; ++i) list += (i == 0 ? "" : ", ") + matches[i];
  const std::string more = matches.size() > shown ? " and more" : "";
  if (prefix.size() < schema::kMinIdPrefix)
    return fmt::format(
        "job id prefix '{}' is too short: give at least {} characters (or the whole id); it "
        "matches {}{}",
        prefix, schema::kMinIdPrefix, list, more);
  return fmt::format("job id prefix '{}' is ambiguous: it matches {}{}; give more characters",
                     prefix, list, more);
}
}  // namespace

JobIdPrefixError::JobIdPrefixError(std::string_view prefix, std::vector<std::string> matches)
    : Error(ErrorKind::usage, prefix_problem(prefix, matches)), candidates_(std::move(matches)) {
  if (candidates_.size() > kPrefixCandidates) candidates_.resize(kPrefixCandidates);
}

std::string StoredEvent::id() const {
  return fmt::format("{}-{:012}", job_id, sequence);
}

std::string default_store_url() {
  if (const char* env = std::getenv("RUNNER_STORE"); env != nullptr && *env != '\0') return env;
  // Without RUNNER_HOME and HOME there is nowhere to put the default file: no store.
  const auto home = secrets::runner_home();
  if (!home) return "none";
  return "sqlite:" + (*home / "runner.db").string();
}

std::unique_ptr<Store> open_store(std::string_view url) {
  if (url == "none") throw StoreError("no store: the store URL is \"none\"");
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path, sqlite://rel/path
    if (path.empty()) throw StoreError(fmt::format("store URL \"{}\" names no file", url));
    return open_sqlite_store(path);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return open_postgres_store(url);
  throw StoreError(fmt::format(
      "unknown store URL \"{}\": use sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB",
      redact_url_password(url)));
}

}  // namespace runner::store
