// GelfServer: see the header. The Asio parts live in this file only. Connections are owned by
// shared_ptr (the handlers in flight hold one, the server's table holds one) so a connection
// lives exactly as long as something can still call it; stop() closes them all.
// Over 600 lines on purpose: it is the one file that includes Asio, so the three transports'
// connection types, their deadlines and the shedding rule stay together and out of every other
// translation unit's compile time.
//
// Holding connections open is the cheap attack on a stream server (slowloris: connect, send part
// of a header, wait). Three rules keep it from locking clients out: an HTTP request's header must
// be complete within http_header_timeout of its first byte; an HTTP connection that sends nothing
// for http_idle_timeout is closed (TCP connections have no idle limit: GELF clients keep one open
// for hours, as Graylog allows); and a full server (max_connections, or no file descriptors left)
// closes the connection that has waited longest for its client instead of refusing the new one.
//
// Read buffers keep kGelfJsonPadding bytes after their end, so messages that lie whole in them
// are parsed in place (simdjson reads ahead of a text's end).
#include "logging/gelf/server.hpp"

#include "logging/gelf/http_request_reader.hpp"
#include "logging/gelf/payload_decoder.hpp"
#include "logging/gelf/tcp_framer.hpp"

#include <boost/asio.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace runner::logging::gelf {

namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::size_t kDatagramBufferBytes = 65536;
constexpr std::size_t kStreamReadBytes = 64 * 1024;
constexpr int kDatagramsPerWakeup = 256;  // read this many ready datagrams before yielding
constexpr std::chrono::milliseconds kChunkExpiryPeriod{250};
constexpr std::chrono::milliseconds kAcceptRetry{50};  // after an accept error nothing could fix

// Bytes of `buffer` readable after `text` when the text lies inside it; 0 when it lies elsewhere.
std::size_t readable_after_in(std::string_view text, const std::vector<char>& buffer) {
  const std::less<const char*> before;
  const char* end = buffer.data() + buffer.size();
  if (before(text.data(), buffer.data()) || before(end, text.data() + text.size())) return 0;
  return static_cast<std::size_t>(end - (text.data() + text.size()));
}

constexpr std::size_t kSpareDescriptors = 64;  // beyond the connections: files, pipes, sockets

