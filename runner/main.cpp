// The `runner` command line: run, gc, version and the store, queue and shipper commands. Parsing
// with CLI11; every failure is a runner::Error whose kind decides the exit code documented in
// README.md, translated in one place (classify).
#include "common/host_name.hpp"
#include "docker/engine_client.hpp"
#include "docker/engine_errors.hpp"
#include "logging/event_log.hpp"
#include "logging/jsonl_sink.hpp"
#include "logging/terminal_sink.hpp"
#include "runner/action_command.hpp"
#include "runner/cli_command.hpp"
#include "runner/command_line_check.hpp"
#include "runner/component.hpp"
#include "runner/container_gc.hpp"
#include "runner/engine_options.hpp"
#include "runner/errors.hpp"
#include "runner/gelf_server_command.hpp"
#include "runner/job_id.hpp"
#include "runner/job_outcome.hpp"
#include "runner/job_runner.hpp"
#include "runner/job_stages.hpp"
#include "runner/prune_command.hpp"
#include "runner/queue_commands.hpp"
#include "runner/ship_command.hpp"
#include "runner/state_command.hpp"
#include "runner/stop_request.hpp"
#include "runner/store_commands.hpp"
#include "secrets/config_cipher.hpp"
#include "store/disk_reserve.hpp"
#include "store/sink_settings.hpp"
#include "store/store_sink.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

struct RunArgs {
  std::string component;
  std::string data_dir;
  bool keep_data = false;
  bool clean_out = false;
  bool use_stored_state = false;
  std::string events;
  bool no_color = false;
  bool quiet = false;
  bool verbose = false;
  std::string docker_host;
  std::string project_id = "local";
  std::string branch_id = "default";
  std::string run_mode = "run";
  std::vector<std::string> feature_gates;
  int pull_attempts = 20;
  std::string key_file;
  std::string outputs;
  std::string store;  // empty: the default store
  std::string row;    // --row ID: only this configuration row
  bool require_store = false;
  runner::EngineArgs engine;
};

struct KeyArgs {
  std::string key_file;
  std::string value;
  bool value_given = false;
};

std::optional<std::filesystem::path> key_file_option(const std::string& path) {
  if (path.empty()) return std::nullopt;
  return std::filesystem::path(path);
}

// Finds the key for `encrypt`/`run`; the lookup order is documented in secrets/config_cipher.hpp.
std::optional<runner::secrets::EncryptionKey> lookup_key(const std::string& key_file) {
  return runner::secrets::find_key(key_file_option(key_file));
}

struct GcArgs {
  bool all = false;
  bool dry_run = false;
  std::string docker_host;
};

// The store sink for `runner run`. An explicit --store that cannot be opened is a usage error
// (exit 64) before anything runs; the default store failing (say, a read-only home) only warns:
// the run itself needs no store.
std::unique_ptr<runner::store::StoreSink> open_store_sink(const std::string& option,
                                                          bool require_store,
                                                          const runner::ComponentSpec& spec,
                                                          const std::string& job_id) {
  const std::string url = option.empty() ? runner::store::default_store_url() : option;
  if (url == "none") {
    if (require_store) throw runner::UsageError("--require-store: the store is \"none\"");
    return nullptr;
  }
  runner::store::JobRecord job;
  job.id = job_id;
  job.component_id = spec.id;
  job.namespace_name = spec.namespace_name;
  job.status = std::string(runner::store::kStatusProcessing);
  job.created_at = runner::logging::now_utc();
  job.started_at = job.created_at;
  job.runner_host = runner::host_name();  // `runner gc` ends the job if this process dies
  job.runner_pid = ::getpid();
  runner::store::StoreSinkOptions options;
  options.require_store = require_store;
  if (const auto home = runner::secrets::runner_home()) options.spool_dir = *home / "spool";
  runner::store::apply_sink_settings(options);  // a bad value: exit 64 before the job starts
  try {
    return std::make_unique<runner::store::StoreSink>(runner::store::open_store(url), job, options);
  } catch (const std::exception& e) {
    if (!option.empty()) throw runner::UsageError(std::string("--store: ") + e.what());
    if (require_store)
      throw runner::StoreUnavailableError(std::string("--require-store: ") + e.what());
    std::fprintf(stderr,
                 "runner: warning: events are not kept: %s (use --store none to silence this)\n",
                 e.what());
    return nullptr;
  }
}

