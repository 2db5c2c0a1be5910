// JobRunner: see the header.
#include "runner/job_runner.hpp"

#include "docker/attached_container.hpp"
#include "docker/engine_client.hpp"
#include "docker/engine_errors.hpp"
#include "docker/host_address.hpp"
#include "logging/head_tail_buffer.hpp"
#include "logging/kestra_results.hpp"
#include "runner/errors.hpp"
#include "runner/gelf_logging.hpp"
#include "runner/job_outcome.hpp"
#include "runner/job_workspace.hpp"
#include "runner/output_pipeline.hpp"
#include "secrets/secret_scrubber.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace runner {
namespace {

using Clock = std::chrono::steady_clock;
using logging::Level;

constexpr std::size_t kStderrHeadTail = 1024 * 1024;
constexpr std::size_t kStdoutHeadTail = 16 * 1024;  // enough for a 4000-character message

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

// Removes the container on every path out of the run; `left` names it until a removal succeeded.
class ContainerGuard {
 public:
  ContainerGuard(docker::EngineClient& client, std::string id, std::string& left)
      : client_(client), id_(std::move(id)), left_(left) {
    left_ = id_;
  }
  ~ContainerGuard() {
    try {
      remove();
    } catch (
        ...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; `runner gc` cleans up
    }
  }
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;
  void remove() {
    if (id_.empty()) return;
    const std::string id = std::move(id_);
    id_.clear();
    client_.remove_container(id);
    left_.clear();
  }

 private:
  docker::EngineClient& client_;
  std::string id_;
  std::string& left_;
};

docker::ContainerConfig container_config(const ComponentSpec& spec, const RunOptions& options,
                                         const JobWorkspace& workspace, const std::string& job_id) {
  docker::ContainerConfig cfg;
  cfg.image = spec.image;
  cfg.cmd = spec.command;
  cfg.entrypoint = spec.entrypoint;
  cfg.env = {
      "KBC_DATADIR=/data/",
      "KBC_RUNID=" + job_id,
      "KBC_PROJECTID=" + options.project_id,
      "KBC_CONFIGID=" + spec.config_id,
      "KBC_CONFIGVERSION=1",
      "KBC_COMPONENTID=" + spec.id,
      "KBC_STACKID=" + options.stack_id,
      "KBC_BRANCHID=" + options.branch_id,
      "KBC_COMPONENT_RUN_MODE=" + options.run_mode,
  };
  for (const auto& [name, value] : spec.env) cfg.env.push_back(name + "=" + value);
  cfg.labels = spec.labels;
  cfg.labels[kLabelJobId] = job_id;
  cfg.labels[kLabelComponentId] = spec.id;
  cfg.labels[kLabelVersion] = runner_version();
  cfg.labels[kLabelManaged] = "true";
  cfg.labels[kLabelHost] = host_name();
  cfg.labels[kLabelPid] = std::to_string(::getpid());
  cfg.user = spec.user;
  cfg.binds = {workspace.data_dir().string() + ":/data", workspace.tmp_dir().string() + ":/tmp"};
  cfg.memory_bytes = spec.limits.memory_bytes;
  cfg.memory_swap_bytes = spec.limits.memory_swap_bytes;
  if (spec.limits.cpus) cfg.nano_cpus = std::llround(*spec.limits.cpus * 1e9);
  if (spec.limits.pids) cfg.pids_limit = *spec.limits.pids;
  cfg.network_mode = spec.network;
  cfg.log_driver = "none";
  // Isolation between jobs (docs/component.md, "security"): no raw sockets, so a container
  // cannot forge another one's source address; setuid binaries gain nothing.
  cfg.cap_add = spec.security.cap_add;
  for (const char* dropped : {"NET_RAW"})
    if (std::find(cfg.cap_add.begin(), cfg.cap_add.end(), dropped) == cfg.cap_add.end())
      cfg.cap_drop.emplace_back(dropped);
  if (spec.security.no_new_privileges) cfg.security_opt.emplace_back("no-new-privileges");
  return cfg;
}

std::optional<docker::RegistryAuth> registry_auth(const ComponentSpec& spec) {
  if (!spec.auth) return std::nullopt;
  return docker::RegistryAuth{spec.auth->username, spec.auth->password, spec.auth->server};
}

void pull(docker::EngineClient& client, const ComponentSpec& spec, logging::EventLog& events) {
  events.emit(Level::info, "runner", "Pulling image " + spec.image);
  try {
    client.pull_image(spec.image, registry_auth(spec));
  } catch (const docker::ImagePullError& e) {
    throw UserError(std::string(e.what()));
  } catch (const docker::EngineApiError& e) {
    throw UserError("cannot pull image \"" + spec.image + "\": " + e.daemon_message());
  }
}

std::string create_container(docker::EngineClient& client, const ComponentSpec& spec,
                             const docker::ContainerConfig& cfg, const std::string& name,
                             logging::EventLog& events) {
  if (spec.pull_policy == PullPolicy::always) pull(client, spec, events);
  try {
    return client.create_container(cfg, name);
  } catch (const docker::EngineApiError& e) {
    if (e.status() != 404)
      throw UserError("the Docker engine refused the container: " + e.daemon_message());
    if (spec.pull_policy == PullPolicy::never)
      throw UserError("image \"" + spec.image +
                      "\" is not available locally and pull_policy is \"never\": build or load "
                      "it first (" +
                      e.daemon_message() + ")");
  }
  try {
    pull(client, spec, events);
  } catch (const UserError& e) {
    throw UserError("image \"" + spec.image +
                    "\" is not available locally and pulling it failed: " + e.what());
  }
  try {
    return client.create_container(cfg, name);
  } catch (const docker::EngineApiError& e) {
    throw UserError("the Docker engine refused the container: " + e.daemon_message());
  }
}

}  // namespace