// A server that may hold max_connections sockets needs as many descriptors, and a login shell or
// a systemd service gets a soft limit of 1024 on Debian: raise the soft limit towards the hard
// one (the process's own limit; nothing else is changed), so the documented cap is what holds.
void allow_descriptors(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const rlim_t wanted = static_cast<rlim_t>(connections + kSpareDescriptors);
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// One descriptor kept open in reserve: when accept() fails for want of descriptors (EMFILE),
// closing it makes room to accept the waiting connection and close it at once, counted as
// dropped, instead of leaving it in the backlog while the readable listener wakes the loop
// again and again.
class ReserveDescriptor {
 public:
  ReserveDescriptor() : fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}
  ~ReserveDescriptor() { release(); }
  ReserveDescriptor(const ReserveDescriptor&) = delete;
  ReserveDescriptor& operator=(const ReserveDescriptor&) = delete;
  bool held() const { return fd_ >= 0; }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void retake() {
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

 private:
  int fd_;
};

asio::ip::address without_v4_mapping(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

GelfSender sender_of(const udp::endpoint& endpoint) {
  GelfSender sender;
  const asio::ip::address address = endpoint.address();
  const asio::ip::address_v6 v6 =
      address.is_v6() ? address.to_v6()
                      : asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4());
  sender.address = v6.to_bytes();
  sender.port = endpoint.port();
  return sender;
}

std::string http_response(int status, bool close, bool allow_post) {
  std::string response = "HTTP/1.1 " + std::to_string(status) + " ";
  response.append(http_reason_phrase(status));
  response.append("\r\nContent-Length: 0\r\n");
  if (allow_post) response.append("Allow: POST\r\n");
  if (close) response.append("Connection: close\r\n");
  response.append("\r\n");
  return response;
}

class Connection;

// Everything but the public face: sockets, the decoding pipeline, counters.
class ServerCore {
 public:
  ServerCore(GelfServerOptions options, GelfServerCallbacks callbacks)
      : options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        decoder_(options_.max_message_bytes),
        assembler_(options_.chunk_limits),
        datagram_(kDatagramBufferBytes + kGelfJsonPadding) {
    if (options_.allowed_peer) set_allowed_peer(*options_.allowed_peer);
  }
  void set_allowed_peer(const std::string& text) {
    error_code error;
    const asio::ip::address peer = asio::ip::make_address(text, error);
    if (error) throw std::invalid_argument("not an IP address: " + text);
    allowed_peer_ = without_v4_mapping(peer);
  }
  // Destruction closes everything without calling back: the callbacks may capture objects the
  // caller has already destroyed.
  ~ServerCore() {
    callbacks_ = GelfServerCallbacks{};
    stop();
  }

  asio::io_context& io() { return io_; }
  const GelfServerOptions& options() const { return options_; }
  GelfServerCounters& counters() { return counters_; }
  const GelfChunkAssembler& assembler() const { return assembler_; }
  bool stopped() const { return stopped_; }

  bool peer_allowed(const asio::ip::address& address) const {
    return !allowed_peer_ || without_v4_mapping(address) == *allowed_peer_;
  }

  void bind(const std::string& address_text, std::uint16_t port);
  std::uint16_t port() const { return port_; }
  std::string address() const { return address_.to_string(); }
  std::size_t udp_receive_buffer_bytes() const { return granted_receive_buffer_; }

  std::size_t poll_for(std::chrono::milliseconds timeout) {
    if (stopped_) return 0;
    io_.restart();
    return io_.run_for(timeout);
  }
  std::size_t poll() {
    if (stopped_) return 0;
    io_.restart();
    return io_.poll();
  }
  void drain(std::chrono::milliseconds quiet, std::chrono::milliseconds limit);
  void stop();

  std::size_t open_connections() const { return connections_.size(); }
  void forget_connection(std::uint64_t id) { connections_.erase(id); }

  // The path every payload takes once it is whole: decode, size check, validation, callback.
  // `readable_after`: bytes after the payload that may be read (the JSON parser's read-ahead).
  void handle_payload(std::string_view payload, std::size_t readable_after);
  void report_oversize(std::string reason) {
    ++counters_.oversize;
    if (callbacks_.on_oversize) callbacks_.on_oversize(std::move(reason));
  }

 private:
  bool open_udp(const asio::ip::address& address, std::uint16_t port, error_code& error);
  bool open_tcp(const asio::ip::address& address, std::uint16_t port, error_code& error);
  void allow_free_bind(int fd, const asio::ip::address& address) const;
  void receive_datagram();
  void handle_datagram(std::size_t size);
  void schedule_chunk_expiry();
  void accept();
  void on_accepted(tcp::socket socket);
  // Closes the connection that has waited longest for its client; false when there is none.
  bool shed_oldest_idle();
  // Accepts the connection waiting in the backlog and closes it, counted as dropped; false
  // when there is no reserve descriptor to make room with or nothing waits.
  bool drop_waiting_connection();

  GelfServerOptions options_;
  GelfServerCallbacks callbacks_;
  std::optional<asio::ip::address> allowed_peer_;
  GelfPayloadDecoder decoder_;
  GelfChunkAssembler assembler_;
  GelfMessageParser parser_;
  GelfMessage message_;  // reused between messages
  GelfServerCounters counters_;

  asio::io_context io_{1};
  udp::socket udp_socket_{io_};
  udp::endpoint datagram_sender_;
  std::vector<char> datagram_;
  asio::steady_timer chunk_expiry_timer_{io_};
  Clock::time_point last_datagram_{};
  std::size_t granted_receive_buffer_ = 0;
  tcp::acceptor acceptor_{io_};
  asio::steady_timer accept_retry_timer_{io_};
  std::optional<ReserveDescriptor> reserve_;  // stream transports only
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections_;
  std::uint64_t next_connection_id_ = 0;
  asio::ip::address address_;
  std::uint16_t port_ = 0;
  bool bound_ = false;
  bool stopped_ = false;
};

// A TCP or HTTP connection. Handlers capture shared_from_this(), so the object outlives every
// operation it started; close() is idempotent and removes it from the server's table.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& server, tcp::socket socket, std::uint64_t id)
      : server_(server),
        socket_(std::move(socket)),
        id_(id),
        read_buffer_(kStreamReadBytes + kGelfJsonPadding),
        last_activity_(Clock::now()) {}
  virtual ~Connection() = default;

  virtual void start() { read(); }
  // Closing because the server stops: pending data counts as if the client had closed.
  virtual void close_for_stop() { close(); }
  // Closing to make room for a new connection (counted as dropped).
  void shed() { close(); }

  // The last read or completed write: a full server sheds the connection with the oldest one,
  // which is the one waiting longest for its client (to send, or to read what it was sent).
  Clock::time_point last_activity() const { return last_activity_; }

 protected:
  void read() {
    if (closed_) return;
    socket_.async_read_some(asio::buffer(read_buffer_.data(), kStreamReadBytes),
                            [self = shared_from_this()](const error_code& error, std::size_t size) {
                              self->on_read(error, size);
                            });
  }

  void on_read(const error_code& error, std::size_t size) {
    if (closed_) return;
    if (error) {
      on_end_of_stream();
      close();
      return;
    }
    last_activity_ = Clock::now();
    server_.counters().bytes += size;
    on_bytes(std::string_view(read_buffer_.data(), size));
  }

  virtual void on_bytes(std::string_view bytes) = 0;
  virtual void on_end_of_stream() {}

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    on_closed();
    server_.forget_connection(id_);  // may destroy the table's reference; a handler holds another
  }
  virtual void on_closed() {}

  ServerCore& server_;
  tcp::socket socket_;
  std::uint64_t id_;
  std::vector<char> read_buffer_;  // kStreamReadBytes, then kGelfJsonPadding never read into
  Clock::time_point last_activity_;
  bool closed_ = false;
};

