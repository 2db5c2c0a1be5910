// ContainerRun: one container of a job, from its creation to its removal.
//
// The order is `docker run`'s, so that no output is lost: create (pulling the image as the pull
// policy says), attach and arm the wait before the start, start, drain the attach stream until
// the container exited and its streams ended, inspect, force-remove. A container is removed on
// every path out, exceptions included (ContainerGuard). One thread does it all: the engine
// transfers, the GELF server of GELF logging, the stream rules' timers, the stop schedule
// (timeout, stop grace, force-kill) and stop requests are multiplexed in one poll loop (see
// AttachedContainer), so a run needs no thread of its own.
//
// Where the container comes from is the one thing that varies (ContainerSource): a new one
// (NewContainer), or the job's existing container whose worker stopped (ExistingContainer, a
// worker's take-over): that one is inspected instead of created, re-attached only while it
// runs (what it printed while nobody was attached is lost: LogConfig is none), never started,
// and its GELF messages went to the first worker's server, which is gone.
//
// A job may run several containers in a row (processors, configuration rows): each is one
// ContainerRun over the same RunEnvironment, which holds what they share: the engine client,
// the job's event log (so sequence numbers continue), its secrets, its Kestra results, its
// deadline (the timeout covers the whole job) and its stop source.
#pragma once

#include "docker/container_config.hpp"
#include "docker/engine_client.hpp"
#include "logging/event_log.hpp"
#include "logging/kestra_results.hpp"
#include "runner/component.hpp"
#include "runner/stop_request.hpp"
#include "runner/stop_schedule.hpp"
#include "runner/stream_rules.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace runner::docker {
class AttachedContainer;
}

namespace runner {

class ContainerGuard;
class GelfJobServer;

// How a new container's image is found: pulled first (always), only when missing
// (if_not_present), or never.
struct ImagePull {
  std::string image;
  PullPolicy policy = PullPolicy::if_not_present;
  std::optional<docker::RegistryAuth> auth;
  int attempts = 20;  // Keboola's; see pull() in container_run.cpp
};

// File handling by copy (runner/workspace_copy.hpp): what moves the job's files into the
// created container before its start, and its outputs back after its exit, before its removal
// (returning the problem when they could not be copied back). Empty with bind mounts.
struct ContainerFiles {
  std::function<void(docker::EngineClient&, const std::string& container_id)> copy_in;
  std::function<std::optional<std::string>(docker::EngineClient&, const std::string& container_id)>
      copy_out;
};

// Where a GELF component's server listens and what the container is told (docs/engines.md):
// unset, the engine's bridge gateway, which only an engine on this machine has.
struct GelfAddress {
  std::optional<std::string> bind;
  std::optional<std::string> advertise;
};

struct NewContainer {
  std::string component_id;        // for runner's messages
  docker::ContainerConfig config;  // image, command, environment, mounts, limits, labels
  std::string name;                // "runner-<job id>"
  ImagePull pull;
  ContainerFiles files;
  GelfAddress gelf;
};

struct ExistingContainer {
  std::string id;
  // After its exit, before its removal: copy_out only (a take-over reads the outputs of a
  // single-stage job's container: its state and usage files).
  ContainerFiles files;
};

using ContainerSource = std::variant<NewContainer, ExistingContainer>;

// What the container runs of one job share.
struct RunEnvironment {
  docker::EngineClient& client;
  logging::EventLog& events;
  const secrets::Masker& masker;  // the job's secrets
  logging::KestraResults& results;
  JobDeadline& deadline;
  StopSource* stop = nullptr;
  std::chrono::seconds stop_grace{2};
  // Called with the container's id right after it was created (a worker records it).
  std::function<void(const std::string&)> on_container_created;
  // Set to the container's id from its creation until its removal succeeded, so that a job whose
  // engine went away can say that its container may be left behind.
  std::string* container_left = nullptr;
  // A sync action (sync_action.hpp): stdout is the answer, kept whole instead of becoming events.
  bool stdout_is_response = false;
};

// What a run found out, for the job's outcome.
struct RunReport {
  std::optional<StopRequest> stopped;  // stopped by this request (SIGINT, SIGTERM, a cancel)
  bool stopped_before_start = false;
  bool timed_out = false;
  std::optional<std::int64_t> exit_code;  // the container's, once it ran
  bool oom_killed = false;
  StreamTexts texts;
  std::string gelf_error;                    // the last error-level GELF message
  std::optional<std::string> gelf_oversize;  // a GELF message over the 200 KB limit
  std::optional<std::string> outputs_lost;   // by copy: why out/ did not come back
};

class ContainerRun {
 public:
  using Clock = std::chrono::steady_clock;

  ContainerRun(RunEnvironment& env, ContainerSource source, const LoggingSettings& logging);
  ~ContainerRun();
  ContainerRun(const ContainerRun&) = delete;
  ContainerRun& operator=(const ContainerRun&) = delete;

  // Runs the container to its removal. Throws a runner::Error (UserError when the engine refuses
  // the image or the container; engine errors otherwise); the container is removed anyway.
  RunReport run();

 private:
  void create(NewContainer& container);
  void take_over(const ExistingContainer& container);
  void attach();
  std::optional<StopRequest> stop_requested();
  void start();
  void drain();
  std::chrono::milliseconds wait_time(Clock::time_point now) const;
  void serve_gelf();
  void send(StopSchedule::Signal signal, const StopRequest* request = nullptr);
  void close();

  RunEnvironment& env_;
  ContainerSource source_;
  bool gelf_mode_;
  StreamRules rules_;
  std::unique_ptr<GelfJobServer> gelf_;
  std::string id_;
  bool already_exited_ = false;  // a taken-over container that had exited: only its exit code
  bool never_started_ = false;   // taken over in state "created"
  bool oversize_killed_ = false;
  std::optional<StopSchedule> schedule_;
  std::unique_ptr<ContainerGuard> guard_;  // declared before attached_: removed after it closed
  std::unique_ptr<docker::AttachedContainer> attached_;
  RunReport report_;
};

}  // namespace runner