// `runner run` of a component whose action is a sync action runs it as `runner action` does.
runner::ActionArgs sync_action_args(const RunArgs& args) {
  runner::ActionArgs a;
  a.component = args.component;
  a.data_dir = args.data_dir;
  a.events = args.events;
  a.store = args.store;
  a.docker_host = args.docker_host;
  a.key_file = args.key_file;
  a.project_id = args.project_id;
  a.branch_id = args.branch_id;
  a.no_color = args.no_color;
  a.quiet = args.quiet;
  a.verbose = args.verbose;
  a.engine = args.engine;
  return a;
}

int command_run(const RunArgs& args) {
  runner::ComponentSpec spec;
  try {
    spec = runner::load_component_file(args.component, [&] { return lookup_key(args.key_file); });
  } catch (const runner::ConfigError& e) {
    for (const auto& line : e.problems())
      std::fprintf(stderr, "%s: %s\n", args.component.c_str(), line.c_str());
    return e.exit_code();
  }
  if (spec.action != "run") return runner::run_sync_action(std::move(spec), sync_action_args(args));
  if (!args.row.empty()) runner::plan_job(spec, args.row);  // an unknown row: exit 64 now

  // Blocks SIGINT/SIGTERM before anything else starts, so a signal is never lost.
  runner::SignalStopSource signals;
  auto terminal_out = args.events == "-" ? runner::logging::OutputFile::standard_error()
                                         : runner::logging::OutputFile::standard_output();
  const bool color = runner::logging::want_color(terminal_out, args.no_color);
  const bool partial_lines = runner::logging::want_partial_lines(terminal_out);
  runner::logging::TerminalSink terminal(std::move(terminal_out), color,
                                         args.quiet     ? runner::logging::Level::warning
                                         : args.verbose ? runner::logging::Level::debug
                                                        : runner::logging::Level::info);
  terminal.set_partial_lines(partial_lines);
  // logging.verbosity showing GELF debug messages is the user's choice: shown without -v.
  const runner::Visibility debug_visibility =
      spec.logging.verbosity[static_cast<std::size_t>(runner::logging::Level::debug)];
  if (debug_visibility == runner::Visibility::normal ||
      debug_visibility == runner::Visibility::verbose)
    terminal.show_debug_from("gelf");
  std::unique_ptr<runner::logging::JsonLinesSink> jsonl;
  if (!args.events.empty()) {
    try {
      jsonl = std::make_unique<runner::logging::JsonLinesSink>(
          runner::logging::OutputFile::open(args.events));
    } catch (const std::exception& e) {
      throw runner::UsageError(std::string("--events: ") + e.what());
    }
  }
  // Opened before the run, like --events: a path that cannot be written is a usage error now,
  // not an internal one after the whole job ran and its outputs were lost.
  std::optional<runner::logging::OutputFile> outputs_file;
  if (!args.outputs.empty()) {
    try {
      outputs_file.emplace(runner::logging::OutputFile::open(args.outputs));
    } catch (const std::exception& e) {
      throw runner::UsageError(std::string("--outputs: ") + e.what());
    }
  }
  runner::logging::EventLog events(runner::new_job_id());
  events.add_sink(terminal);
  if (jsonl) events.add_sink(*jsonl);
  std::unique_ptr<runner::store::StoreSink> stored =
      open_store_sink(args.store, args.require_store, spec, events.job_id());
  if (stored) events.add_sink(*stored);

  runner::RunOptions options;
  if (!args.docker_host.empty()) options.docker_host = args.docker_host;
  if (!args.data_dir.empty()) options.data_dir = args.data_dir;
  options.keep_data = args.keep_data;
  options.clean_out = args.clean_out;
  options.use_stored_state = args.use_stored_state;
  // The state has a connection of its own: the store sink writes from its own thread.
  std::unique_ptr<runner::store::Store> state_store;
  if (stored) {
    try {
      state_store = runner::store::open_store(
          args.store.empty() ? runner::store::default_store_url() : args.store);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "runner: warning: the state is not kept: %s\n", e.what());
    }
  }
  options.state_store = state_store.get();
  options.find_key = [&] { return lookup_key(args.key_file); };
  options.project_id = args.project_id;
  options.branch_id = args.branch_id;
  options.run_mode = args.run_mode;
  options.feature_gates = args.feature_gates;
  options.pull_attempts = args.pull_attempts;
  options.stop = &signals;
  if (!args.row.empty()) options.row = args.row;
  runner::apply_engine_options(args.engine, options);
  runner::JobRunner job(std::move(spec), options, events);
  const runner::logging::JobSummary summary = job.run();
  if (stored) {
    if (auto problem = stored->error())
      std::fprintf(stderr, "runner: warning: %s\n", problem->c_str());
    runner::apply_retention_setting(args.store.empty() ? runner::store::default_store_url()
                                                       : args.store);
  }
  if (outputs_file) {
    // Written whatever the outcome: Kestra returns the outputs of failed tasks too.
    const nlohmann::json doc = {
        {"outputs", summary.outputs}, {"metrics", summary.metrics}, {"assets", summary.assets}};
    outputs_file->write(doc.dump(2) + "\n");
    outputs_file->flush();
  }
  return summary.exit_code;
}