class TcpConnection final : public Connection {
 public:
  TcpConnection(ServerCore& server, tcp::socket socket, std::uint64_t id)
      : Connection(server, std::move(socket), id),
        framer_([this](std::string_view frame) { on_frame(frame); },
                server.options().max_tcp_frame_bytes) {}

  // Inside feed() (a callback called stop()), the framer is busy: what is left of the read is
  // dropped rather than re-entering it.
  void close_for_stop() override {
    if (!feeding_) finish_framer();
    close();
  }

 private:
  void on_bytes(std::string_view bytes) override {
    feeding_ = true;
    framer_.feed(bytes);
    feeding_ = false;
    report_oversized_frames();
    if (!server_.stopped()) read();
  }
  void on_end_of_stream() override { finish_framer(); }

  void finish_framer() {
    if (closed_) return;
    framer_.finish();
    report_oversized_frames();
  }
  void report_oversized_frames() {
    while (reported_oversized_ < framer_.oversized()) {
      ++reported_oversized_;
      server_.report_oversize("GELF TCP frame over " +
                              std::to_string(server_.options().max_tcp_frame_bytes) +
                              " bytes dropped");
    }
  }
  void on_frame(std::string_view frame) {
    // A frame found whole in one read lies in the read buffer; one spanning reads in the
    // framer's own buffer, which the parser copies.
    if (!closed_) {
      server_.handle_payload(frame, readable_after_in(frame, read_buffer_));
    }
  }

  GelfTcpFramer framer_;
  bool feeding_ = false;
  std::uint64_t reported_oversized_ = 0;
};

class HttpConnection final : public Connection {
 public:
  HttpConnection(ServerCore& server, tcp::socket socket, std::uint64_t id)
      : Connection(server, std::move(socket), id),
        reader_(HttpRequestReader::Limits{16 * 1024, server.options().max_http_body_bytes}),
        deadline_timer_(socket_.get_executor()) {}

