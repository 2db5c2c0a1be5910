// JobStages: see the header.
#include "runner/job_stages.hpp"

#include "runner/component_stages.hpp"
#include "runner/errors.hpp"
#include "runner/job_runner.hpp"
#include "runner/sync_action.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runner {
namespace fs = std::filesystem;
namespace {

std::vector<Stage> chain_stages(const ComponentSpec& main, const std::vector<ComponentSpec>& before,
                                const std::vector<ComponentSpec>& after) {
  std::vector<Stage> stages;
  for (std::size_t i = 0; i < before.size(); ++i)
    stages.push_back({StageKind::before, i + 1, &before[i]});
  stages.push_back({StageKind::main, 0, &main});
  for (std::size_t i = 0; i < after.size(); ++i)
    stages.push_back({StageKind::after, i + 1, &after[i]});
  return stages;
}

ChainRun row_run(const ComponentSpec& spec, const ConfigRow& row) {
  const auto& before = row.has_before ? row.processors.before : spec.processors.before;
  const auto& after = row.has_after ? row.processors.after : spec.processors.after;
  return {&row, merge_parameters(spec.parameters, row.parameters),
          chain_stages(spec, before, after)};
}

[[noreturn]] void folder_error(const std::string& what, const fs::path& path,
                               const std::error_code& ec) {
  throw InternalError("cannot " + what + " " + path.string() + ": " + ec.message());
}

}  // namespace

std::string Stage::name() const {
  switch (kind) {
    case StageKind::before:
      return "before-" + std::to_string(index);
    case StageKind::after:
      return "after-" + std::to_string(index);
    case StageKind::main:
      break;
  }
  return "main";
}

JobPlan plan_job(const ComponentSpec& spec, const std::optional<std::string>& only_row) {
  JobPlan plan;
  if (is_sync_action(spec)) {  // Keboola runs an action without processors or rows
    plan.runs.push_back({nullptr, spec.parameters, chain_stages(spec, {}, {})});
    return plan;
  }
  plan.tagged =
      !spec.rows.empty() || !spec.processors.before.empty() || !spec.processors.after.empty();
  if (only_row) {
    for (const auto& row : spec.rows)
      if (row.id == *only_row) {
        plan.runs.push_back(row_run(spec, row));
        return plan;
      }
    std::string ids;
    for (const auto& row : spec.rows) ids += (ids.empty() ? "" : ", ") + row.id;
    throw UsageError(
        "--row " + *only_row + ": " +
        (ids.empty() ? "the component has no rows" : "no such row (rows: " + ids + ")"));
  }
  if (spec.rows.empty()) {
    plan.runs.push_back({nullptr, spec.parameters,
                         chain_stages(spec, spec.processors.before, spec.processors.after)});
    return plan;
  }
  for (const auto& row : spec.rows) {
    if (row.disabled)
      plan.disabled.push_back(&row);
    else
      plan.runs.push_back(row_run(spec, row));
  }
  return plan;
}

nlohmann::json stage_config(const Stage& stage, const ChainRun& run) {
  nlohmann::json config = keboola_config(*stage.spec);
  if (stage.kind == StageKind::main) config["parameters"] = run.parameters;
  return config;
}

void move_output_to_input(const fs::path& data_dir) {
  std::error_code ec;
  for (const char* kind : {"tables", "files"}) {
    const fs::path in = data_dir / "in" / kind;
    const fs::path out = data_dir / "out" / kind;
    struct stat owner {};
    const bool known = ::stat(out.c_str(), &owner) == 0;
    fs::remove_all(in, ec);
    if (ec) folder_error("remove", in, ec);
    if (fs::exists(out, ec)) {
      fs::rename(out, in, ec);
      if (ec) folder_error("move", out, ec);
    } else {
      fs::create_directories(in, ec);
      if (ec) folder_error("create", in, ec);
    }
    fs::create_directories(out, ec);
    if (ec) folder_error("create", out, ec);
    // The next stage may run as another user: out/ keeps the owner and mode it had (a folder
    // runner cannot give away stays runner's).
    if (known && ::chown(out.c_str(), owner.st_uid, owner.st_gid) == 0)
      ::chmod(out.c_str(), owner.st_mode & 07777);
  }
}

void write_stage_config(const fs::path& data_dir, const nlohmann::json& config) {
  const fs::path path = data_dir / "config.json";
  struct stat before {};
  const bool known = ::stat(path.c_str(), &before) == 0;
  const std::string text = config.dump(2) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw InternalError("cannot write " + path.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw InternalError("cannot write " + path.string() + ": " + std::strerror(error));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0600);
  if (known && ::fchown(fd, before.st_uid, before.st_gid) != 0) {
    // Not ours to give away (runner is not root): the file stays runner's, as JobWorkspace left it.
  }
  ::close(fd);
}

void copy_folder(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) folder_error("create", to, ec);
  if (!fs::exists(from, ec)) return;
  fs::copy(from, to,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing |
               fs::copy_options::copy_symlinks,
           ec);
  if (ec)
    throw InternalError("cannot copy " + from.string() + " to " + to.string() + ": " +
                        ec.message());
}

nlohmann::json stage_result(const std::string& row, const std::string& stage,
                            const std::string& component_id, const logging::JobSummary& summary,
                            double duration_seconds) {
  nlohmann::json result = nlohmann::json::object();
  if (!row.empty()) result["row"] = row;
  result["stage"] = stage;
  result["component_id"] = component_id;
  result["status"] = logging::job_status_name(summary.status);
  result["exit_code"] = summary.exit_code;
  result["container_exit_code"] =
      summary.container_exit_code ? nlohmann::json(*summary.container_exit_code) : nlohmann::json();
  result["duration"] = duration_seconds;
  return result;
}

nlohmann::json row_result(const std::string& id, std::string_view status, int exit_code,
                          const std::string& message) {
  nlohmann::json row = {{"id", id}, {"status", status}};
  if (status != "disabled" && status != "not_run") {
    row["exit_code"] = exit_code;
    row["message"] = message;
  }
  return row;
}

}  // namespace runner
