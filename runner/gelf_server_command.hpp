// `runner gelf-server`: the GELF input a job hosts, run on its own without a container, for
// developing a component's logging locally and for benchmarks.
//
// It is the same GelfServer (logging/gelf/server.hpp) and the same event sinks as `runner run`,
// so what a developer sees here is what a job would show: each valid message becomes an event
// from source "gelf", each refused payload a warning "Invalid message: <reason>", and the
// server's counters a last runner event (and a line on stderr) when SIGINT or SIGTERM stops it.
// The whole thing runs on the calling thread: the server makes progress only inside poll_for(),
// and the signals arrive on a signalfd that is checked between polls, so no thread and no signal
// handler is needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace runner {

struct GelfServerArgs {
  std::string transport;           // udp, tcp or http
  std::string bind = "127.0.0.1";  // address to listen on
  std::uint16_t port = 0;          // 0: a random free port in 12202-13202
  std::string events;              // JSON Lines to FILE, or "-" for stdout; empty for none
  std::string allow;               // when set, the only peer address served
  std::size_t max_message_bytes = 200 * 1024;
  bool no_color = false;
};

// Adds the `gelf-server` subcommand and its options to `app`, filling `args` when parsed.
CLI::App* add_gelf_server_command(CLI::App& app, GelfServerArgs& args);

// Runs the server until SIGINT or SIGTERM, then drains it and reports its counters. Returns 0;
// throws UsageError (exit 64) when the address cannot be bound or an option is wrong.
int command_gelf_server(const GelfServerArgs& args);

}  // namespace runner