  void start() override {
    arm();
    read();
  }

 private:
  // The header deadline while a request's header is incomplete, else the idle one.
  Clock::time_point deadline() const {
    const Clock::time_point idle = last_activity_ + server_.options().http_idle_timeout;
    if (!header_started_) return idle;
    return std::min(idle, *header_started_ + server_.options().http_header_timeout);
  }

  // One timer per connection. Activity moves the deadline later: the wait then fires early and
  // re-arms itself, which is cheaper than a cancel-and-rearm on every read. A header that starts
  // moves it earlier: then arm() replaces the wait (the replaced one ends operation_aborted).
  void arm() {
    deadline_timer_.expires_at(deadline());
    deadline_timer_.async_wait([self = shared_from_this(), this](const error_code& error) {
      if (error || closed_) return;
      if (Clock::now() >= deadline()) {
        ++server_.counters().timed_out;
        close();
      } else {
        arm();
      }
    });
  }

  void on_bytes(std::string_view bytes) override {
    reader_.append(bytes);
    bool close_after_write = false;
    for (bool more = true; more;) {
      switch (reader_.next()) {
        case HttpRequestReader::Event::need_more:
          more = false;
          break;
        case HttpRequestReader::Event::expect_continue:
          header_started_.reset();
          output_.append("HTTP/1.1 100 Continue\r\n\r\n");
          break;
        case HttpRequestReader::Event::request:
          header_started_.reset();
          close_after_write = !answer(reader_.request());
          more = !close_after_write;
          break;
        case HttpRequestReader::Event::error: {
          const int status = reader_.error_status();
          ++server_.counters().http_requests;
          ++server_.counters().http_rejected;
          // A body refused only by the HTTP cap (Graylog's 64 KiB) is the client's 413; one over
          // the message limit is also the job's oversize message.
          if (status == 413 && reader_.refused_body_bytes() > server_.options().max_message_bytes) {
            server_.report_oversize("GELF HTTP body of " +
                                    std::to_string(reader_.refused_body_bytes()) +
                                    " bytes is over the limit of " +
                                    std::to_string(server_.options().max_message_bytes) + " bytes");
          }
          output_.append(http_response(status, true, false));
          close_after_write = true;
          more = false;
          break;
        }
      }
    }
    if (server_.stopped() || closed_) return;
    if (reader_.stage() != HttpRequestReader::Stage::header) {
      header_started_.reset();
    } else if (!header_started_) {
      header_started_ = last_activity_;  // this read brought the header's first bytes
      arm();
    }
    if (output_.empty()) {
      read();
      return;
    }
    asio::async_write(
        socket_, asio::buffer(output_),
        [self = shared_from_this(), this, close_after_write](const error_code& error, std::size_t) {
          output_.clear();
          if (error || close_after_write) {
            close();
            return;
          }
          last_activity_ = Clock::now();
          read();
        });
  }

  // Appends the answer to `request`; false when the connection closes after it.
  bool answer(const HttpRequest& request) {
    ++server_.counters().http_requests;
    int status = 202;
    if (request.path != "/gelf") {
      status = 404;
    } else if (request.method != "POST") {
      status = 405;
    } else {
      server_.handle_payload(request.body, request.body.capacity() - request.body.size());
    }
    if (status != 202) ++server_.counters().http_rejected;
    output_.append(http_response(status, !request.keep_alive, status == 405));
    return request.keep_alive;
  }

  void on_closed() override {
    error_code ignored;
    deadline_timer_.cancel(ignored);
  }

  HttpRequestReader reader_;
  asio::steady_timer deadline_timer_;
  std::optional<Clock::time_point> header_started_;  // first byte of an incomplete header
  std::string output_;
};

void ServerCore::allow_free_bind(int fd, const asio::ip::address& address) const {
  if (!options_.free_bind) return;
  const int on = 1;
  if (address.is_v4())
    ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
  else
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on);
}

