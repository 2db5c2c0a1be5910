// GelfServer: the GELF input a job hosts for its component, over UDP, TCP or HTTP (Boost.Asio).
//
// Threading: the server owns a private single-threaded io_context and starts no threads. It only
// makes progress inside poll_for() and drain(), on the caller's thread, and every callback runs
// there too, so the job's run loop drives it between its other work and needs no locks. Boost is
// kept out of this header (pimpl), so including it costs the rest of the project nothing.
//
// Every payload goes the same way: (UDP) chunk reassembly, bounded decoding sniffed by magic
// bytes, the message size limit, GELF validation, then exactly one of the callbacks. Only the
// allowed peer, when one is set, is served: datagrams, connections and requests from any other
// address are dropped and counted.
#pragma once

#include "logging/gelf/chunk_assembler.hpp"
#include "logging/gelf/message.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace runner::logging::gelf {

enum class GelfTransport { udp, tcp, http };

std::string_view gelf_transport_name(GelfTransport transport);
std::optional<GelfTransport> parse_gelf_transport(std::string_view name);

struct GelfServerOptions {
  GelfTransport transport = GelfTransport::tcp;
  // Keboola's documented limit ("200KB"): a decoded message above it is reported to on_oversize
  // and not delivered. Decompression stops right past it.
  std::size_t max_message_bytes = 200 * 1024;
  std::size_t max_tcp_frame_bytes = 2 * 1024 * 1024;  // Graylog's TCP frame cap
  // Graylog's HTTP body cap: a bigger body is answered 413 (and reported to on_oversize only
  // when it is also over max_message_bytes). A job that wants HTTP clients to reach the 200 KB
  // message limit raises it.
  std::size_t max_http_body_bytes = 64 * 1024;
  // An HTTP connection that sends nothing for this long is closed (Graylog: 60 s), and so is one
  // whose request header is not complete this long after its first byte (slowloris).
  std::chrono::milliseconds http_idle_timeout{60'000};
  std::chrono::milliseconds http_header_timeout{10'000};
  std::size_t udp_receive_buffer_bytes = 8 * 1024 * 1024;  // requested; the kernel may grant less
  GelfChunkAssembler::Limits chunk_limits{};
  // When set, only this address may send (IPv4 or IPv6 text, e.g. "172.17.0.2").
  std::optional<std::string> allowed_peer;
  // TCP/HTTP. A new connection past it (or past the process's file descriptors) closes the one
  // that has waited longest for its client (counted as dropped), so holding connections open
  // cannot lock clients out.
  std::size_t max_connections = 1024;
  // port 0 in bind() picks a free port at random in this range.
  std::uint16_t random_port_first = 12202;
  std::uint16_t random_port_last = 13202;
};

struct GelfServerCallbacks {
  std::function<void(const GelfMessage&)> on_message;
  // "Invalid message: <reason>" for a payload that is not a valid GELF message.
  std::function<void(std::string reason)> on_invalid;
  // A message over max_message_bytes (the job fails as a user error); says what was seen.
  std::function<void(std::string reason)> on_oversize;
};

struct GelfServerCounters {
  std::uint64_t received = 0;       // valid messages delivered to on_message
  std::uint64_t invalid = 0;        // payloads refused as undecodable or not valid GELF
  std::uint64_t dropped = 0;        // from a peer not allowed; also connections shed when full
  std::uint64_t bytes = 0;          // bytes read from allowed peers (datagrams, streams, requests)
  std::uint64_t oversize = 0;       // messages over max_message_bytes (and TCP frames over the cap)
  std::uint64_t connections = 0;    // TCP/HTTP connections accepted
  std::uint64_t timed_out = 0;      // HTTP connections closed by the header or idle deadline
  std::uint64_t http_requests = 0;  // HTTP requests answered, whatever the status
  std::uint64_t http_rejected = 0;  // HTTP requests answered 4xx/5xx
  std::uint64_t udp_datagrams = 0;  // datagrams from allowed peers
  GelfChunkCounters chunks;         // UDP chunk reassembly
};

class GelfServer {
 public:
  GelfServer(GelfServerOptions options, GelfServerCallbacks callbacks);
  // Closes everything without calling back (use drain() or stop() first to deliver what is left).
  ~GelfServer();
  GelfServer(const GelfServer&) = delete;
  GelfServer& operator=(const GelfServer&) = delete;

  // Opens the socket on `address` (e.g. "172.17.0.1", "0.0.0.0", "::") and starts listening.
  // Port 0 tries ports in [random_port_first, random_port_last] from a random start until one
  // binds. Throws std::system_error when nothing binds, std::invalid_argument for a bad address.
  void bind(const std::string& address, std::uint16_t port = 0);
  std::uint16_t port() const;
  std::string address() const;
  // SO_RCVBUF as granted by the kernel (UDP only; 0 otherwise).
  std::size_t udp_receive_buffer_bytes() const;

  // Serves only `address` from now on (e.g. the job's container, once it has an address; nothing
  // is read before the first poll_for, so set it before that). Throws std::invalid_argument.
  void set_allowed_peer(const std::string& address);
  // Runs every handler that is ready now, without waiting (for a caller's own poll loop).
  std::size_t poll();
  // Runs ready handlers and waits for more for at most `timeout`. Returns the handlers run.
  std::size_t poll_for(std::chrono::milliseconds timeout);
  // For the end of a job: UDP keeps reading until `quiet` passes without a datagram; TCP and
  // HTTP until every client has closed; in both cases at most `limit`. Then stop().
  void drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(1000),
             std::chrono::milliseconds limit = std::chrono::milliseconds(5000));
  // Closes every socket. Pending TCP frames count as at a client's close; incomplete chunked
  // messages count as expired. Idempotent.
  void stop();

  GelfServerCounters counters() const;
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runner::logging::gelf