int command_keygen(const KeyArgs& args) {
  std::optional<std::filesystem::path> path = key_file_option(args.key_file);
  if (!path) path = runner::secrets::default_key_path();
  if (!path) throw runner::UsageError("keygen: neither --key-file, RUNNER_HOME nor HOME is set");
  try {
    runner::secrets::write_key_file(*path, runner::secrets::generate_key());
  } catch (const runner::secrets::SecretError& e) {
    throw runner::UsageError(std::string("keygen: ") + e.what());
  }
  std::printf(
      "Wrote a new encryption key to %s (mode 0600). Keep it safe: values encrypted with it "
      "cannot be decrypted without it.\n",
      path->c_str());
  return 0;
}

int command_encrypt(const KeyArgs& args) {
  std::string value = args.value;
  if (!args.value_given) {
    std::ostringstream in;
    in << std::cin.rdbuf();
    value = in.str();
    // A value piped in with echo ends with one newline that is not part of it.
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
  }
  std::optional<runner::secrets::EncryptionKey> key;
  try {
    key = lookup_key(args.key_file);
  } catch (const runner::secrets::SecretError& e) {
    throw runner::UsageError(std::string("encrypt: ") + e.what());
  }
  if (!key)
    throw runner::UsageError(
        "encrypt: no encryption key found: pass --key-file, set RUNNER_ENCRYPTION_KEY, or create "
        "$RUNNER_HOME/secret.key with `runner keygen`");
  std::printf("%s\n", runner::secrets::encrypt_value(*key, value).c_str());
  return 0;
}