void ServerCore::bind(const std::string& address_text, std::uint16_t port) {
  if (bound_) throw std::logic_error("GelfServer::bind called twice");
  error_code error;
  const asio::ip::address address = asio::ip::make_address(address_text, error);
  if (error) throw std::invalid_argument("not an IP address: " + address_text);

  const auto open = [&](std::uint16_t candidate) {
    error.clear();
    return options_.transport == GelfTransport::udp ? open_udp(address, candidate, error)
                                                    : open_tcp(address, candidate, error);
  };
  bool opened = false;
  if (port != 0) {
    opened = open(port);
  } else {
    const unsigned first = options_.random_port_first;
    const unsigned last = std::max<unsigned>(first, options_.random_port_last);
    const unsigned range = last - first + 1;
    std::random_device seed;
    const unsigned start = std::uniform_int_distribution<unsigned>(0, range - 1)(seed);
    for (unsigned step = 0; step < range && !opened; ++step) {
      opened = open(static_cast<std::uint16_t>(first + (start + step) % range));
    }
  }
  if (!opened) {
    throw std::system_error(error.value(), std::system_category(),
                            "GELF server cannot bind " + address_text + " port " +
                                (port != 0 ? std::to_string(port) : std::string("in range")));
  }
  bound_ = true;
  address_ = address;
  if (options_.transport == GelfTransport::udp) {
    port_ = udp_socket_.local_endpoint().port();
    last_datagram_ = Clock::now();
    receive_datagram();
    schedule_chunk_expiry();
  } else {
    port_ = acceptor_.local_endpoint().port();
    accept();
  }
}

bool ServerCore::open_udp(const asio::ip::address& address, std::uint16_t port, error_code& error) {
  const udp::endpoint endpoint(address, port);
  udp_socket_.open(endpoint.protocol(), error);
  if (error) return false;
  allow_free_bind(udp_socket_.native_handle(), address);
  udp_socket_.bind(endpoint, error);
  if (error) {
    error_code ignored;
    udp_socket_.close(ignored);
    return false;
  }
  // SO_RCVBUFFORCE passes net.core.rmem_max when the process may (CAP_NET_ADMIN); otherwise the
  // plain request is capped by the kernel. Either way report what was granted.
  const int requested = static_cast<int>(
      std::min<std::size_t>(options_.udp_receive_buffer_bytes, 1024u * 1024u * 1024u));
  if (::setsockopt(udp_socket_.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &requested,
                   sizeof requested) != 0) {
    error_code ignored;
    udp_socket_.set_option(udp::socket::receive_buffer_size(requested), ignored);
  }
  udp::socket::receive_buffer_size granted;
  error_code ignored;
  udp_socket_.get_option(granted, ignored);
  granted_receive_buffer_ = static_cast<std::size_t>(std::max(0, granted.value()));
  udp_socket_.non_blocking(true, ignored);
  return true;
}

bool ServerCore::open_tcp(const asio::ip::address& address, std::uint16_t port, error_code& error) {
  allow_descriptors(options_.max_connections);
  if (!reserve_) reserve_.emplace();
  const tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), error);
  if (!error) allow_free_bind(acceptor_.native_handle(), address);
  if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    error_code ignored;
    acceptor_.close(ignored);
    return false;
  }
  return true;
}

void ServerCore::receive_datagram() {
  if (stopped_) return;
  udp_socket_.async_receive_from(
      asio::buffer(datagram_.data(), kDatagramBufferBytes), datagram_sender_,
      [this](const error_code& error, std::size_t size) {
        if (stopped_ || error == asio::error::operation_aborted) return;
        if (!error) handle_datagram(size);
        // Read what else is already queued without another trip
        // through the reactor.
        for (int i = 0; i < kDatagramsPerWakeup && !stopped_; ++i) {
          error_code again;
          const std::size_t next = udp_socket_.receive_from(
              asio::buffer(datagram_.data(), kDatagramBufferBytes), datagram_sender_, 0, again);
          if (again) break;
          handle_datagram(next);
        }
        receive_datagram();
      });
}