const char* runner_version() {
  return RUNNER_VERSION;
}

nlohmann::json keboola_config(const ComponentSpec& spec) {
  return {{"parameters", spec.parameters},
          {"image_parameters", spec.image_parameters},
          {"authorization", spec.authorization},
          {"action", spec.action},
          {"storage", nlohmann::json::object()}};
}

JobRunner::JobRunner(ComponentSpec spec, RunOptions options, logging::EventLog& events)
    : spec_(std::move(spec)), options_(std::move(options)), events_(events) {}

logging::JobSummary JobRunner::run() {
  const auto started = Clock::now();
  logging::JobSummary summary;
  summary.component_id = spec_.id;
  // From here on no text reaches a sink without passing the scrubber: stream text is scrubbed
  // on the stream path, everything else by the event log's filter.
  if (!spec_.secrets.empty()) {
    matcher_ = std::make_shared<const secrets::SecretMatcher>(spec_.secrets);
    events_.set_text_filter(
        [m = matcher_](std::string_view text) { return secrets::scrub_text(*m, text); });
    const auto short_ones = secrets::short_secrets(spec_.secrets);
    if (!short_ones.empty())
      events_.emit(Level::warning, "runner",
                   std::to_string(short_ones.size()) +
                       " secret(s) are only 1 or 2 characters long: every occurrence of them in "
                       "the output will show as [hidden]");
  }
  auto fail = [&](const char* error_type, int exit_code, std::string message) {
    summary.status = "error";
    summary.error_type = error_type;
    summary.exit_code = exit_code;
    summary.message = std::move(message);
  };
  try {
    execute(summary);
  } catch (const ConfigError& e) {
    fail("user", e.exit_code(), std::string("invalid component: ") + e.what());
  } catch (const RunnerError& e) {
    fail(e.exit_code() == kExitUserError           ? "user"
         : e.exit_code() == kExitEngineUnavailable ? "engine"
                                                   : "internal",
         e.exit_code(), e.what());
  } catch (const docker::EngineUnreachableError& e) {
    fail("engine", kExitEngineUnavailable, e.what());
  } catch (const docker::EngineVersionError& e) {
    fail("engine", kExitEngineUnavailable, e.what());
  } catch (const std::exception& e) {
    fail("internal", kExitInternal, std::string("internal error: ") + e.what());
  }
  if (!container_left_.empty()) {
    // The engine went away with the container in it: when the engine comes back, the container
    // may still be there (even running), and nothing of this runner will be left to remove it.
    const std::string note =
        "the job's container " + container_left_.substr(0, 12) +
        " could not be removed and may still be running when the engine is back: `runner gc` "
        "removes it once this runner has exited";
    events_.emit(Level::warning, "runner", "The container may be left behind: " + note);
    summary.message += summary.message.empty() ? note : "; " + note;
  }
  summary.duration_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  try {
    events_.finish(summary);
  } catch (
      ...) {  // NOLINT(bugprone-empty-catch): run() never throws; a failing sink loses its summary
  }
  summary.message = events_.filter(summary.message);
  summary.job_id = events_.job_id();
  return summary;
}

