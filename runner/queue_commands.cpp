// `runner submit`, `runner cancel`, `runner worker`: see queue_commands.hpp.
#include "runner/queue_commands.hpp"

#include "runner/component.hpp"
#include "runner/errors.hpp"
#include "runner/job_id.hpp"
#include "runner/job_worker.hpp"
#include "runner/stop_request.hpp"
#include "secrets/config_cipher.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>

namespace runner {

namespace {

const char* kStoreHelp =
    "The store holding the queue: sqlite:PATH or postgresql://... (default $RUNNER_STORE, else "
    "sqlite:$RUNNER_HOME/runner.db)";

std::string store_url(const std::string& option) {
  std::string url = option.empty() ? store::default_store_url() : option;
  if (url == "none") throw UsageError("--store none: the queue needs a store");
  return url;
}

std::unique_ptr<store::Store> open_queue(const std::string& option) {
  const std::string url = store_url(option);
  try {
    return store::open_store(url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }
}

KeyLookup key_lookup(const std::string& key_file) {
  return [key_file]() -> std::optional<secrets::EncryptionKey> {
    return secrets::find_key(key_file.empty() ? std::nullopt
                                              : std::optional<std::filesystem::path>(key_file));
  };
}

// Encrypts every plain string under a '#' key (recursively: `node` comes from read_json_file,
// so the recursion is bounded by kMaxComponentDepth); collects the paths of those that cannot
// be encrypted for want of a key.
void encrypt_plain_secrets(nlohmann::json& node, const std::string& path,
                           const std::optional<secrets::EncryptionKey>& key,
                           std::vector<std::string>& problems, bool secret = false) {
  if (node.is_object()) {
    for (auto& [name, value] : node.items())
      encrypt_plain_secrets(value, secrets::json_path_child(path, name), key, problems,
                            secret || (!name.empty() && name[0] == '#'));
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      encrypt_plain_secrets(node[i], path + "[" + std::to_string(i) + "]", key, problems, secret);
  } else if (secret && node.is_string() && !secrets::is_ciphertext(node.get<std::string>())) {
    if (!key) {
      problems.push_back(path +
                         ": a plain secret cannot be queued: encrypt it with `runner encrypt`, or "
                         "give submit the key (--key-file, RUNNER_ENCRYPTION_KEY, or "
                         "$RUNNER_HOME/secret.key from `runner keygen`) and it is encrypted for "
                         "you; workers need the same key");
      return;
    }
    node = secrets::encrypt_value(*key, node.get<std::string>());
  }
}

}  // namespace

QueueCommands add_queue_commands(CLI::App& app, QueueArgs& submit, QueueArgs& cancel,
                                 QueueArgs& worker) {
  QueueCommands cmds;
  cmds.submit =
      app.add_subcommand("submit", "Queue a component run for a worker; prints the job id");
  cmds.submit->add_option("component", submit.component, "Path to component.json")
      ->required()
      ->check(CLI::ExistingFile);
  cmds.submit->add_option("--namespace", submit.namespace_name,
                          "Namespace of the job (overrides component.json's)");
  cmds.submit
      ->add_option("--priority", submit.priority,
                   "Higher runs first (default 0); equal priorities run oldest first")
      ->capture_default_str();
  cmds.submit->add_option("--store", submit.store, kStoreHelp);
  cmds.submit->add_option("--key-file", submit.key_file,
                          "Key for encrypted values (else RUNNER_ENCRYPTION_KEY, else "
                          "$RUNNER_HOME/secret.key)");

  cmds.cancel = app.add_subcommand(
      "cancel", "Cancel a job: a waiting one is cancelled, a running one terminated");
  cmds.cancel->add_option("job", cancel.job, "Job id (or a unique prefix of 8+ characters)")
      ->required();
  cmds.cancel->add_option("--store", cancel.store, kStoreHelp);

  cmds.worker = app.add_subcommand(
      "worker", "Run queued jobs (SIGTERM/SIGINT: drain; a second signal hands jobs back)");
  cmds.worker->add_option("--store", worker.store, kStoreHelp);
  cmds.worker->add_option("-c,--concurrency", worker.concurrency, "Jobs run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmds.worker
      ->add_option("--lease", worker.lease_seconds,
                   "Seconds a claimed job's lease lasts without a heartbeat (heartbeats "
                   "every third of it); a dead worker's jobs are taken over after it")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmds.worker
      ->add_option("--drain-timeout", worker.drain_seconds,
                   "Seconds running jobs get to finish after SIGTERM before they are "
                   "handed back to the queue")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmds.worker->add_option("--id", worker.worker_id, "Worker id (default host:pid:random)");
  cmds.worker->add_option("--docker-host", worker.docker_host,
                          "Engine address; default $DOCKER_HOST or /var/run/docker.sock");
  add_engine_options(*cmds.worker, worker.engine);
  cmds.worker->add_option("--key-file", worker.key_file,
                          "Key for the queued components' encrypted values");
  cmds.worker->add_option("--max-jobs", worker.max_jobs,
                          "Exit after this many jobs finished (default: run until stopped)");
  return cmds;
}

int command_submit(const QueueArgs& args) {
  const KeyLookup find_key = key_lookup(args.key_file);
  nlohmann::json doc;
  try {
    doc = read_json_file(args.component);
    if (!args.namespace_name.empty() && doc.is_object()) doc["namespace"] = args.namespace_name;
    ComponentSpec spec = prepare_component(doc, find_key);  // validates (and decrypts) a copy
    std::optional<secrets::EncryptionKey> key;
    try {
      key = find_key();
    } catch (const secrets::SecretError&) {
      key.reset();
    }
    std::vector<std::string> problems;
    encrypt_plain_secrets(doc, "$", key, problems);
    if (!problems.empty()) throw ConfigError(problems);

    store::JobRecord job;
    job.id = new_job_id();
    job.component_id = spec.id;
    job.namespace_name = spec.namespace_name;
    job.priority = args.priority;
    job.status = std::string(store::kStatusWaiting);
    job.created_at = logging::now_utc();
    job.spec = doc.dump();
    job.spec_dir = std::filesystem::absolute(args.component).parent_path().string();
    auto db = open_queue(args.store);
    db->enqueue(job);
    std::printf("%s\n", job.id.c_str());
    return 0;
  } catch (const ConfigError& e) {
    for (const auto& line : e.problems())
      std::fprintf(stderr, "%s: %s\n", args.component.c_str(), line.c_str());
    return e.exit_code();
  }
}

int command_cancel(const QueueArgs& args) {
  auto db = open_queue(args.store);
  const std::optional<store::JobRecord> job = db->request_cancel(args.job);
  if (!job) throw NotFoundError("no job " + args.job + " in " + db->describe());
  if (job->status == store::kStatusCancelled)
    std::printf("job %s: cancelled (it had not started)\n", job->id.c_str());
  else if (job->status == store::kStatusTerminating)
    std::printf("job %s: terminating (its worker stops the container)\n", job->id.c_str());
  else
    std::printf("job %s: already finished (%s)\n", job->id.c_str(), job->status.c_str());
  return 0;
}

int command_worker(const QueueArgs& args) {
  SignalStopSource signals;  // first, so no signal is lost
  WorkerOptions options;
  options.store_url = store_url(args.store);
  options.concurrency = args.concurrency;
  options.lease = std::chrono::milliseconds(static_cast<std::int64_t>(args.lease_seconds * 1000));
  options.drain_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(args.drain_seconds * 1000));
  options.worker_id = args.worker_id;
  if (!args.docker_host.empty()) options.run.docker_host = args.docker_host;
  apply_engine_options(args.engine, options.run);
  options.find_key = key_lookup(args.key_file);
  options.max_jobs = args.max_jobs;
  return run_worker(std::move(options), signals);
}

}  // namespace runner