void ServerCore::handle_datagram(std::size_t size) {
  if (!peer_allowed(datagram_sender_.address())) {
    ++counters_.dropped;
    return;
  }
  const Clock::time_point now = Clock::now();
  last_datagram_ = now;
  ++counters_.udp_datagrams;
  counters_.bytes += size;
  const std::string_view datagram(datagram_.data(), size);
  if (!GelfChunkAssembler::is_chunk(datagram)) {
    handle_payload(datagram, datagram_.size() - size);
    return;
  }
  const std::optional<std::string_view> message =
      assembler_.add(datagram, sender_of(datagram_sender_), now);
  if (message) handle_payload(*message, 0);  // usually compressed: inflated into a padded buffer
}

void ServerCore::schedule_chunk_expiry() {
  if (stopped_) return;
  chunk_expiry_timer_.expires_after(kChunkExpiryPeriod);
  chunk_expiry_timer_.async_wait([this](const error_code& error) {
    if (error || stopped_) return;
    assembler_.expire(Clock::now());
    schedule_chunk_expiry();
  });
}

bool ServerCore::drop_waiting_connection() {
  if (!reserve_ || !reserve_->held()) return false;
  reserve_->release();
  pollfd pfd{acceptor_.native_handle(), POLLIN, 0};
  bool dropped = false;
  if (::poll(&pfd, 1, 0) > 0) {
    const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      ++counters_.dropped;
      dropped = true;
    }
  }
  reserve_->retake();
  return dropped;
}

void ServerCore::accept() {
  if (stopped_) return;
  acceptor_.async_accept([this](const error_code& error, tcp::socket socket) {
    if (stopped_ || error == asio::error::operation_aborted) return;
    if (!error) {
      on_accepted(std::move(socket));
      accept();
      return;
    }
    // Out of file descriptors: make room by shedding, as for max_connections; with nothing to
    // shed, take the waiting connection off the backlog with the reserve descriptor and close it.
    // Otherwise wait a little rather than spin on a listener that stays readable.
    if ((error == asio::error::no_descriptors || error.value() == ENFILE) &&
        (shed_oldest_idle() || drop_waiting_connection())) {
      accept();
      return;
    }
    accept_retry_timer_.expires_after(kAcceptRetry);
    accept_retry_timer_.async_wait([this](const error_code& timer_error) {
      if (!timer_error && !stopped_) accept();
    });
  });
}

void ServerCore::on_accepted(tcp::socket socket) {
  error_code peer_error;
  const tcp::endpoint peer = socket.remote_endpoint(peer_error);
  if (peer_error || !peer_allowed(peer.address()) ||
      (connections_.size() >= options_.max_connections && !shed_oldest_idle())) {
    ++counters_.dropped;
    error_code ignored;
    socket.close(ignored);
    return;
  }
  ++counters_.connections;
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const std::uint64_t id = next_connection_id_++;
  std::shared_ptr<Connection> connection;
  if (options_.transport == GelfTransport::http) {
    connection = std::make_shared<HttpConnection>(*this, std::move(socket), id);
  } else {
    connection = std::make_shared<TcpConnection>(*this, std::move(socket), id);
  }
  connections_.emplace(id, connection);
  connection->start();
}

bool ServerCore::shed_oldest_idle() {
  std::shared_ptr<Connection> oldest;
  for (const auto& [id, connection] : connections_) {
    if (!oldest || connection->last_activity() < oldest->last_activity()) oldest = connection;
  }
  if (!oldest) return false;
  ++counters_.dropped;
  oldest->shed();
  return true;
}

void ServerCore::handle_payload(std::string_view payload, std::size_t readable_after) {
  const DecodeResult decoded = decoder_.decode(payload);
  if (decoded.status == DecodeStatus::too_large) {
    report_oversize("GELF message over the limit of " + std::to_string(options_.max_message_bytes) +
                    " bytes: " + decoded.reason);
    return;
  }
  if (!decoded.ok()) {
    ++counters_.invalid;
    if (callbacks_.on_invalid) callbacks_.on_invalid("Invalid message: " + decoded.reason);
    return;
  }
  const std::size_t readable =
      decoded.encoding == PayloadEncoding::plain ? readable_after : decoded.readable_after;
  if (std::optional<InvalidGelfMessage> failure =
          parser_.parse(decoded.bytes, message_, readable)) {
    ++counters_.invalid;
    if (callbacks_.on_invalid) callbacks_.on_invalid(std::move(failure->reason));
    return;
  }
  ++counters_.received;
  if (callbacks_.on_message) callbacks_.on_message(message_);
}

