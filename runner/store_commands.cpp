// `runner jobs`, `runner logs`, `runner show`: see store_commands.hpp.
#include "runner/store_commands.hpp"

#include "logging/event.hpp"
#include "logging/json_reader.hpp"
#include "logging/json_text.hpp"
#include "logging/output_file.hpp"
#include "logging/terminal_sink.hpp"
#include "logging/terminal_text.hpp"
#include "runner/errors.hpp"
#include "store/event_block.hpp"
#include "store/retention.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>
#include <vector>

namespace runner {

namespace {

std::unique_ptr<store::Store> open_for_reading(const std::string& option) {
  const std::string url = option.empty() ? store::default_store_url() : option;
  if (url == "none") throw UsageError("--store none: this command needs a store");
  try {
    return store::open_store(url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }
}

store::JobRecord find_job_or_throw(store::Store& db, const std::string& id) {
  // A short or ambiguous prefix is a usage error (store::JobIdPrefixError); a store that
  // cannot be read, damaged say, is StoreError (exit 74).
  const std::optional<store::JobRecord> job = db.find_job(id);
  if (!job) throw NotFoundError("no job " + id + " in " + db.describe());
  return *job;
}

std::string time_or_dash(const std::optional<logging::EventTime>& t) {
  return t ? logging::format_time(*t) : "-";
}

double seconds_between(logging::EventTime a, logging::EventTime b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string duration_text(const store::JobRecord& job) {
  if (!job.started_at) return "-";
  const auto end = job.finished_at.value_or(logging::now_utc());
  return fmt::format("{:.1f}s", seconds_between(*job.started_at, end));
}

nlohmann::ordered_json job_to_json(const store::JobRecord& job) {
  auto parse_or_text = [](const std::string& text) {
    auto value = logging::read_json_or_discarded(text);
    return value.is_discarded() ? nlohmann::json(text) : value;
  };
  // The job object of docs/events.md's schema, shared with the --events result record: the same
  // names (job_id, duration), and null, never "", for a value that is not there.
  nlohmann::ordered_json out;
  out["job_id"] = job.id;
  out["component_id"] = job.component_id;
  out["namespace"] = job.namespace_name;
  out["status"] = job.status;
  out["priority"] = job.priority;
  out["error_type"] =
      job.error_type.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(job.error_type);
  out["message"] = job.message;
  out["exit_code"] = job.exit_code ? nlohmann::json(*job.exit_code) : nlohmann::json();
  out["container_exit_code"] =
      job.container_exit_code ? nlohmann::json(*job.container_exit_code) : nlohmann::json();
  out["created_at"] = logging::format_time(job.created_at);
  out["started_at"] =
      job.started_at ? nlohmann::json(logging::format_time(*job.started_at)) : nlohmann::json();
  out["finished_at"] =
      job.finished_at ? nlohmann::json(logging::format_time(*job.finished_at)) : nlohmann::json();
  out["duration"] = job.started_at && job.finished_at
                        ? nlohmann::ordered_json(seconds_between(*job.started_at, *job.finished_at))
                        : nlohmann::ordered_json();
  out["outputs"] = parse_or_text(job.outputs);
  out["metrics"] = parse_or_text(job.metrics);
  out["events_stored"] = job.events_stored;
  if (!job.worker_id.empty()) out["worker_id"] = job.worker_id;
  if (job.attempts > 0) out["attempts"] = job.attempts;
  if (job.cancel_requested) out["cancel_requested"] = true;
  if (job.runner_pid) out["runner"] = {{"host", job.runner_host}, {"pid", *job.runner_pid}};
  if (!job.events_missing.empty())
    out["events_missing"] = {{"sequences", job.events_missing},
                             {"reason", job.events_missing_reason}};
  return out;
}

// "2/137": runner's exit code and the container's, "-" for one not known.
std::string exit_codes_text(const store::JobRecord& job) {
  return fmt::format("{}/{}", job.exit_code ? std::to_string(*job.exit_code) : "-",
                     job.container_exit_code ? std::to_string(*job.container_exit_code) : "-");
}

// The line `runner logs --follow` ends with once the job has finished: the summary line
// `runner run` prints, from the stored job.
void print_final_status(logging::TerminalSink& terminal, const store::JobRecord& job) {
  const auto status = logging::job_status_from_name(job.status);
  if (status == logging::JobStatus::cancelled) {
    std::printf("Job %s cancelled before it started\n", job.id.c_str());
    return;
  }
  logging::JobSummary summary;
  summary.job_id = job.id;
  summary.component_id = job.component_id;
  summary.status = status.value_or(logging::JobStatus::error);
  summary.error_type =
      logging::error_type_from_name(job.error_type).value_or(logging::ErrorType::none);
  summary.exit_code = job.exit_code.value_or(0);
  summary.container_exit_code = job.container_exit_code;
  if (job.started_at && job.finished_at)
    summary.duration_seconds = seconds_between(*job.started_at, *job.finished_at);
  summary.message = job.message;
  terminal.finish(summary);
}

// A stored text that is not valid UTF-8 (a damaged row) is shown with U+FFFD, not refused.
std::string json_text(const nlohmann::ordered_json& doc, int indent = -1) {
  return doc.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// One stored event as a JSON line: the --events format plus the event's unique id.
void append_event_json(std::string& line, const store::StoredEvent& e) {
  line.append("{\"id\":");
  logging::append_json_string(line, e.id());
  line.append(",\"time\":\"");
  line.append(logging::format_time(e.time));
  line.append("\",\"job_id\":");
  logging::append_json_string(line, e.job_id);
  line.append(",\"seq\":");
  line.append(std::to_string(e.sequence));
  line.append(",\"level\":\"");
  line.append(logging::level_name(e.level));
  line.append("\",\"source\":");
  logging::append_json_string(line, e.source);
  line.append(",\"message\":");
  logging::append_json_string(line, e.message);
  if (!e.fields.empty()) {
    line.append(",\"fields\":");
    line.append(e.fields);
  }
  line.append("}\n");
}

std::string removed_by_text(const std::string& by) {
  if (by == "ship") return "runner ship (delete: true)";
  if (by == "prune") return "runner prune";
  return by;
}

// A job's removal records added up per remover (a shipper deletes a busy job's blocks over many
// batches: one line for all of them), in the order the removers first appear.
std::vector<store::EventRemoval> summarized(const std::vector<store::EventRemoval>& removals) {
  std::vector<store::EventRemoval> out;
  for (const auto& r : removals) {
    auto it = std::find_if(out.begin(), out.end(), [&](const store::EventRemoval& o) {
      return o.removed_by == r.removed_by;
    });
    if (it == out.end()) {
      out.push_back(r);
      continue;
    }
    it->events += r.events;
    it->first_sequence = std::min(it->first_sequence, r.first_sequence);
    it->last_sequence = std::max(it->last_sequence, r.last_sequence);
    it->removed_at = std::max(it->removed_at, r.removed_at);
  }
  return out;
}

// "2000001 event(s) (#1-#2000001) removed by runner ship (delete: true) at TIME" per remover.
std::vector<std::string> removal_lines(const std::vector<store::EventRemoval>& removals) {
  std::vector<std::string> lines;
  for (const auto& r : summarized(removals))
    lines.push_back(fmt::format("{} event(s) (#{}-#{}) removed by {} at {}", r.events,
                                r.first_sequence, r.last_sequence, removed_by_text(r.removed_by),
                                logging::format_time(r.removed_at)));
  return lines;
}

// A note on stderr when the store has grown past a size worth knowing and nothing prunes it.
void warn_about_size(store::Store& db) {
  const char* retention = std::getenv("RUNNER_RETENTION");
  if (retention != nullptr && *retention != '\0') return;
  std::optional<std::uint64_t> size;
  try {
    size = db.size_bytes();
  } catch (const std::exception&) {
    return;  // a size we cannot read is not worth a failure of `runner jobs`
  }
  if (!size || *size < store::kStoreSizeWorthKnowing) return;
  std::fprintf(stderr,
               "runner: note: the store %s is %.1f GiB; `runner prune --older-than 30d` deletes "
               "old jobs and shrinks it, RUNNER_RETENTION=30d does so automatically\n",
               db.describe().c_str(), static_cast<double>(*size) / (1 << 30));
}

}  // namespace

StoreCommands add_store_commands(CLI::App& app, StoreCommandArgs& jobs, StoreCommandArgs& logs,
                                 StoreCommandArgs& show) {
  const std::string store_help =
      "Store to read: sqlite:PATH or postgresql://... (default $RUNNER_STORE, else "
      "sqlite:$RUNNER_HOME/runner.db)";
  StoreCommands cmds;
  cmds.jobs = app.add_subcommand("jobs", "List jobs in the store, newest first");
  cmds.jobs->add_option("--store", jobs.store, store_help);
  cmds.jobs->add_option("--namespace", jobs.namespace_name,
                        "Only jobs in this namespace (and its child namespaces)");
  cmds.jobs
      ->add_option("--status", jobs.status,
                   "Only jobs with this status (created, waiting, processing, success, "
                   "warning, error, terminating, cancelled, terminated)")
      ->check(CLI::IsMember({"created", "waiting", "processing", "success", "warning", "error",
                             "terminating", "cancelled", "terminated"}));
  cmds.jobs->add_option("-n,--limit", jobs.limit, "At most this many jobs")->capture_default_str();
  cmds.jobs->add_flag("--json", jobs.json, "One JSON object per job");

  cmds.logs = app.add_subcommand("logs", "Print a job's stored events");
  cmds.logs->add_option("job", logs.job, "Job id (or a unique prefix of at least 8 characters)")
      ->required();
  cmds.logs->add_option("--store", logs.store, store_help);
  cmds.logs->add_option("--level", logs.level, "Only events at this level or above")
      ->check(CLI::IsMember(
          {"debug", "info", "notice", "warning", "warn", "error", "critical", "alert", "emergency"},
          CLI::ignore_case))
      ->capture_default_str();
  cmds.logs->add_flag("-f,--follow", logs.follow,
                      "Keep printing new events until the job finishes");
  cmds.logs->add_flag("--json", logs.json, "One JSON object per event (with its unique id)");
  cmds.logs->add_flag("--no-color", logs.no_color, "Never colour the output");

  cmds.show = app.add_subcommand("show", "Show a job: status, times, result, outputs, metrics");
  cmds.show->add_option("job", show.job, "Job id (or a unique prefix of at least 8 characters)")
      ->required();
  cmds.show->add_option("--store", show.store, store_help);
  cmds.show->add_flag("--json", show.json, "As one JSON object");
  return cmds;
}

int command_jobs(const StoreCommandArgs& args) {
  auto db = open_for_reading(args.store);
  store::JobFilter filter;
  if (!args.namespace_name.empty()) filter.namespace_name = args.namespace_name;
  if (!args.status.empty()) filter.status = args.status;
  filter.limit = args.limit;
  const auto jobs = db->list_jobs(filter);
  warn_about_size(*db);
  if (args.json) {
    for (const auto& job : jobs) std::printf("%s\n", json_text(job_to_json(job)).c_str());
    return 0;
  }
  if (jobs.empty()) {
    std::printf("no jobs in %s\n", db->describe().c_str());
    return 0;
  }
  // EXIT: runner's exit code (README) and the container's, e.g. "1/137" for an OOM kill.
  std::printf("%-36s  %-11s  %-24s  %-16s  %-27s  %8s  %s\n", "JOB", "STATUS", "COMPONENT",
              "NAMESPACE", "CREATED", "DURATION", "EXIT(RUNNER/CONTAINER)");
  bool any_missing = false;
  for (const auto& job : jobs) {
    // A job that lost events is marked: `runner show` says which and why.
    const std::string status = job.events_missing.empty() ? job.status : job.status + "!";
    any_missing = any_missing || !job.events_missing.empty();
    std::printf("%-36s  %-11s  %-24s  %-16s  %-27s  %8s  %s\n", job.id.c_str(), status.c_str(),
                job.component_id.c_str(), job.namespace_name.c_str(),
                logging::format_time(job.created_at).c_str(), duration_text(job).c_str(),
                exit_codes_text(job).c_str());
  }
  if (any_missing)
    std::printf("! some events of the job were not stored: `runner show JOB` says which and why\n");
  return 0;
}

int command_logs(const StoreCommandArgs& args) {
  auto db = open_for_reading(args.store);
  store::JobRecord job = find_job_or_throw(*db, args.job);
  const logging::Level min_level =
      logging::level_from_name(args.level).value_or(logging::Level::debug);
  auto out = logging::OutputFile::standard_output();
  const bool color = !args.json && logging::want_color(out, args.no_color);
  logging::TerminalSink terminal(logging::OutputFile::standard_output(), color, min_level);
  std::string line;
  std::uint64_t after = 0;
  for (;;) {
    bool finished_before_read = store::is_final_status(job.status);
    for (;;) {
      const auto blocks = db->job_blocks(job.id, after, 64);
      if (blocks.empty()) break;
      for (const auto& block : blocks) {
        for (const auto& e : store::decode_block(block)) {
          if (e.sequence <= after) continue;
          after = e.sequence;
          if (e.level < min_level) continue;
          if (args.json) {
            line.clear();
            append_event_json(line, e);
            out.write(line);
          } else {
            const nlohmann::json fields =
                e.fields.empty() ? nlohmann::json() : logging::read_json_or_discarded(e.fields);
            logging::Event view{e.time,
                                e.job_id,
                                e.sequence,
                                e.level,
                                e.source,
                                e.message,
                                e.fields.empty() ? nullptr : &fields};
            terminal.write(view);
          }
        }
      }
      out.flush();
      terminal.flush();
    }
    if (!args.follow) break;
    if (finished_before_read) {
      if (!args.json) print_final_status(terminal, job);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    job = find_job_or_throw(*db, job.id);
  }
  out.flush();
  terminal.flush();
  // Events that were deleted are said to be, not silently missing (on stderr: stdout stays the
  // events themselves, for pipes and --json).
  for (const auto& line : removal_lines(db->event_removals(job.id)))
    std::fprintf(stderr, "runner: job %s: %s\n", job.id.c_str(), line.c_str());
  return 0;
}

namespace {
// Keboola's usage file and state of a job (issue 13), for `runner show`.
void show_keboola_files(store::Store& db, const std::string& job_id) {
  if (const auto usage = db.job_usage(job_id)) {
    const auto doc = logging::read_json_or_discarded(*usage);
    std::printf("Usage       %s\n", doc.is_discarded() ? usage->c_str() : doc.dump().c_str());
  }
  const auto writes = db.job_state_writes(job_id);
  if (writes.empty()) {
    std::printf("State       unchanged\n");
    return;
  }
  for (const auto& w : writes)
    std::printf("State       %s (%s, config %s%s)\n",
                w.removed ? "removed" : fmt::format("saved, {} bytes", w.state.size()).c_str(),
                w.key.component_id.c_str(),
                w.key.config_id.empty() ? "\"\"" : w.key.config_id.c_str(),
                w.key.row_id.empty() ? "" : (", row " + w.key.row_id).c_str());
}
// A job of several container runs (processors, rows; store v5): the stored {"rows", "stages"},
// or nullopt for a job of one container (or one the store has no such record of).
std::optional<nlohmann::json> stored_runs(store::Store& db, const std::string& job_id) {
  const auto text = db.job_runs(job_id);
  if (!text) return std::nullopt;
  auto doc = logging::read_json_or_discarded(*text);
  if (!doc.is_object() || !doc.value("rows", nlohmann::json()).is_array() ||
      !doc.value("stages", nlohmann::json()).is_array())
    return std::nullopt;
  return doc;
}

std::string cell_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{:.2f}s", value.get<double>());
  if (value.is_number()) return value.dump();
  return "-";
}

// The table of `runner show`: one line per container run (ROW, STAGE, COMPONENT, STATUS, EXIT
// as runner's/the container's, DURATION), and one per row that did not run (disabled, not_run).
void print_runs(const nlohmann::json& runs) {
  std::vector<std::array<std::string, 6>> lines = {
      {"ROW", "STAGE", "COMPONENT", "STATUS", "EXIT", "DURATION"}};
  auto field = [](const nlohmann::json& entry, const char* name) {
    return cell_text(entry.value(name, nlohmann::json()));
  };
  auto add_stage = [&](const nlohmann::json& s) {
    lines.push_back(
        {field(s, "row"), field(s, "stage"), field(s, "component_id"), field(s, "status"),
         field(s, "exit_code") + "/" + field(s, "container_exit_code"), field(s, "duration")});
  };
  const auto& stages = runs.at("stages");
  const auto& rows = runs.at("rows");
  if (rows.empty())
    for (const auto& s : stages)
      if (s.is_object()) add_stage(s);
  for (const auto& row : rows) {
    if (!row.is_object()) continue;
    const std::string id = field(row, "id");
    bool ran = false;
    for (const auto& s : stages)
      if (s.is_object() && field(s, "row") == id) {
        add_stage(s);
        ran = true;
      }
    if (!ran) lines.push_back({id, "-", "-", field(row, "status"), "-", field(row, "duration")});
  }
  std::array<std::size_t, 6> width{};
  for (const auto& line : lines)
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::string text = n == 0 ? "Runs        " : "            ";
    for (std::size_t i = 0; i < lines[n].size(); ++i)
      text +=
          i + 1 == lines[n].size() ? lines[n][i] : fmt::format("{:<{}}  ", lines[n][i], width[i]);
    std::printf("%s\n", logging::terminal_text(text, " ").c_str());
  }
}

}  // namespace

int command_show(const StoreCommandArgs& args) {
  auto db = open_for_reading(args.store);
  const store::JobRecord job = find_job_or_throw(*db, args.job);
  if (args.json) {
    auto doc = job_to_json(job);
    const auto removals = summarized(db->event_removals(job.id));
    if (!removals.empty()) {
      doc["events_removed"] = nlohmann::json::array();
      for (const auto& r : removals)
        doc["events_removed"].push_back({{"by", r.removed_by},
                                         {"at", logging::format_time(r.removed_at)},
                                         {"events", r.events},
                                         {"first_sequence", r.first_sequence},
                                         {"last_sequence", r.last_sequence}});
    }
    if (const auto runs = stored_runs(*db, job.id)) {
      if (!runs->at("rows").empty()) doc["rows"] = runs->at("rows");
      if (!runs->at("stages").empty()) doc["stages"] = runs->at("stages");
    }
    std::printf("%s\n", json_text(doc, 2).c_str());
    return 0;
  }
  std::string exit_text;
  if (job.exit_code) exit_text = fmt::format(", exit code {}", *job.exit_code);
  if (job.container_exit_code)
    exit_text += fmt::format(", container exit code {}", *job.container_exit_code);
  std::printf("Job         %s\n", job.id.c_str());
  std::printf("Component   %s\n", job.component_id.c_str());
  std::printf("Namespace   %s\n", job.namespace_name.c_str());
  std::printf("Status      %s%s%s\n", job.status.c_str(),
              job.error_type.empty() ? "" : (" (" + job.error_type + " error)").c_str(),
              exit_text.c_str());
  std::printf("Created     %s\n", logging::format_time(job.created_at).c_str());
  std::printf("Started     %s\n", time_or_dash(job.started_at).c_str());
  std::printf("Finished    %s\n", time_or_dash(job.finished_at).c_str());
  std::printf("Duration    %s\n", duration_text(job).c_str());
  if (!job.worker_id.empty()) std::printf("Worker      %s\n", job.worker_id.c_str());
  if (job.attempts > 1) std::printf("Attempts    %d\n", job.attempts);
  if (!job.message.empty())
    std::printf("Message     %s\n", logging::terminal_text(job.message, "\n            ").c_str());
  const auto outputs = logging::read_json_or_discarded(job.outputs);
  const auto metrics = logging::read_json_or_discarded(job.metrics);
  if (!outputs.is_discarded() && !outputs.empty())
    std::printf("Outputs     %s\n", outputs.dump(2).c_str());
  if (!metrics.is_discarded() && !metrics.empty())
    std::printf("Metrics     %s\n", metrics.dump(2).c_str());
  show_keboola_files(*db, job.id);
  if (const auto runs = stored_runs(*db, job.id)) print_runs(*runs);
  if (job.runner_pid)
    std::printf("Runner      pid %lld on %s\n", static_cast<long long>(*job.runner_pid),
                job.runner_host.c_str());
  std::printf("Events      up to #%llu (runner logs %s)\n",
              static_cast<unsigned long long>(job.events_stored), job.id.c_str());
  if (!job.events_missing.empty())
    std::printf("Missing     events %s were not stored: %s\n", job.events_missing.c_str(),
                logging::terminal_text(job.events_missing_reason, "\n            ").c_str());
  for (const auto& line : removal_lines(db->event_removals(job.id)))
    std::printf("            %s\n", line.c_str());
  return 0;
}

}  // namespace runner
