// `runner gelf-server`: see the header. One loop on the main thread: poll the server for 50 ms,
// check the signalfd, flush what was printed; a signal ends the loop, the server is drained (so
// datagrams still queued in the socket and frames of clients still connected are delivered) and
// its counters reported.
#include "runner/gelf_server_command.hpp"

#include "logging/event_log.hpp"
#include "logging/gelf/server.hpp"
#include "logging/jsonl_sink.hpp"
#include "logging/terminal_sink.hpp"
#include "runner/errors.hpp"
#include "runner/stop_request.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace runner {

namespace {

namespace gelf = logging::gelf;

constexpr std::chrono::milliseconds kPollPeriod{50};
// After a signal: UDP reads on until this much quiet, TCP/HTTP until clients close; at most
// kDrainLimit either way, so a client that never closes cannot keep the server from exiting.
constexpr std::chrono::milliseconds kDrainQuiet{250};
constexpr std::chrono::milliseconds kDrainLimit{2000};

std::string host_port(const std::string& address, std::uint16_t port) {
  return address.find(':') != std::string::npos ? fmt::format("[{}]:{}", address, port)
                                                : fmt::format("{}:{}", address, port);
}

// The message's fields as an event shows them: its additional fields (names without the
// underscore), then host, full_message and timestamp when the client sent them.
void fill_fields(const gelf::GelfMessage& message, nlohmann::json& fields) {
  fields = message.additional;
  if (!message.host.empty()) fields["host"] = message.host;
  if (!message.full_message.empty()) fields["full_message"] = message.full_message;
  if (message.timestamp) fields["timestamp"] = *message.timestamp;
}

nlohmann::json counters_json(const gelf::GelfServerCounters& c, std::size_t receive_buffer) {
  return {{"received", c.received},
          {"invalid", c.invalid},
          {"dropped", c.dropped},
          {"bytes", c.bytes},
          {"oversize", c.oversize},
          {"connections", c.connections},
          {"http_requests", c.http_requests},
          {"http_rejected", c.http_rejected},
          {"timed_out", c.timed_out},
          {"udp_datagrams", c.udp_datagrams},
          {"chunks_completed", c.chunks.completed},
          {"chunks_expired", c.chunks.expired},
          {"chunks_evicted", c.chunks.evicted},
          {"chunks_rejected", c.chunks.rejected},
          {"chunks_duplicates", c.chunks.duplicates},
          {"udp_receive_buffer_bytes", receive_buffer}};
}

std::string counters_text(const gelf::GelfServerCounters& c, gelf::GelfTransport transport,
                          std::size_t receive_buffer) {
  std::string text = fmt::format("{} received, {} invalid, {} dropped, {} bytes, {} oversize",
                                 c.received, c.invalid, c.dropped, c.bytes, c.oversize);
  if (transport == gelf::GelfTransport::udp) {
    text += fmt::format(
        "; {} datagrams, chunked messages: {} completed, {} expired, {} evicted, {} rejected, {} "
        "duplicate chunks; UDP receive buffer {} bytes",
        c.udp_datagrams, c.chunks.completed, c.chunks.expired, c.chunks.evicted, c.chunks.rejected,
        c.chunks.duplicates, receive_buffer);
  } else {
    text += fmt::format("; {} connections", c.connections);
    if (transport == gelf::GelfTransport::http) {
      text += fmt::format(", {} requests ({} rejected), {} timed out", c.http_requests,
                          c.http_rejected, c.timed_out);
    }
  }
  return text;
}

// Each connection is a file descriptor: raise the soft limit towards the hard one so that the
// server can hold its max_connections (a full server sheds the longest-waiting connection, and
// does the same when descriptors run out first, so a low limit costs capacity, not availability).
void raise_open_files_limit(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + 64;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

CLI::App* add_gelf_server_command(CLI::App& app, GelfServerArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "gelf-server",
      "Run the GELF server a job hosts, without a container, printing each message as an event "
      "(stop with Ctrl-C)");
  cmd->add_option("--transport", args.transport, "udp, tcp or http")
      ->required()
      ->check(CLI::IsMember({"udp", "tcp", "http"}));
  cmd->add_option("--bind", args.bind, "Address to listen on (IPv4 or IPv6)")
      ->capture_default_str();
  cmd->add_option("--port", args.port, "Port; 0 picks a random free port in 12202-13202")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--events", args.events,
                  "Also write events as JSON Lines to FILE, or - for stdout");
  cmd->add_option("--allow", args.allow,
                  "Serve only this peer address; datagrams, connections and requests from any "
                  "other are dropped and counted");
  cmd->add_option("--max-message-bytes", args.max_message_bytes,
                  "Largest decoded message accepted (Keboola's limit is 200 KB)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} * 1024 * 1024));
  cmd->add_flag("--no-color", args.no_color,
                "Never colour terminal output (NO_COLOR is honoured too)");
  return cmd;
}

namespace {

// Binds --bind:--port; a bad address or a taken port is a usage error that says which.
void bind_server(gelf::GelfServer& server, const GelfServerArgs& args) {
  try {
    server.bind(args.bind, args.port);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--bind: ") + e.what());
  } catch (const std::system_error& e) {
    throw UsageError(fmt::format("{} ({})", e.what(),
                                 e.code() == std::errc::address_in_use
                                     ? "the port is taken: try another --port"
                                     : "is --bind an address of this host?"));
  }
}

// Serves until SIGINT/SIGTERM, flushing the sinks whenever new events were emitted.
StopRequest serve_until_stopped(gelf::GelfServer& server, logging::EventLog& events,
                                SignalStopSource& signals) {
  std::optional<StopRequest> stop;
  std::uint64_t flushed = 0;
  while (!(stop = signals.take())) {
    server.poll_for(kPollPeriod);
    if (events.events_emitted() != flushed) {
      events.flush();
      flushed = events.events_emitted();
    }
  }
  return *stop;
}

}  // namespace

int command_gelf_server(const GelfServerArgs& args) {
  const std::optional<gelf::GelfTransport> transport = gelf::parse_gelf_transport(args.transport);
  if (!transport) throw UsageError("--transport: expected udp, tcp or http, got " + args.transport);

  // Blocks SIGINT/SIGTERM before the socket opens, so a signal is never lost.
  SignalStopSource signals;

  auto terminal_out = args.events == "-" ? logging::OutputFile::standard_error()
                                         : logging::OutputFile::standard_output();
  const bool color = logging::want_color(terminal_out, args.no_color);
  logging::TerminalSink terminal(std::move(terminal_out), color, logging::Level::debug);
  std::unique_ptr<logging::JsonLinesSink> jsonl;
  if (!args.events.empty()) {
    try {
      jsonl = std::make_unique<logging::JsonLinesSink>(logging::OutputFile::open(args.events));
    } catch (const std::exception& e) {
      throw UsageError(std::string("--events: ") + e.what());
    }
  }
  logging::EventLog events("gelf-server");
  events.add_sink(terminal);
  if (jsonl) events.add_sink(*jsonl);

  gelf::GelfServerOptions options;
  options.transport = *transport;
  options.max_message_bytes = args.max_message_bytes;
  if (!args.allow.empty()) options.allowed_peer = args.allow;
  if (options.transport != gelf::GelfTransport::udp)
    raise_open_files_limit(options.max_connections);

  nlohmann::json fields;  // reused between messages
  gelf::GelfServerCallbacks callbacks;
  callbacks.on_message = [&](const gelf::GelfMessage& message) {
    fill_fields(message, fields);
    events.emit(gelf::event_level_from_syslog(message.level), "gelf", message.short_message,
                fields.empty() ? nullptr : &fields);
  };
  callbacks.on_invalid = [&](const std::string& reason) {
    events.emit(logging::Level::warning, "gelf", reason);
  };
  callbacks.on_oversize = [&](const std::string& reason) {
    events.emit(logging::Level::warning, "gelf", reason);
  };

  std::optional<gelf::GelfServer> server;
  try {
    server.emplace(options, std::move(callbacks));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--allow: ") + e.what());
  }
  bind_server(*server, args);
  std::fprintf(stderr, "Listening for GELF over %s on %s\n",
               std::string(gelf::gelf_transport_name(*transport)).c_str(),
               host_port(server->address(), server->port()).c_str());
  std::fflush(stderr);

  const StopRequest stop = serve_until_stopped(*server, events, signals);
  server->drain(kDrainQuiet, kDrainLimit);

  const gelf::GelfServerCounters counters = server->counters();
  const std::size_t receive_buffer = server->udp_receive_buffer_bytes();
  const std::string text = fmt::format("GELF server stopped by {}: {}", stop.reason,
                                       counters_text(counters, *transport, receive_buffer));
  const nlohmann::json counter_fields = counters_json(counters, receive_buffer);
  events.emit(logging::Level::info, "runner", text, &counter_fields);
  events.flush();
  std::fprintf(stderr, "%s\n", text.c_str());
  return kExitSuccess;
}

}  // namespace runner
