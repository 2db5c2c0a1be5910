// Typed errors for everything that can go wrong when talking to the Docker engine.
//
// The runner maps these onto its documented exit codes (69 when the engine cannot be reached,
// 1 when the daemon rejects the component's request, ...), so each carries what is needed for
// that decision: the HTTP status and the daemon's own message.
#pragma once

#include <stdexcept>
#include <string>

namespace runner::docker {

class EngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// No answer from the engine at all: socket missing, connection refused, timeout.
class EngineUnreachableError : public EngineError {
 public:
  using EngineError::EngineError;
};

// The engine answers but speaks an API older than we support.
class EngineVersionError : public EngineError {
 public:
  using EngineError::EngineError;
};

// A non-2xx answer. `daemon_message` is the "message" field of the daemon's JSON error body.
class EngineApiError : public EngineError {
 public:
  EngineApiError(long status, std::string operation, std::string daemon_message)
      : EngineError(operation + ": " + daemon_message + " (HTTP " + std::to_string(status) + ")"),
        status_(status),
        operation_(std::move(operation)),
        daemon_message_(std::move(daemon_message)) {}
  long status() const { return status_; }
  const std::string& operation() const { return operation_; }
  const std::string& daemon_message() const { return daemon_message_; }

 private:
  long status_;
  std::string operation_;
  std::string daemon_message_;
};

// Pulling an image failed; the pull API reports this inside a 200 stream.
class ImagePullError : public EngineError {
 public:
  using EngineError::EngineError;
};

}  // namespace runner::docker
