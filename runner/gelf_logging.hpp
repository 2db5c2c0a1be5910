// GELF logging mode for one job: the GELF server the job hosts, and Keboola's visibility rules
// that decide what people see of each message.
//
// GelfLogPolicy is the pure part (a message in, the event to show or nothing out), tested without
// sockets. GelfJobServer owns a GelfServer bound on the address containers reach the host by,
// serves only the job's own container once its address is known, hands what the policy shows to
// the job's event log (which masks every text and every field, names included, value by value:
// secrets/masker.hpp), and reports its counters when the job ends. It is driven from the job's
// run loop (poll), so it needs no thread.
#pragma once

#include "logging/event_log.hpp"
#include "logging/gelf/server.hpp"
#include "runner/component.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace runner {

class GelfLogPolicy {
 public:
  explicit GelfLogPolicy(const std::array<Visibility, 8>& verbosity) : verbosity_(verbosity) {}

  struct Shown {
    logging::Level level;
    std::string message;
    nlohmann::json fields;  // always has "type" (Keboola's info / warn / error)
  };
  // none: nothing; camouflage: "Application error" with the real text only under
  // fields.internal; normal: short_message; verbose: short_message and every field.
  std::optional<Shown> apply(const logging::gelf::GelfMessage& message) const;

 private:
  std::array<Visibility, 8> verbosity_;
};

class GelfJobServer {
 public:
  GelfJobServer(const LoggingSettings& settings, logging::EventLog& events);
  GelfJobServer(const GelfJobServer&) = delete;  // the server's callbacks point at this object
  GelfJobServer& operator=(const GelfJobServer&) = delete;

  // Listens on `address`, on a random free port in 12202-13202.
  void listen(const std::string& address);
  const std::string& address() const { return address_; }
  const std::string& transport() const { return transport_; }
  std::uint16_t port() const { return server_.port(); }
  // From now on only `container_ip` is served; everything else is dropped and counted.
  void allow_only(const std::string& container_ip) { server_.set_allowed_peer(container_ip); }
  // Handles whatever has arrived, without waiting.
  void poll() { server_.poll(); }
  // After the container exited: UDP until 1 s of quiet, TCP and HTTP until the clients close
  // (at most 5 s); then the counters as a runner event.
  void finish();

  // The last error-level message shown (masked): the user error message when the component
  // printed nothing on stdout and stderr.
  const std::string& last_error() const { return last_error_; }
  // Set when a message went over the 200 KB limit: the job fails as a user error with this.
  const std::optional<std::string>& oversize() const { return oversize_; }

 private:
  void on_message(const logging::gelf::GelfMessage& message);

  GelfLogPolicy policy_;
  logging::EventLog& events_;
  std::string transport_;
  logging::gelf::GelfServer server_;
  std::string address_;
  std::string last_error_;
  std::optional<std::string> oversize_;
  std::uint64_t hidden_ = 0;  // messages dropped by verbosity "none"
};

}  // namespace runner
