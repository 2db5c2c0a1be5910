// gelf_load: the project's own GELF load generator, for benchmarking GELF servers on loopback.
//
// It sends realistic messages (~250 bytes of JSON with a few additional fields and a unique
// `_seq` number, so a receiver can count what arrived) to 127.0.0.1:PORT over
//   udp   plain, zlib or gzip payloads, one datagram each, or chunked (`1e 0f`) when the payload
//         is over --chunk bytes; batched with sendmmsg on a connected socket;
//   tcp   NUL-delimited frames over one or more connections (non-blocking, 64 KiB writes);
//   http  POST /gelf over keep-alive connections, each waiting for its 202 (--window 1) or with
//         up to --window requests in flight (pipelined);
// at full rate or at a fixed rate (messages/s, paced by a spinning clock loop: the sender sends
// whatever is due, up to a batch, as soon as it is due), for --count messages or --seconds
// seconds, whichever comes first. --precompute 1 builds every payload before the clock starts
// (for compressed runs, where deflate would otherwise limit the sender). Every loop is bounded
// both ways: without --seconds the run stops after 120 s. Prints one "key=value" line: messages
// sent, elapsed, rate.
//
// Only loopback: the destination address is fixed to 127.0.0.1.
//
// Usage: gelf_load --transport udp|tcp|http --port N [--encoding plain|zlib|gzip] [--chunk BYTES]
//                  [--size BYTES] [--count N] [--seconds S] [--rate MSG_PER_S] [--batch N]
//                  [--connections N] [--window N] [--precompute 0|1]
#include "bench_util.hpp"
#include "logging/gelf/payload_encoder.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace {

using bench::Clock;
using bench::Fd;
using runner::logging::gelf::PayloadEncoding;

constexpr double kDefaultMaxSeconds = 120;  // the bound when only --count is given
constexpr double kFlushGraceSeconds = 5;    // TCP/HTTP: time to flush and collect answers after

struct Options {
  std::string transport = "udp";
  int port = 0;
  PayloadEncoding encoding = PayloadEncoding::plain;
  std::size_t chunk = 0;  // UDP: chunk payloads over this many bytes (0: never)
  std::size_t size = 250;
  std::uint64_t count = 0;
  double seconds = 0;
  double rate = 0;  // 0: full rate
  std::size_t batch = 32;
  int connections = 1;
  int window = 1;
  bool precompute = false;  // build every payload before the clock starts
};

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::system_category(), what);
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Builds message number `seq`: the same shape every time, padded to about `size` bytes.
class MessageMaker {
 public:
  explicit MessageMaker(std::size_t size) {
    const std::time_t now = std::time(nullptr);
    timestamp_ = std::to_string(static_cast<long long>(now)) + ".125";
    std::string probe;
    make(1'000'000, probe);  // typical width of the sequence number
    if (probe.size() < size) padding_.assign(size - probe.size(), '.');
  }

  void make(std::uint64_t seq, std::string& out) const {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, seq).ptr;
    const std::string_view number(digits, static_cast<std::size_t>(end - digits));
    out.clear();
    out.append(R"({"version":"1.1","host":"worker-07","short_message":"Extracted batch )");
    out.append(number);
    out.append(" of in.c-main.orders");
    out.append(padding_);
    out.append(R"(","timestamp":)");
    out.append(timestamp_);
    out.append(R"(,"level":6,"_seq":)");
    out.append(number);
    out.append(R"(,"_component":"keboola.ex-db-snowflake","_job_id":"987654321",)"
               R"("_thread":"extractor-3"})");
  }

 private:
  std::string timestamp_;
  std::string padding_;
};

