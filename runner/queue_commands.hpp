// `runner submit`, `runner cancel`, `runner worker`: the job queue on the store.
//
// submit validates the component exactly as `runner run` would (decrypting its ciphertexts to
// check them), then queues the document as written, with one change: a plain value under a '#'
// key is encrypted first, so no secret is ever stored in clear (workers decrypt with the same
// key). Without a key, a plain secret is refused with the path of the value.
#pragma once

#include "runner/engine_options.hpp"

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct QueueArgs {
  std::string store;
  std::string key_file;
  // submit
  std::string component;
  std::string namespace_name;
  int priority = 0;
  // cancel
  std::string job;
  // worker
  int concurrency = 1;
  double lease_seconds = 30;
  double drain_seconds = 25;
  std::string worker_id;
  std::string docker_host;
  EngineArgs engine;
  int max_jobs = 0;
};

struct QueueCommands {
  CLI::App* submit = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* worker = nullptr;
};

QueueCommands add_queue_commands(CLI::App& app, QueueArgs& submit, QueueArgs& cancel,
                                 QueueArgs& worker);
int command_submit(const QueueArgs& args);
int command_cancel(const QueueArgs& args);
int command_worker(const QueueArgs& args);

}  // namespace runner
