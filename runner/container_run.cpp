// ContainerRun: see the header. run() is the list of phases; each phase is a member function
// below, in the order run() calls them.
#include "runner/container_run.hpp"

#include "docker/attached_container.hpp"
#include "docker/engine_errors.hpp"
#include "docker/host_address.hpp"
#include "runner/errors.hpp"
#include "runner/gelf_logging.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace runner {

using logging::Level;

// Removes the container on every path out of the run; `left` names it until a removal succeeded.
class ContainerGuard {
 public:
  ContainerGuard(docker::EngineClient& client, std::string id, std::string* left)
      : client_(client), id_(std::move(id)), left_(left) {
    if (left_ != nullptr) *left_ = id_;
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
    if (left_ != nullptr) left_->clear();
  }

 private:
  docker::EngineClient& client_;
  std::string id_;
  std::string* left_;
};

namespace {

// A pull that a stop request ended (during the transfer or between attempts): the run ends as
// stopped before its start.
class PullStopped : public std::runtime_error {
 public:
  PullStopped() : std::runtime_error("the image pull was stopped") {}
};

// What the registry said for good: retrying would only get the same answer.
bool permanent_pull_failure(const std::string& message) {
  for (const char* word : {"not found", "manifest unknown", "denied", "unauthorized",
                           "invalid reference", "does not exist"})
    if (message.find(word) != std::string::npos) return true;
  return false;
}

bool stop_pending(StopSource* stop) {
  if (stop == nullptr) return false;
  pollfd p{stop->fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// Waits `delay`, or less when a stop request arrives (returns true then).
bool wait_or_stop(StopSource* stop, std::chrono::milliseconds delay) {
  pollfd p{stop == nullptr ? -1 : stop->fd(), POLLIN, 0};
  const int n = ::poll(&p, 1, static_cast<int>(delay.count()));
  return n > 0;
}

// Keboola's pull (Image.php): up to `attempts` tries, waiting 0.5 s after the first failure and
// twice as long after each next one, at most 60 s; a failure the registry gives for good is not
// retried. A stop request ends the transfer and the waits (PullStopped).
void pull(docker::EngineClient& client, const ImagePull& image, logging::EventLog& events,
          StopSource* stop) {
  events.emit(Level::info, "runner", "Pulling image " + image.image);
  const std::function<bool()> aborted = [stop] { return stop_pending(stop); };
  std::chrono::milliseconds delay(500);
  const int attempts = std::max(1, image.attempts);
  for (int attempt = 1;; ++attempt) {
    std::string problem;
    try {
      client.pull_image(image.image, image.auth, aborted);
      return;
    } catch (const docker::TransferAborted&) {
      throw PullStopped();
    } catch (const docker::ImagePullError& e) {
      problem = e.what();
    } catch (const docker::EngineApiError& e) {
      problem = "cannot pull image \"" + image.image + "\": " + e.daemon_message();
    }
    if (attempt >= attempts || permanent_pull_failure(problem)) throw UserError(problem);
    events.emit(Level::warning, "runner",
                fmt::format("{} (attempt {} of {}; trying again in {:.1f} s)", problem, attempt,
                            attempts, static_cast<double>(delay.count()) / 1000));
    if (wait_or_stop(stop, delay)) throw PullStopped();
    delay = std::min(delay * 2, std::chrono::milliseconds(60000));
  }
}

// Creates the container, pulling its image first or when it is missing, as the policy says.
std::string create_container(docker::EngineClient& client, const NewContainer& container,
                             logging::EventLog& events, StopSource* stop) {
  const ImagePull& image = container.pull;
  if (image.policy == PullPolicy::always) pull(client, image, events, stop);
  try {
    return client.create_container(container.config, container.name);
  } catch (const docker::EngineApiError& e) {
    if (e.status() != 404)
      throw UserError("the Docker engine refused the container: " + e.daemon_message());
    if (image.policy == PullPolicy::never)
      throw UserError("image \"" + image.image +
                      "\" is not available locally and pull_policy is \"never\": build or load "
                      "it first (" +
                      e.daemon_message() + ")");
  }
  try {
    pull(client, image, events, stop);
  } catch (const UserError& e) {
    throw UserError("image \"" + image.image +
                    "\" is not available locally and pulling it failed: " + e.what());
  }
  try {
    return client.create_container(container.config, container.name);
  } catch (const docker::EngineApiError& e) {
    throw UserError("the Docker engine refused the container: " + e.daemon_message());
  }
}

// The engine could not start the container (on Podman this already shows when attaching, which
// prepares the container): the component's settings, or the engine's own set-up (its ulimits).
[[noreturn]] void throw_start_failure(const docker::EngineApiError& e, docker::EngineKind kind) {
  const std::string hint = docker::rlimit_failure_hint(e.daemon_message(), kind);
  if (!hint.empty())
    throw EngineUnavailableError("the container could not start: " + hint + " (" +
                                 e.daemon_message() + ")");
  throw UserError("the container could not start: " + e.daemon_message());
}

// An engine that does not report OOM kills (Podman 4): a SIGKILL (137) that runner did not send, of
// a container with a memory limit, is taken for the kernel's OOM killer, and the job says so.
bool oom_kill_inferred(const docker::EngineClient& client, std::int64_t exit_code,
                       bool killed_by_runner, logging::EventLog& events) {
  if (client.reports_oom_kills() || exit_code != 137 || killed_by_runner) return false;
  events.emit(Level::warning, "runner",
              std::string(docker::engine_kind_name(client.kind())) +
                  " does not report out-of-memory kills: the container was killed with SIGKILL "
                  "(exit code 137) by someone other than runner, which is taken for its memory "
                  "limit");
  return true;
}

// Where the job's GELF server listens: the operator's address, else the engine's bridge gateway
// (an engine on this machine); a remote engine's gateway is on its own machine.
std::string gelf_bind_address(const GelfAddress& gelf, docker::EngineClient& client) {
  if (gelf.bind) return *gelf.bind;
  if (!client.endpoint().is_local())
    throw UsageError("GELF logging through the engine at " + client.endpoint().display +
                     " needs --gelf-bind ADDRESS (an address of this machine that the engine's "
                     "containers reach; --gelf-advertise when they know it by another name)");
  return docker::bridge_host_address(client);
}

}  // namespace

ContainerRun::ContainerRun(RunEnvironment& env, ContainerSource source,
                           const LoggingSettings& logging)
    : env_(env),
      source_(std::move(source)),
      gelf_mode_(logging.type == "gelf"),
      rules_(env.events, env.masker,
             env.stdout_is_response ? StreamRules::StdoutMode::response
             : gelf_mode_           ? StreamRules::StdoutMode::held
                                    : StreamRules::StdoutMode::live,
             env.results) {
  if (!logging.kestra_protocol) rules_.disable_protocol();
  // GELF mode: the server listens before the container exists, where the container reaches us.
  // A taken-over container was told the address of its first worker's server, which is gone.
  if (gelf_mode_ && std::holds_alternative<NewContainer>(source_))
    gelf_ = std::make_unique<GelfJobServer>(logging, env.events);
}

ContainerRun::~ContainerRun() = default;

RunReport ContainerRun::run() {
  if (auto* container = std::get_if<NewContainer>(&source_)) {
    try {
      create(*container);
    } catch (const PullStopped& e) {
      report_.stopped = stop_requested();
      if (!report_.stopped) throw UserError(e.what());
      report_.stopped_before_start = true;
      return report_;
    }
  } else {
    take_over(std::get<ExistingContainer>(source_));
  }
  if (!already_exited_) attach();
  if (auto request = stop_requested()) {
    guard_->remove();
    report_.stopped = request;
    report_.stopped_before_start = true;
    return report_;
  }
  start();
  drain();
  close();
  return report_;
}

void ContainerRun::create(NewContainer& container) {
  if (gelf_) {
    gelf_->listen(gelf_bind_address(container.gelf, env_.client));
    container.config.env.push_back("KBC_LOGGER_ADDR=" +
                                   container.gelf.advertise.value_or(gelf_->address()));
    container.config.env.push_back("KBC_LOGGER_PORT=" + std::to_string(gelf_->port()));
    env_.events.emit(Level::info, "runner",
                     "GELF server (" + gelf_->transport() + ") listening on " + gelf_->address() +
                         ":" + std::to_string(gelf_->port()));
  }
  env_.events.emit(Level::info, "runner",
                   "Running component " + container.component_id + " (image " +
                       container.config.image + ", job " + env_.events.job_id() + ")");
  id_ = create_container(env_.client, container, env_.events, env_.stop);
  guard_ = std::make_unique<ContainerGuard>(env_.client, id_, env_.container_left);
  if (env_.on_container_created) env_.on_container_created(id_);
  if (container.files.copy_in) container.files.copy_in(env_.client, id_);
}

void ContainerRun::take_over(const ExistingContainer& container) {
  if (gelf_mode_)
    env_.events.emit(Level::warning, "runner",
                     "The component logs through GELF to its first worker's server, which is "
                     "gone: its GELF messages from now on are lost");
  id_ = container.id;
  const docker::ContainerState before = env_.client.inspect_container(id_);
  // Created but never started (its worker died between create and start): it is started now,
  // not taken for a run that exited with code 0.
  never_started_ = before.status == "created";
  already_exited_ = !never_started_ && before.status != "running" && before.status != "paused" &&
                    before.status != "restarting";
  env_.events.emit(
      Level::warning, "runner",
      "Taking over job " + env_.events.job_id() + " (container " + id_.substr(0, 12) + ", " +
          before.status + ") after its worker stopped" +
          (already_exited_ ? ": it has already exited, only its exit code is known"
                           : ": output it printed while no worker was attached is lost"));
  guard_ = std::make_unique<ContainerGuard>(env_.client, id_, env_.container_left);
}

void ContainerRun::attach() {
  const bool taken_over = std::holds_alternative<ExistingContainer>(source_);
  attached_ = std::make_unique<docker::AttachedContainer>(
      env_.client, id_,
      [this](docker::OutputStream stream, std::string_view bytes) {
        if (stream == docker::OutputStream::stdout_) {
          rules_.feed_stdout(bytes);
        } else {
          rules_.feed_stderr(bytes);
        }
      },
      taken_over && !never_started_ ? "not-running" : "next-exit");
  try {
    attached_->arm();
  } catch (const docker::EngineApiError& e) {
    if (taken_over || e.status() == 404) throw;
    throw_start_failure(e, env_.client.kind());
  }
}

std::optional<StopRequest> ContainerRun::stop_requested() {
  if (env_.stop == nullptr) return std::nullopt;
  return env_.stop->take();
}

void ContainerRun::start() {
  if (std::holds_alternative<NewContainer>(source_) || never_started_) {
    try {
      env_.client.start_container(id_);
    } catch (const docker::EngineApiError& e) {
      throw_start_failure(e, env_.client.kind());
    }
  }
  if (gelf_ && env_.client.endpoint().is_local()) {
    // Nothing is read from the server's sockets before its first poll, so whatever the
    // container sent already is still judged by this rule. A remote engine's containers reach
    // this machine through that engine's NAT, from an address runner cannot know.
    const std::string ip = env_.client.inspect_container(id_).ip_address;
    if (!ip.empty()) gelf_->allow_only(ip);
  }
  // A taken-over container's timeout counts from the take-over.
  schedule_.emplace(env_.deadline.arm(Clock::now()), env_.stop_grace);
}

void ContainerRun::drain() {
  if (!attached_) return;
  std::vector<int> wake_fds;
  if (env_.stop != nullptr) wake_fds.push_back(env_.stop->fd());
  while (!(attached_->output_finished() && attached_->exited())) {
    const bool woken = attached_->poll(wait_time(Clock::now()), wake_fds);
    if (gelf_) serve_gelf();
    const auto now = Clock::now();
    rules_.flush_if_due(now);
    env_.events.flush();
    if (woken && env_.stop != nullptr) {
      if (auto request = env_.stop->take())
        send(schedule_->on_stop_request(*request, now), &*request);
    }
    send(schedule_->on_time(now));
    // The container has exited, so its streams are closed; an attach stream that still has not
    // ended after a while would only mean a stuck engine connection.
    if (attached_->exited() && !attached_->output_finished() && schedule_->output_overdue(now)) {
      env_.events.emit(Level::warning, "runner",
                       "The container exited but its output stream did not end within 10 s; "
                       "output after this point may be missing");
      break;
    }
  }
}

std::chrono::milliseconds ContainerRun::wait_time(Clock::time_point now) const {
  auto wake = std::min(now + std::chrono::milliseconds(200), schedule_->next_due());
  if (auto flush_at = rules_.next_flush()) wake = std::min(wake, *flush_at);
  // With a GELF server to serve too, the engine streams are polled in short slices.
  if (gelf_) wake = std::min(wake, now + std::chrono::milliseconds(5));
  return std::chrono::milliseconds(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1));
}

void ContainerRun::serve_gelf() {
  gelf_->poll();
  if (gelf_->oversize() && !oversize_killed_) {
    oversize_killed_ = true;  // Keboola's documented limit fails the job
    env_.client.kill_container(id_, "KILL");
  }
}

void ContainerRun::send(StopSchedule::Signal signal, const StopRequest* request) {
  if (signal == StopSchedule::Signal::none) return;
  if (signal == StopSchedule::Signal::terminate && request != nullptr)
    env_.events.emit(Level::warning, "runner",
                     std::string("Received ") + request->reason + ": stopping the container (" +
                         std::to_string(schedule_->stop_grace().count()) + " s grace)");
  env_.client.kill_container(id_, signal == StopSchedule::Signal::terminate ? "TERM" : "KILL");
}

void ContainerRun::close() {
  rules_.end_streams();
  if (attached_ && !attached_->transfer_error().empty())
    env_.events.emit(Level::warning, "runner", attached_->transfer_error());
  docker::ContainerState state = env_.client.inspect_container(id_);
  report_.timed_out = schedule_->timed_out();
  report_.stopped = schedule_->stop_request();
  // Docker handles the kernel's OOM event apart from the exit: a SIGKILL of a memory-limited
  // container can be inspected a moment before OOMKilled is set (seen once in a full suite run).
  // One more look, a quarter second later, only for a SIGKILL runner did not send.
  if (state.exit_code == 137 && !state.oom_killed && env_.client.reports_oom_kills() &&
      !report_.timed_out && !report_.stopped && !oversize_killed_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    state.oom_killed = env_.client.inspect_container(id_).oom_killed;
  }
  const auto* created = std::get_if<NewContainer>(&source_);
  const ContainerFiles& files =
      created != nullptr ? created->files : std::get<ExistingContainer>(source_).files;
  if (files.copy_out && !report_.stopped) report_.outputs_lost = files.copy_out(env_.client, id_);
  guard_->remove();
  std::int64_t exit_code = state.exit_code;
  if (state.status != "exited" && attached_ && attached_->wait_status())
    exit_code = *attached_->wait_status();
  report_.exit_code = exit_code;
  report_.oom_killed =
      state.oom_killed ||
      oom_kill_inferred(env_.client, exit_code, report_.timed_out || oversize_killed_, env_.events);
  if (gelf_) gelf_->finish();  // the last messages, then the server's counters
  report_.texts = rules_.report_held();
  if (gelf_) {
    report_.gelf_error = gelf_->last_error();
    report_.gelf_oversize = gelf_->oversize();
  }
}

}  // namespace runner
