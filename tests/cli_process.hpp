// CliProcess: starts the real `runner` binary for end-to-end tests and collects what it printed.
//
// posix_spawn with stdout and stderr redirected to files (no pipes to drain, no threads); the
// test can wait for a line to appear, send a signal, and wait for the exit with a time limit.
//
// One engine for everything: the CLI under test gets DOCKER_HOST set to engine_host(), and the
// tests' own checks (containers left behind, inspections) use engine_client(), so a check can
// never ask a different engine than the one runner used.
// run_cli_in_terminal gives the child a real pseudo-terminal instead, for what people see there.
#pragma once

#include "docker/engine_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace runner_test {

// The engine the tests use: $DOCKER_HOST of the test process when set, else the default socket.
const std::string& engine_host();
runner::docker::EngineEndpoint engine_endpoint();
runner::docker::EngineClient engine_client();

class CliProcess {
 public:
  // `env` entries override the inherited environment (NO_COLOR=1 and DOCKER_HOST=engine_host()
  // by default); `stdin_text`, when given, is what the process reads on stdin (else /dev/null).
  explicit CliProcess(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {},
                      const std::optional<std::string>& stdin_text = std::nullopt);
  ~CliProcess();
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  // Waits for the exit; returns the exit code (128+N when killed by signal N).
  int wait(std::chrono::seconds limit = std::chrono::seconds(120));
  // Waits until stdout contains `text`; false on timeout or exit.
  bool wait_for_output(const std::string& text,
                       std::chrono::seconds limit = std::chrono::seconds(60));
  void signal(int sig);
  std::string out() const;
  std::string err() const;
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
  std::string out_path_;
  std::string err_path_;
  std::string in_path_;
};

// Runs to completion and returns {exit code, stdout, stderr}.
struct CliResult {
  int exit_code;
  std::string out;
  std::string err;
};
CliResult run_cli(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env = {},
                  const std::optional<std::string>& stdin_text = std::nullopt);
// The same with stdout on a pseudo-terminal `columns` wide (TERM=xterm, raw mode, so `out` holds
// exactly the bytes runner wrote); stderr is a file.
CliResult run_cli_in_terminal(const std::vector<std::string>& args, unsigned short columns = 100,
                              std::chrono::seconds limit = std::chrono::seconds(120));

// Writes `content` to a new temporary file and returns its path.
std::string temp_file(const std::string& content, const std::string& suffix = ".json");
std::string read_file(const std::string& path);
// The JSON objects of a JSON Lines file.
std::vector<nlohmann::json> read_json_lines(const std::string& path);
// The same for a file still being written: only its complete (newline-ended) lines.
std::vector<nlohmann::json> complete_json_lines(const std::string& path);
// A TCP port on 127.0.0.1 that nothing listens on now (bound to port 0, then closed).
std::uint16_t unused_tcp_port();
// Raises this process's soft limit on open files towards `wanted` (tests that hold many
// connections); returns the limit now in force.
std::size_t raise_open_files_limit(std::size_t wanted);

}  // namespace runner_test