void ServerCore::drain(std::chrono::milliseconds quiet, std::chrono::milliseconds limit) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + limit;
  if (!stopped_ && bound_) {
    if (options_.transport == GelfTransport::udp) {
      for (;;) {
        const Clock::time_point now = Clock::now();
        const Clock::time_point quiet_until = std::max(last_datagram_, start) + quiet;
        if (stopped_ || now >= quiet_until || now >= deadline) break;
        io_.restart();
        io_.run_for(std::min(quiet_until, deadline) - now);
      }
    } else {
      io_.restart();
      io_.poll();  // accept connections already queued
      while (!stopped_ && !connections_.empty() && Clock::now() < deadline) {
        io_.restart();
        io_.run_for(
            std::min<Clock::duration>(deadline - Clock::now(), std::chrono::milliseconds(50)));
      }
    }
  }
  stop();
}

void ServerCore::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  udp_socket_.close(ignored);
  acceptor_.close(ignored);
  accept_retry_timer_.cancel(ignored);
  chunk_expiry_timer_.cancel(ignored);
  // close_for_stop() removes each from the table, so walk a copy.
  std::vector<std::shared_ptr<Connection>> open;
  open.reserve(connections_.size());
  for (const auto& [id, connection] : connections_) open.push_back(connection);
  for (const std::shared_ptr<Connection>& connection : open) connection->close_for_stop();
  connections_.clear();
  assembler_.clear();
}

}  // namespace

std::string_view gelf_transport_name(GelfTransport transport) {
  switch (transport) {
    case GelfTransport::udp:
      return "udp";
    case GelfTransport::http:
      return "http";
    case GelfTransport::tcp:
      break;
  }
  return "tcp";
}

std::optional<GelfTransport> parse_gelf_transport(std::string_view name) {
  if (name == "udp") return GelfTransport::udp;
  if (name == "tcp") return GelfTransport::tcp;
  if (name == "http") return GelfTransport::http;
  return std::nullopt;
}

struct GelfServer::Impl {
  Impl(GelfServerOptions options, GelfServerCallbacks callbacks)
      : core(std::move(options), std::move(callbacks)) {}
  ServerCore core;
};

GelfServer::GelfServer(GelfServerOptions options, GelfServerCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(callbacks))) {}

GelfServer::~GelfServer() = default;

void GelfServer::bind(const std::string& address, std::uint16_t port) {
  impl_->core.bind(address, port);
}
std::uint16_t GelfServer::port() const {
  return impl_->core.port();
}
std::string GelfServer::address() const {
  return impl_->core.address();
}
std::size_t GelfServer::udp_receive_buffer_bytes() const {
  return impl_->core.udp_receive_buffer_bytes();
}
void GelfServer::set_allowed_peer(const std::string& address) {
  impl_->core.set_allowed_peer(address);
}
std::size_t GelfServer::poll() {
  return impl_->core.poll();
}
std::size_t GelfServer::poll_for(std::chrono::milliseconds timeout) {
  return impl_->core.poll_for(timeout);
}
void GelfServer::drain(std::chrono::milliseconds quiet, std::chrono::milliseconds limit) {
  impl_->core.drain(quiet, limit);
}
void GelfServer::stop() {
  impl_->core.stop();
}

GelfServerCounters GelfServer::counters() const {
  GelfServerCounters counters = impl_->core.counters();
  counters.chunks = impl_->core.assembler().counters();
  return counters;
}

std::size_t GelfServer::open_connections() const {
  return impl_->core.open_connections();
}

}  // namespace runner::logging::gelf