// `runner run` jobs in the default store whose runner on this host is gone end as error.
void end_dead_runner_jobs(bool dry_run) {
  const std::string url = runner::store::default_store_url();
  if (url == "none" || dry_run) return;
  try {
    auto db = runner::store::open_store(url);
    const auto store_file = db->local_file();
    const auto say = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    const auto salvage = [&](runner::store::JobRecord& job) {
      runner::store_spooled_events(*db, job, say);
    };
    runner::record_spooled_jobs(*db, say);
    for (const auto& job : runner::store::end_jobs_of_dead_runners(
             *db, runner::host_name(), runner::process_alive, salvage)) {
      std::printf("ended job %s (%s) as error: its runner (pid %lld) is gone\n", job.id.c_str(),
                  job.component_id.c_str(), static_cast<long long>(job.runner_pid.value_or(0)));
      // The disk reserve its StoreSink held (disk_reserve.hpp), left by a kill -9.
      std::error_code ignored;
      if (store_file &&
          std::filesystem::remove(runner::store::reserve_file(*store_file, job.id), ignored))
        std::printf("removed the store's disk reserve of job %s\n", job.id.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runner: warning: the jobs of dead runners were not ended: %s\n",
                 e.what());
  }
}

int command_gc(const GcArgs& args) {
  runner::docker::EngineEndpoint endpoint;
  try {
    endpoint = runner::docker::EngineEndpoint::from_environment(
        args.docker_host.empty() ? std::nullopt : std::optional<std::string>(args.docker_host));
  } catch (const std::invalid_argument& e) {
    throw runner::UsageError(e.what());
  }
  runner::docker::EngineClient client(endpoint);
  const auto entries = runner::collect_orphans(client, args.all, args.dry_run);
  int removed = 0;
  for (const auto& e : entries) {
    const char* verb = e.removed ? "removed" : e.orphan ? "would remove" : "kept";
    std::printf("%s %s (%s, job %s, %s): %s\n", verb, e.name.c_str(), e.state.c_str(),
                e.job_id.c_str(), e.id.substr(0, 12).c_str(), e.reason.c_str());
    removed += e.removed ? 1 : 0;
  }
  std::printf("%zu runner container(s) found, %d removed\n", entries.size(), removed);
  end_dead_runner_jobs(args.dry_run);
  for (const auto& w : runner::collect_orphan_workspaces(args.dry_run))
    std::printf("%s working folder %s (its runner, pid %ld, is gone)\n",
                w.removed      ? "removed"
                : args.dry_run ? "would remove"
                               : "could not remove",
                w.path.c_str(), w.owner_pid);
  return 0;
}

// `runner run` and its options.
CLI::App* add_run_command(CLI::App& app, RunArgs& run) {
  CLI::App* run_cmd = app.add_subcommand("run", "Run a component (component.json) in a container");
  run_cmd->add_option("component", run.component, "Path to component.json")
      ->required()
      ->check(CLI::ExistingFile);
  run_cmd
      ->add_option("--data-dir", run.data_dir,
                   "Use this existing folder as /data (inputs in DIR/in, outputs in DIR/out)")
      ->check(CLI::ExistingDirectory);
  run_cmd->add_flag("--keep-data", run.keep_data, "Keep the job's working folder after the run");
  run_cmd->add_flag("--clean-out", run.clean_out,
                    "With --data-dir: remove what an earlier run left in DIR/out first");
  run_cmd->add_flag("--use-stored-state", run.use_stored_state,
                    "With --data-dir: replace DIR/in/state.json with the stored state");
  run_cmd->add_option("--events", run.events,
                      "Write events as JSON Lines to FILE, or - for stdout");
  run_cmd->add_flag("--no-color", run.no_color,
                    "Never colour terminal output (NO_COLOR is honoured too)");
  run_cmd->add_flag("-q,--quiet", run.quiet,
                    "Show only warnings, errors and the summary on the terminal");
  run_cmd->add_flag("-v,--verbose", run.verbose, "Show debug events on the terminal");
  run_cmd->add_option("--docker-host", run.docker_host,
                      "Engine address (unix:///path or tcp://host:port); default $DOCKER_HOST or "
                      "/var/run/docker.sock");
  runner::add_engine_options(*run_cmd, run.engine);
  run_cmd->add_option("--row", run.row, "Run only this configuration row (even when disabled)");
  run_cmd->add_option("--project-id", run.project_id, "KBC_PROJECTID given to the component")
      ->capture_default_str();
  run_cmd->add_option("--branch-id", run.branch_id, "KBC_BRANCHID given to the component")
      ->capture_default_str();
  run_cmd
      ->add_option("--run-mode", run.run_mode,
                   "KBC_COMPONENT_RUN_MODE: run, or debug (state is then not saved)")
      ->check(CLI::IsMember({"run", "debug"}))
      ->capture_default_str();
  run_cmd->add_option("--feature-gate", run.feature_gates,
                      "A project feature for KBC_PROJECT_FEATURE_GATES (repeatable)");
  run_cmd
      ->add_option("--pull-attempts", run.pull_attempts,
                   "Tries of an image pull before it fails (backoff 0.5 s doubling to 60 s)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();

  run_cmd->add_option(
      "--outputs", run.outputs,
      "After the run, write {\"outputs\": {...}, \"metrics\": [...]} (Kestra protocol) to FILE");
  run_cmd->add_option("--store", run.store,
                      "Keep the job and its events in sqlite:PATH, postgresql://... or none "
                      "(default $RUNNER_STORE, else sqlite:$RUNNER_HOME/runner.db)");
  run_cmd->add_flag("--require-store", run.require_store,
                    "Fail the job (exit 74) when the store cannot keep all of its events, instead "
                    "of recording which are missing");
  run_cmd->add_option(
      "--key-file", run.key_file,
      "Key for encrypted values (else RUNNER_ENCRYPTION_KEY, else $RUNNER_HOME/secret.key)");
  return run_cmd;
}

struct KeyCommands {
  CLI::App* keygen;
  CLI::App* encrypt;
};

// `runner keygen` and `runner encrypt`.
KeyCommands add_key_commands(CLI::App& app, KeyArgs& keygen, KeyArgs& encrypt) {
  CLI::App* keygen_cmd = app.add_subcommand(
      "keygen", "Create a new random 256-bit encryption key (mode 0600; never overwrites)");
  keygen_cmd->add_option(
      "--key-file", keygen.key_file,
      "Where to write it (default $RUNNER_HOME/secret.key, RUNNER_HOME defaulting to ~/.runner)");

  CLI::App* encrypt_cmd = app.add_subcommand(
      "encrypt", "Encrypt a value for component.json (reads stdin without VALUE)");
  encrypt_cmd->add_option("--key-file", encrypt.key_file,
                          "Key to use (else RUNNER_ENCRYPTION_KEY, else $RUNNER_HOME/secret.key)");
  encrypt_cmd->add_option("value", encrypt.value,
                          "The value; omit it to read stdin (it then stays out of shell history)");
  return {keygen_cmd, encrypt_cmd};
}

// `runner gc`.
CLI::App* add_gc_command(CLI::App& app, GcArgs& gc) {
  CLI::App* gc_cmd =
      app.add_subcommand("gc", "Remove containers left behind by runners that were killed");
  gc_cmd->add_flag("--all", gc.all,
                   "Remove every runner container, also those of live runners and other hosts");
  gc_cmd->add_flag("--dry-run", gc.dry_run, "Only list what would be removed");
  gc_cmd->add_option("--docker-host", gc.docker_host,
                     "Engine address; default $DOCKER_HOST or /var/run/docker.sock");
  return gc_cmd;
}

}  // namespace

// Registering the commands throws only on a programming error (CLI11: a name given twice), which
// may end the process; every error of a command is classified in the catch at the end.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  std::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CLI::App app{"runner: run Keboola-style components in containers through the Docker Engine API"};
  app.require_subcommand(1);
  const std::string version = std::string("runner ") + runner::runner_version();
  app.set_version_flag("-V,--version", version, "Print runner's version");

  // Every command, one line each (runner/cli_command.hpp); the one parsed runs.
  std::vector<runner::CliCommand> commands;
  RunArgs run;
  commands.push_back({add_run_command(app, run), [&] { return command_run(run); }});
  KeyArgs keygen;
  KeyArgs encrypt;
  const KeyCommands key_cmds = add_key_commands(app, keygen, encrypt);
  commands.push_back({key_cmds.keygen, [&] { return command_keygen(keygen); }});
  commands.push_back({key_cmds.encrypt, [&, cmd = key_cmds.encrypt] {
                        encrypt.value_given = cmd->count("value") > 0;
                        return command_encrypt(encrypt);
                      }});
  GcArgs gc;
  commands.push_back({add_gc_command(app, gc), [&] { return command_gc(gc); }});
  runner::GelfServerArgs gelf_server;
  commands.push_back({runner::add_gelf_server_command(app, gelf_server),
                      [&] { return runner::command_gelf_server(gelf_server); }});
  runner::StoreCommandArgs jobs_args, logs_args, show_args;
  const runner::StoreCommands store_cmds =
      runner::add_store_commands(app, jobs_args, logs_args, show_args);
  commands.push_back({store_cmds.jobs, [&] { return runner::command_jobs(jobs_args); }});
  commands.push_back({store_cmds.logs, [&] { return runner::command_logs(logs_args); }});
  commands.push_back({store_cmds.show, [&] { return runner::command_show(show_args); }});
  runner::QueueArgs submit_args, cancel_args, worker_args;
  const runner::QueueCommands queue_cmds =
      runner::add_queue_commands(app, submit_args, cancel_args, worker_args);
  commands.push_back({queue_cmds.submit, [&] { return runner::command_submit(submit_args); }});
  commands.push_back({queue_cmds.cancel, [&] { return runner::command_cancel(cancel_args); }});
  commands.push_back({queue_cmds.worker, [&] { return runner::command_worker(worker_args); }});
  runner::ShipArgs ship;
  commands.push_back(
      {runner::add_ship_command(app, ship), [&] { return runner::command_ship(ship); }});
  const runner::PruneCommand prune(app);
  commands.push_back({app.get_subcommand("prune"), [&] { return prune.run(); }});
  const runner::StateCommand state_cmd(app);
  commands.push_back({app.get_subcommand("state"), [&] { return state_cmd.run(); }});
  runner::ActionArgs action;
  commands.push_back(
      {runner::add_action_command(app, action), [&] { return runner::command_action(action); }});
  commands.push_back({app.add_subcommand("version", "Print runner's version (as --version, -V)"),
                      [&] { return std::printf("%s\n", version.c_str()) < 0 ? 1 : 0; }});

  // A mistyped command or option is named, with the nearest known one, before CLI11 parses.
  if (const auto problem =
          runner::check_command_line(app, std::vector<std::string>(argv + 1, argv + argc))) {
    std::fprintf(stderr, "%s\n", problem->c_str());  // "runner run: unknown option ..."
    return runner::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return runner::kExitUsage;
  }

  try {
    for (const auto& command : commands)
      if (command.app->parsed()) return command.run();
    return runner::kExitUsage;
  } catch (...) {
    const runner::JobOutcome failure = runner::classify(std::current_exception());
    std::fprintf(stderr, "runner: %s\n", failure.message.c_str());
    return failure.exit_code;
  }
}
