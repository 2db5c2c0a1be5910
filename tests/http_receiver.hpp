// HttpReceiver: a small real HTTP/1.1 server on 127.0.0.1 (a random free port) for the exporter
// tests. It records every request (method, target, headers, body, which connection) and answers
// from a script: queued replies first, in order, then the default reply. Keep-alive and
// pipelining as HTTP/1.1 does them; Content-Length and chunked bodies; "Expect: 100-continue".
//
// It runs on its own thread: the exporters under test block in send() until the answer comes,
// so the server cannot be driven from the test's thread. The thread only polls sockets and a
// wake-up pipe; everything shared with the test is under one mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace runner_test {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t connection = 0;  // 1 for the first accepted connection, 2 for the next, ...

  // The first header of that name (case-insensitive), or "" when absent.
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool close = false;  // answer with Connection: close and close the connection
};

class HttpReceiver {
 public:
  explicit HttpReceiver(HttpReply default_reply = {});
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  void set_default_reply(HttpReply reply);
  void queue_reply(HttpReply reply);  // answers the next request not yet answered
  std::vector<HttpRequest> requests() const;
  std::size_t connections() const;  // accepted so far

 private:
  struct Connection;
  void run();
  void serve(Connection& connection);
  HttpReply next_reply();

  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  HttpReply default_reply_;
  std::deque<HttpReply> queued_;
  std::vector<HttpRequest> requests_;
  std::size_t connections_ = 0;
  std::thread thread_;
};

}  // namespace runner_test