// One deflate stream reused for every message (deflateReset), as a fast client would; zlib's
// default level, as graypy and Docker use.
class Deflater {
 public:
  explicit Deflater(PayloadEncoding encoding) {
    const int window_bits = encoding == PayloadEncoding::gzip ? 15 + 16 : 15;
    if (deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2 failed");
    }
  }
  ~Deflater() { deflateEnd(&stream_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  void compress(std::string_view input, std::string& output) {
    deflateReset(&stream_);
    output.resize(deflateBound(&stream_, static_cast<uLong>(input.size())));
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_.avail_in = static_cast<uInt>(input.size());
    stream_.next_out = reinterpret_cast<Bytef*>(output.data());
    stream_.avail_out = static_cast<uInt>(output.size());
    if (deflate(&stream_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
    output.resize(output.size() - stream_.avail_out);
  }

 private:
  z_stream stream_{};
};

// Makes the payload of message `seq` (JSON, compressed when asked). With --precompute it builds
// all of them up front (into one buffer), so that a compressed run measures the receiver rather
// than the sender's deflate (about 10 us a message here, slower than the servers inflate).
class PayloadMaker {
 public:
  explicit PayloadMaker(const Options& options)
      : maker_(options.size), encoding_(options.encoding) {
    if (encoding_ != PayloadEncoding::plain) deflater_.emplace(encoding_);
    if (!options.precompute) return;
    if (options.count > kMaxPrecomputed) {
      throw std::invalid_argument("--precompute needs --count of at most " +
                                  std::to_string(kMaxPrecomputed));
    }
    offsets_.reserve(options.count + 1);
    offsets_.push_back(0);
    for (std::uint64_t seq = 0; seq < options.count; ++seq) {
      all_.append(build(seq));
      offsets_.push_back(all_.size());
    }
  }
  // The view is valid until the next call (with --precompute, for the maker's lifetime).
  std::string_view make(std::uint64_t seq) {
    if (offsets_.empty()) return build(seq);
    return std::string_view(all_).substr(offsets_[seq], offsets_[seq + 1] - offsets_[seq]);
  }

 private:
  static constexpr std::uint64_t kMaxPrecomputed = 4'000'000;

  std::string_view build(std::uint64_t seq) {
    maker_.make(seq, json_);
    if (!deflater_) return json_;
    deflater_->compress(json_, compressed_);
    return compressed_;
  }

  MessageMaker maker_;
  PayloadEncoding encoding_;
  std::optional<Deflater> deflater_;
  std::string json_;
  std::string compressed_;
  std::string all_;                   // --precompute: every payload, back to back
  std::vector<std::size_t> offsets_;  // --precompute: payload i is [offsets_[i], offsets_[i + 1])
};

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

Fd connect_socket(int type, int port) {
  Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fail("socket");
  const sockaddr_in address = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail("connect to 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

void set_non_blocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) fail("fcntl");
}

// How many messages may have gone by now: all of them at full rate, else rate x elapsed
// (the first one at once).
std::uint64_t allowed_by(const Options& options, Clock::time_point start, Clock::time_point now) {
  if (options.rate <= 0) return options.count;
  const double due = bench::seconds_between(start, now) * options.rate + 1;
  return std::min<std::uint64_t>(options.count, static_cast<std::uint64_t>(due));
}

struct Report {
  std::uint64_t sent = 0;       // messages handed to the kernel (TCP: fully written)
  std::uint64_t datagrams = 0;  // UDP datagrams (more than messages when chunked)
  std::uint64_t acked = 0;      // HTTP: 202 answers
  std::uint64_t rejected = 0;   // HTTP: other answers
  std::uint64_t errors = 0;     // failed sends (e.g. ECONNREFUSED from an earlier datagram)
  int first_errno = 0;
  double elapsed = 0;
};

Report run_udp(const Options& options) {
  Fd fd = connect_socket(SOCK_DGRAM, options.port);
  const int send_buffer = 4 * 1024 * 1024;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);

  PayloadMaker payloads(options);
  std::vector<std::string> datagrams;
  std::vector<iovec> iovecs;
  std::vector<mmsghdr> headers;
  Report report;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.seconds));
  Clock::time_point last = start;
  std::uint64_t next = 0;  // the next sequence number to build
  while (next < options.count) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    const std::uint64_t due = allowed_by(options, start, now) - next;
    if (due == 0) {
      cpu_relax();
      continue;
    }
    const std::uint64_t messages = std::min<std::uint64_t>(due, options.batch);
    datagrams.clear();
    for (std::uint64_t i = 0; i < messages; ++i) {
      const std::string_view payload = payloads.make(next + i);
      if (options.chunk > 0 && payload.size() > options.chunk) {
        for (std::string& chunk :
             runner::logging::gelf::make_gelf_chunks(payload, next + i, options.chunk)) {
          datagrams.push_back(std::move(chunk));
        }
      } else {
        datagrams.emplace_back(payload);
      }
    }
    iovecs.resize(datagrams.size());
    headers.assign(datagrams.size(), mmsghdr{});
    for (std::size_t i = 0; i < datagrams.size(); ++i) {
      iovecs[i] = iovec{datagrams[i].data(), datagrams[i].size()};
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    std::size_t done = 0;
    bool failed = false;
    while (done < headers.size()) {
      const int sent = ::sendmmsg(fd.get(), headers.data() + done,
                                  static_cast<unsigned>(headers.size() - done), 0);
      if (sent < 0) {
        if (errno == EINTR || errno == ENOBUFS) continue;
        if (report.errors++ == 0) report.first_errno = errno;  // e.g. ECONNREFUSED
        failed = true;
        break;
      }
      done += static_cast<std::size_t>(sent);
    }
    report.datagrams += done;
    // Unchunked, a datagram is a message; a chunked message counts when all its chunks went.
    if (options.chunk == 0) {
      report.sent += done;
    } else if (!failed) {
      report.sent += messages;
    }
    next += messages;
    last = Clock::now();
  }
  report.elapsed = bench::seconds_between(start, last);
  return report;
}

struct StreamConnection {
  Fd fd;
  std::string out;
  std::size_t offset = 0;  // of `out` already written
  std::string in;          // HTTP: answers not yet parsed
  int outstanding = 0;     // HTTP: requests without an answer
  bool open = true;