void JobRunner::execute(logging::JobSummary& summary) {
  const std::string& job_id = events_.job_id();
  docker::EngineEndpoint endpoint;
  try {
    endpoint = docker::EngineEndpoint::from_environment(options_.docker_host);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  docker::EngineClient client(endpoint);
  client.negotiate();
  // The engine refuses more CPUs than its host has; say so as the config error it is, before
  // anything is created (component.cpp can only check an absolute bound).
  if (spec_.limits.cpus && !options_.reattach_container_id) {
    int host_cpus = 0;
    try {
      host_cpus = client.cpu_count();
    } catch (const docker::EngineApiError&) {
      host_cpus = 0;  // an engine (or proxy) that does not answer /info: the engine will judge
    }
    if (host_cpus > 0 && *spec_.limits.cpus > host_cpus)
      throw ConfigError({"$.limits.cpus: expected at most " + std::to_string(host_cpus) +
                         " (the CPUs of the engine's host), got " +
                         nlohmann::json(*spec_.limits.cpus).dump()});
  }

  const bool reattach = options_.reattach_container_id.has_value();
  std::optional<JobWorkspace> workspace;
  docker::ContainerConfig cfg;
  if (!reattach) {
    workspace.emplace(job_id, options_.data_dir, options_.keep_data, keboola_config(spec_),
                      spec_.user);
    if (options_.keep_data)
      events_.emit(Level::info, "runner",
                   "Working folder " + workspace->root().string() + " (data: " +
                       workspace->data_dir().string() + ") is kept after the run (--keep-data)");
    cfg = container_config(spec_, options_, *workspace, job_id);
  }
  // GELF mode: the server listens before the container exists, where the container reaches us.
  // A re-attached container was told the address of its first worker's server, which is gone.
  const bool gelf_mode = spec_.logging.type == "gelf";
  std::optional<GelfJobServer> gelf;
  if (gelf_mode && reattach) {
    events_.emit(Level::warning, "runner",
                 "The component logs through GELF to its first worker's server, which is gone: "
                 "its GELF messages from now on are lost");
  } else if (gelf_mode) {
    gelf.emplace(spec_.logging, events_, matcher_);
    gelf->listen(docker::bridge_host_address(client));
    cfg.env.push_back("KBC_LOGGER_ADDR=" + gelf->address());
    cfg.env.push_back("KBC_LOGGER_PORT=" + std::to_string(gelf->port()));
    events_.emit(Level::info, "runner",
                 "GELF server (" + spec_.logging.gelf_server_type + ") listening on " +
                     gelf->address() + ":" + std::to_string(gelf->port()));
  }
  std::string container_id;
  bool already_exited = false;
  if (reattach) {
    container_id = *options_.reattach_container_id;
    const docker::ContainerState before = client.inspect_container(container_id);
    already_exited =
        before.status != "running" && before.status != "paused" && before.status != "restarting";
    events_.emit(Level::warning, "runner",
                 "Taking over job " + job_id + " (container " + container_id.substr(0, 12) + ", " +
                     before.status + ") after its worker stopped" +
                     (already_exited ? ": it has already exited, only its exit code is known"
                                     : ": output it printed while no worker was attached is lost"));
  } else {
    events_.emit(
        Level::info, "runner",
        "Running component " + spec_.id + " (image " + spec_.image + ", job " + job_id + ")");
    container_id = create_container(client, spec_, cfg, "runner-" + job_id, events_);
    if (options_.on_container_created) options_.on_container_created(container_id);
  }
  ContainerGuard guard(client, container_id, container_left_);

  // Stream state. stdout lines become live events; stderr lines are kept for one error event at
  // the end; Kestra protocol lines on either become log events, outputs and metrics.
  logging::HeadTailBuffer stderr_text(kStderrHeadTail, kStderrHeadTail);
  logging::HeadTailBuffer stdout_text(gelf_mode ? kStderrHeadTail : kStdoutHeadTail,
                                      gelf_mode ? kStderrHeadTail : kStdoutHeadTail);
  logging::KestraResults results;
  std::string members;  // scratch for output and metric records
  auto protocol_callbacks = [&] {
    logging::KestraCallbacks c;
    c.on_log = [&](Level level, std::string_view message) {
      events_.emit_scrubbed(level, "kestra", message);
    };
    c.on_outputs = [&](const nlohmann::json& outputs) {
      results.add_outputs(outputs);
      for (const auto& [name, value] : outputs.items()) {
        members.clear();
        logging::append_output_members(members, name, value);
        events_.record_scrubbed("output", members);
      }
    };
    c.on_metric = [&](const logging::KestraMetric& m) {
      results.add_metric(m);
      members.clear();
      logging::append_metric_members(members, m);
      events_.record_scrubbed("metric", members);
    };
    c.on_warning = [&](const std::string& message, std::string_view line) {
      const nlohmann::json fields = {{"line", std::string(line)}};
      events_.emit_scrubbed(Level::warning, "kestra", message, &fields);
    };
    return c;
  };
  logging::KestraCallbacks stdout_callbacks = protocol_callbacks();
  stdout_callbacks.on_text = [&](std::string_view line) {
    // GELF mode: stdout is reported once, after the exit (Keboola's rule); else live.
    if (!gelf_mode) events_.emit_scrubbed(Level::info, "stdout", line);
    stdout_text.append(line);
    stdout_text.append("\n");
  };
  logging::KestraCallbacks stderr_callbacks = protocol_callbacks();
  stderr_callbacks.on_text = [&](std::string_view line) {
    stderr_text.append(line);
    stderr_text.append("\n");
  };
  // Only live stdout delivers a partial line before its newline, and shows it on the terminal;
  // GELF mode's stdout and stderr are reported once at the end, made of whole lines.
  OutputPipeline stdout_pipeline(matcher_, !gelf_mode, std::move(stdout_callbacks));
  OutputPipeline stderr_pipeline(matcher_, false, std::move(stderr_callbacks));
  stdout_pipeline.show_partial_lines(
      [&](std::string_view text) { events_.show_partial(Level::info, "stdout", text); });
  std::optional<docker::AttachedContainer> attached;
  if (!already_exited) {
    attached.emplace(
        client, container_id,
        [&](docker::OutputStream stream, std::string_view bytes) {
          if (stream == docker::OutputStream::stdout_) {
            stdout_pipeline.feed(bytes);
          } else {
            stderr_pipeline.feed(bytes);
          }
        },
        reattach ? "not-running" : "next-exit");
    attached->arm();
  }

  std::optional<StopRequest> stop_request;
  if (options_.stop != nullptr) stop_request = options_.stop->take();
  if (stop_request) {
    guard.remove();
    events_.emit(Level::warning, "runner",
                 std::string("Job terminated by ") + stop_request->reason + " before it started");
    summary.status = "terminated";
    summary.exit_code = stop_request->exit_code;
    summary.message = std::string("Terminated by ") + stop_request->reason;
    return;
  }

  if (!reattach) {
    try {
      client.start_container(container_id);
    } catch (const docker::EngineApiError& e) {
      throw UserError("the container could not start: " + e.daemon_message());
    }
  }
  if (gelf) {
    // Nothing is read from the server's sockets before its first poll, so whatever the
    // container sent already is still judged by this rule.
    const std::string ip = client.inspect_container(container_id).ip_address;
    if (!ip.empty()) gelf->allow_only(ip);
  }
  bool oversize_kill = false;
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(spec_.limits.timeout_seconds);
  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point force_kill_at = kNever;  // SIGKILL after the stop grace period
  Clock::time_point exited_at = kNever;      // when the wait call returned
  bool timed_out = false;
  std::vector<int> wake_fds;
  if (options_.stop != nullptr) wake_fds.push_back(options_.stop->fd());

  while (attached && !(attached->output_finished() && attached->exited())) {
    auto now = Clock::now();
    auto wake = now + std::chrono::milliseconds(200);
    if (auto flush_at = stdout_pipeline.next_flush()) wake = std::min(wake, *flush_at);
    if (!timed_out) wake = std::min(wake, deadline);
    wake = std::min(wake, force_kill_at);
    // With a GELF server to serve too, the engine streams are polled in short slices.
    if (gelf) wake = std::min(wake, now + std::chrono::milliseconds(5));
    const auto wait_ms = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1);
    const bool woken = attached->poll(std::chrono::milliseconds(wait_ms), wake_fds);
    if (gelf) {
      gelf->poll();
      if (gelf->oversize() && !oversize_kill) {
        oversize_kill = true;  // Keboola's documented limit fails the job
        client.kill_container(container_id, "KILL");
      }
    }
    now = Clock::now();
    stdout_pipeline.flush_if_due(now);
    stderr_pipeline.flush_if_due(now);
    events_.flush();

    if (woken && options_.stop != nullptr) {
      if (auto request = options_.stop->take()) {
        if (!stop_request) {
          stop_request = request;
          events_.emit(Level::warning, "runner",
                       std::string("Received ") + request->reason + ": stopping the container (" +
                           std::to_string(options_.stop_grace_seconds) + " s grace)");
          client.kill_container(container_id, "TERM");
          force_kill_at = now + std::chrono::seconds(options_.stop_grace_seconds);
        } else {
          client.kill_container(container_id, "KILL");
          force_kill_at = kNever;
        }
      }
    }
    if (now >= force_kill_at) {
      client.kill_container(container_id, "KILL");
      force_kill_at = kNever;
    }
    if (!timed_out && !stop_request && now >= deadline) {
      timed_out = true;
      client.kill_container(container_id, "KILL");
    }
    // The container has exited, so its streams are closed; an attach stream that still has not
    // ended after a while would only mean a stuck engine connection.
    if (attached->exited() && !attached->output_finished()) {
      if (exited_at == kNever) exited_at = now;
      if (now - exited_at > std::chrono::seconds(10)) {
        events_.emit(Level::warning, "runner",
                     "The container exited but its output stream did not end within 10 s; "
                     "output after this point may be missing");
        break;
      }
    }
  }
  stdout_pipeline.finish();
  stderr_pipeline.finish();
  summary.outputs = results.outputs();
  summary.metrics = results.metrics();
  summary.results_summary = results.summary();
  if (attached && !attached->transfer_error().empty())
    events_.emit(Level::warning, "runner", attached->transfer_error());

  const docker::ContainerState state = client.inspect_container(container_id);
  guard.remove();

  std::int64_t exit_code = state.exit_code;
  if (state.status != "exited" && attached && attached->wait_status())
    exit_code = *attached->wait_status();
  summary.container_exit_code = exit_code;

  if (gelf) gelf->finish();  // the last messages, then the server's counters
  auto trimmed = [](std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    return text;
  };
  const std::string output = stdout_text.text();
  if (gelf_mode && !trimmed(output).empty())
    events_.emit_scrubbed(Level::info, "stdout", trimmed(output));
  const std::string errors = stderr_text.text();
  if (!trimmed(errors).empty()) events_.emit_scrubbed(Level::error, "stderr", trimmed(errors));

  if (stop_request) {
    events_.emit(Level::warning, "runner",
                 std::string("Job terminated by ") + stop_request->reason);
    summary.status = "terminated";
    summary.exit_code = stop_request->exit_code;
    summary.message = std::string("Terminated by ") + stop_request->reason;
    return;
  }

  ExitFacts facts;
  facts.exit_code = exit_code;
  facts.oom_killed = state.oom_killed;
  facts.timed_out = timed_out;
  facts.timeout_seconds = spec_.limits.timeout_seconds;
  facts.memory_limit = spec_.limits.memory_text;
  facts.no_application_errors = spec_.logging.no_application_errors;
  facts.stderr_text = errors;
  facts.stdout_text = output;
  if (gelf) facts.gelf_error = gelf->last_error();
  JobOutcome outcome = classify_exit(facts);
  if (gelf && gelf->oversize())
    outcome = {"error", "user", kExitUserError,
               "The component sent a GELF message over the 200 KB limit: " + *gelf->oversize()};
  summary.status = outcome.status;
  summary.error_type = outcome.error_type;
  summary.exit_code = outcome.exit_code;
  summary.message = outcome.message;
}

}  // namespace runner
