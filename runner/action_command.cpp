// `runner action`: see the header.
#include "runner/action_command.hpp"

#include "logging/event_log.hpp"
#include "logging/jsonl_sink.hpp"
#include "logging/terminal_sink.hpp"
#include "runner/errors.hpp"
#include "runner/job_id.hpp"
#include "runner/job_runner.hpp"
#include "runner/stop_request.hpp"
#include "runner/sync_action.hpp"
#include "secrets/config_cipher.hpp"
#include "store/store_sink.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

namespace runner {
namespace {

// The store sink of the action's job: as `runner run`'s, an explicit --store that cannot be
// opened is a usage error, the default store failing only warns.
std::unique_ptr<store::StoreSink> open_action_store(const std::string& option,
                                                    const ComponentSpec& spec,
                                                    const std::string& job_id) {
  const std::string url = option.empty() ? store::default_store_url() : option;
  if (url == "none") return nullptr;
  store::JobRecord job;
  job.id = job_id;
  job.component_id = spec.id;
  job.namespace_name = spec.namespace_name;
  job.status = std::string(store::kStatusProcessing);
  job.created_at = logging::now_utc();
  job.started_at = job.created_at;
  try {
    return std::make_unique<store::StoreSink>(store::open_store(url), job);
  } catch (const std::exception& e) {
    if (!option.empty()) throw UsageError(std::string("--store: ") + e.what());
    std::fprintf(stderr, "runner: warning: events are not kept: %s\n", e.what());
    return nullptr;
  }
}

}  // namespace

CLI::App* add_action_command(CLI::App& app, ActionArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "action",
      "Run a sync action of a component (30 s limit) and print its JSON answer on stdout");
  cmd->add_option("name", args.name, "The action, such as testConnection")->required();
  cmd->add_option("component", args.component, "Path to component.json")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--data-dir", args.data_dir, "Use this existing folder as /data")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--events", args.events, "Also write events as JSON Lines to FILE");
  cmd->add_option("--store", args.store,
                  "Keep the job and its events in sqlite:PATH, postgresql://... or none");
  cmd->add_option("--docker-host", args.docker_host,
                  "Engine address; default $DOCKER_HOST or /var/run/docker.sock");
  add_engine_options(*cmd, args.engine);
  cmd->add_option("--key-file", args.key_file, "Key for encrypted values");
  cmd->add_option("--project-id", args.project_id, "KBC_PROJECTID given to the component");
  cmd->add_option("--branch-id", args.branch_id, "KBC_BRANCHID given to the component");
  cmd->add_flag("--no-color", args.no_color, "Never colour the events on stderr");
  cmd->add_flag("-q,--quiet", args.quiet, "Show only warnings, errors and the summary on stderr");
  cmd->add_flag("-v,--verbose", args.verbose, "Show debug events on stderr");
  return cmd;
}

int command_action(const ActionArgs& args) {
  if (args.name == "run")
    throw UsageError("action: \"run\" is not a sync action: use `runner run " + args.component +
                     "`");
  ComponentSpec spec;
  try {
    spec = load_component_file(args.component, [&] {
      return secrets::find_key(args.key_file.empty()
                                   ? std::nullopt
                                   : std::optional<std::filesystem::path>(args.key_file));
    });
  } catch (const ConfigError& e) {
    for (const auto& line : e.problems())
      std::fprintf(stderr, "%s: %s\n", args.component.c_str(), line.c_str());
    return e.exit_code();
  }
  spec.action = args.name;
  return run_sync_action(std::move(spec), args);
}

int run_sync_action(ComponentSpec spec, const ActionArgs& args) {
  if (args.events == "-")
    throw UsageError("--events -: a sync action's stdout is its answer; give a file");
  SignalStopSource signals;  // first, so no signal is lost
  auto terminal_out = logging::OutputFile::standard_error();
  const bool color = logging::want_color(terminal_out, args.no_color);
  logging::TerminalSink terminal(std::move(terminal_out), color,
                                 args.quiet     ? logging::Level::warning
                                 : args.verbose ? logging::Level::debug
                                                : logging::Level::info);
  std::unique_ptr<logging::JsonLinesSink> jsonl;
  if (!args.events.empty()) {
    try {
      jsonl = std::make_unique<logging::JsonLinesSink>(logging::OutputFile::open(args.events));
    } catch (const std::exception& e) {
      throw UsageError(std::string("--events: ") + e.what());
    }
  }
  logging::EventLog events(new_job_id());
  events.add_sink(terminal);
  if (jsonl) events.add_sink(*jsonl);
  std::unique_ptr<store::StoreSink> stored = open_action_store(args.store, spec, events.job_id());
  if (stored) events.add_sink(*stored);

  RunOptions options;
  if (!args.docker_host.empty()) options.docker_host = args.docker_host;
  if (!args.data_dir.empty()) options.data_dir = args.data_dir;
  options.project_id = args.project_id;
  options.branch_id = args.branch_id;
  options.stop = &signals;
  apply_engine_options(args.engine, options);
  events.emit(logging::Level::info, "runner",
              "Sync action \"" + spec.action + "\": at most " +
                  std::to_string(job_timeout_seconds(spec)) +
                  " s, no state, its stdout is the answer");
  JobRunner job(std::move(spec), options, events);
  const logging::JobSummary summary = job.run();
  if (stored) {
    if (auto problem = stored->error())
      std::fprintf(stderr, "runner: warning: %s\n", problem->c_str());
  }
  if (summary.exit_code == 0 && job.action_response()) {
    const std::string& answer = *job.action_response();
    std::fwrite(answer.data(), 1, answer.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  return summary.exit_code;
}

}  // namespace runner