  std::size_t pending() const { return out.size() - offset; }
};

// Writes what it can; false when the connection failed.
bool write_some(StreamConnection& connection) {
  while (connection.pending() > 0) {
    const ssize_t written = ::send(connection.fd.get(), connection.out.data() + connection.offset,
                                   connection.pending(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    connection.offset += static_cast<std::size_t>(written);
  }
  if (connection.pending() == 0) {
    connection.out.clear();
    connection.offset = 0;
  } else if (connection.offset > (1u << 20)) {
    connection.out.erase(0, connection.offset);
    connection.offset = 0;
  }
  return true;
}

std::vector<StreamConnection> open_connections(const Options& options) {
  std::vector<StreamConnection> connections(static_cast<std::size_t>(options.connections));
  for (StreamConnection& connection : connections) {
    connection.fd = connect_socket(SOCK_STREAM, options.port);
    const int one = 1;
    ::setsockopt(connection.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_non_blocking(connection.fd);
  }
  return connections;
}

Report run_tcp(const Options& options) {
  constexpr std::size_t kFill = 64 * 1024;
  std::vector<StreamConnection> connections = open_connections(options);
  MessageMaker maker(options.size);
  std::string message;
  std::vector<pollfd> polls;
  Report report;
  std::uint64_t generated = 0;
  const Clock::time_point start = Clock::now();
  const auto limit =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  const Clock::time_point deadline = start + limit;
  const Clock::time_point flush_deadline =
      deadline + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(kFlushGraceSeconds));
  std::size_t turn = 0;
  for (;;) {
    const Clock::time_point now = Clock::now();
    const std::uint64_t allowed = now < deadline ? allowed_by(options, start, now) : generated;
    // Fill the buffers round robin, a message at a time, up to kFill pending each.
    while (generated < allowed) {
      StreamConnection* target = nullptr;
      for (std::size_t tried = 0; tried < connections.size() && target == nullptr; ++tried) {
        StreamConnection& candidate = connections[turn];
        turn = (turn + 1) % connections.size();
        if (candidate.open && candidate.pending() < kFill) target = &candidate;
      }
      if (target == nullptr) break;
      maker.make(generated, message);
      target->out.append(message);
      target->out.push_back('\0');
      ++generated;
    }
    bool pending = false;
    for (StreamConnection& connection : connections) {
      if (!connection.open) continue;
      if (!write_some(connection)) {
        connection.open = false;
        ++report.errors;
      }
      if (connection.open && connection.pending() > 0) pending = true;
    }
    const bool finished = generated == options.count || now >= deadline;
    if (finished && !pending) break;
    if (now >= flush_deadline) break;
    if (std::none_of(connections.begin(), connections.end(),
                     [](const StreamConnection& connection) { return connection.open; })) {
      break;
    }
    // Wait for room when every buffer is full, or when only flushing is left.
    bool all_full = true;
    for (const StreamConnection& connection : connections) {
      if (connection.open && connection.pending() < kFill) all_full = false;
    }
    if (pending && (all_full || finished)) {
      polls.clear();
      for (const StreamConnection& connection : connections) {
        if (connection.open && connection.pending() > 0) {
          polls.push_back(pollfd{connection.fd.get(), POLLOUT, 0});
        }
      }
      ::poll(polls.data(), polls.size(), 10);
    } else if (generated >= allowed) {
      cpu_relax();  // fixed rate, nothing due yet
    }
  }
  report.elapsed = bench::seconds_between(start, Clock::now());
  // Messages still unwritten (a flush that ran out of time) were not sent.
  std::uint64_t unsent = 0;
  for (const StreamConnection& connection : connections) {
    unsent += static_cast<std::uint64_t>(
        std::count(connection.out.begin() + static_cast<std::ptrdiff_t>(connection.offset),
                   connection.out.end(), '\0'));
    ::shutdown(connection.fd.get(), SHUT_WR);
  }
  report.sent = generated - unsent;
  return report;
}

// Parses complete answers at the front of `connection.in` (our server answers with
// Content-Length: 0, so an answer ends with its header block).
void read_answers(StreamConnection& connection, Report& report) {
  std::size_t position = 0;
  for (;;) {
    const std::size_t end = connection.in.find("\r\n\r\n", position);
    if (end == std::string::npos) break;
    const std::string_view answer(connection.in.data() + position, end - position);
    if (answer.substr(0, 12) == "HTTP/1.1 202" || answer.substr(0, 12) == "HTTP/1.0 202") {
      ++report.acked;
    } else if (answer.substr(0, 12) != "HTTP/1.1 100") {
      ++report.rejected;
    }
    if (answer.substr(0, 12) != "HTTP/1.1 100") --connection.outstanding;
    position = end + 4;
  }
  connection.in.erase(0, position);
}

Report run_http(const Options& options) {
  std::vector<StreamConnection> connections = open_connections(options);
  PayloadMaker payloads(options);
  std::string head_prefix =
      "POST /gelf HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(options.port) +
      "\r\nContent-Type: application/json\r\n";
  if (options.encoding == PayloadEncoding::gzip) head_prefix += "Content-Encoding: gzip\r\n";
  if (options.encoding == PayloadEncoding::zlib) head_prefix += "Content-Encoding: deflate\r\n";
  head_prefix += "Content-Length: ";
  std::vector<pollfd> polls;
  Report report;
  std::uint64_t generated = 0;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.seconds));
  const Clock::time_point answer_deadline =
      deadline + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(kFlushGraceSeconds));
  Clock::time_point last_answer = start;
  char buffer[64 * 1024];
  for (;;) {
    const Clock::time_point now = Clock::now();
    const std::uint64_t allowed = now < deadline ? allowed_by(options, start, now) : generated;
    for (StreamConnection& connection : connections) {
      while (connection.open && connection.outstanding < options.window && generated < allowed) {
        const std::string_view body = payloads.make(generated);
        connection.out.append(head_prefix);
        connection.out.append(std::to_string(body.size()));
        connection.out.append("\r\n\r\n");
        connection.out.append(body);
        ++connection.outstanding;
        ++generated;
      }
    }
    bool waiting = false;
    polls.clear();
    for (StreamConnection& connection : connections) {
      if (!connection.open) continue;
      if (!write_some(connection)) {
        connection.open = false;
        ++report.errors;
        continue;
      }
      if (connection.outstanding > 0 || connection.pending() > 0) waiting = true;
      polls.push_back(pollfd{connection.fd.get(),
                             static_cast<short>(POLLIN | (connection.pending() > 0 ? POLLOUT : 0)),
                             0});
    }
    const bool finished = generated == options.count || now >= deadline;
    if (finished && !waiting) break;
    if (now >= answer_deadline || polls.empty()) break;
    // Block for answers unless more requests are due (fixed rate with a free slot).
    const bool more_due = generated < allowed_by(options, start, now) && now < deadline;
    ::poll(polls.data(), polls.size(), more_due ? 0 : 10);
    std::size_t index = 0;
    for (StreamConnection& connection : connections) {
      if (!connection.open) continue;
      const short events = polls[index++].revents;
      if ((events & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t got = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
      if (got > 0) {
        connection.in.append(buffer, static_cast<std::size_t>(got));
        read_answers(connection, report);
        last_answer = Clock::now();
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        connection.open = false;
        ++report.errors;
      }
    }
  }
  report.sent = generated;
  report.elapsed = bench::seconds_between(start, last_answer);
  return report;
}

Options parse_options(int argc, char** argv) {
  const bench::Args args(argc, argv);
  Options options;
  options.transport = args.text("--transport", "udp");
  options.port = static_cast<int>(args.number("--port", 0));
  const std::string encoding = args.text("--encoding", "plain");
  if (encoding == "zlib") {
    options.encoding = PayloadEncoding::zlib;
  } else if (encoding == "gzip") {
    options.encoding = PayloadEncoding::gzip;
  } else if (encoding != "plain") {
    throw std::invalid_argument("--encoding is plain, zlib or gzip");
  }
  options.chunk = static_cast<std::size_t>(args.number("--chunk", 0));
  options.size = static_cast<std::size_t>(args.number("--size", 250));
  options.count = static_cast<std::uint64_t>(args.number("--count", 0));
  options.seconds = args.number("--seconds", 0);
  options.rate = args.number("--rate", 0);
  options.batch = static_cast<std::size_t>(std::max(1.0, args.number("--batch", 32)));
  options.connections = static_cast<int>(std::max(1.0, args.number("--connections", 1)));
  options.window = static_cast<int>(std::max(1.0, args.number("--window", 1)));
  options.precompute = args.number("--precompute", 0) != 0;
  if (options.port <= 0 || options.port > 65535) throw std::invalid_argument("--port is required");
  if (options.transport != "udp" && options.transport != "tcp" && options.transport != "http") {
    throw std::invalid_argument("--transport is udp, tcp or http");
  }
  if (options.count == 0 && options.seconds <= 0) {
    throw std::invalid_argument("give --count or --seconds (or both)");
  }
  if (options.count == 0) options.count = std::numeric_limits<std::uint64_t>::max();
  if (options.seconds <= 0) options.seconds = kDefaultMaxSeconds;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    Report report;
    if (options.transport == "udp") {
      report = run_udp(options);
    } else if (options.transport == "tcp") {
      report = run_tcp(options);
    } else {
      report = run_http(options);
    }
    const double rate =
        report.elapsed > 0
            ? static_cast<double>(options.transport == "http" ? report.acked : report.sent) /
                  report.elapsed
            : 0;
    std::printf(
        "load transport=%s encoding=%s sent=%llu datagrams=%llu acked=%llu rejected=%llu "
        "errors=%llu first_error=%s elapsed_s=%.3f rate=%.0f\n",
        options.transport.c_str(),
        std::string(runner::logging::gelf::payload_encoding_name(options.encoding)).c_str(),
        static_cast<unsigned long long>(report.sent),
        static_cast<unsigned long long>(report.datagrams),
        static_cast<unsigned long long>(report.acked),
        static_cast<unsigned long long>(report.rejected),
        static_cast<unsigned long long>(report.errors),
        report.first_errno != 0 ? strerrorname_np(report.first_errno) : "none", report.elapsed,
        rate);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gelf_load: %s\n", error.what());
    return 2;
  }
}
