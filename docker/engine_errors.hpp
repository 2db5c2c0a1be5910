// Typed errors for everything that can go wrong when talking to the Docker engine.
//
// Each is a runner::Error: an engine that cannot be reached (or is too old) is of kind
// engine_unavailable (exit 69); every other engine error is internal unless its caller knows
// better (a refused container is the component author's problem, so JobRunner rethrows it as a
// UserError), which is why each carries the HTTP status and the daemon's own message.
#pragma once

#include "common/error.hpp"

#include <string>

namespace runner::docker {

class EngineError : public Error {
 public:
  explicit EngineError(const std::string& what, ErrorKind kind = ErrorKind::internal)
      : Error(kind, what) {}
};

// No answer from the engine at all: socket missing, connection refused, timeout.
class EngineUnreachableError : public EngineError {
 public:
  explicit EngineUnreachableError(const std::string& what)
      : EngineError(what, ErrorKind::engine_unavailable) {}
};

// The engine answers but speaks an API older than we support.
class EngineVersionError : public EngineError {
 public:
  explicit EngineVersionError(const std::string& what)
      : EngineError(what, ErrorKind::engine_unavailable) {}
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
  explicit ImagePullError(const std::string& what) : EngineError(what) {}
};

// A transfer the caller's abort check ended (a stop request during a pull).
class TransferAborted : public EngineError {
 public:
  explicit TransferAborted(const std::string& what) : EngineError(what) {}
};

}  // namespace runner::docker
