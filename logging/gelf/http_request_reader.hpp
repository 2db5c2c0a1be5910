// HttpRequestReader: the HTTP/1.1 requests of one GELF HTTP connection, parsed by Boost.Beast's
// request parser (basic_parser: request line, fields, Content-Length and chunked bodies, keep-alive
// rules, header size limit; it refuses a message with both Content-Length and chunked, closing the
// door on request smuggling). What is runner's own is only what GELF needs on top: the body cap
// answered 413 before the body is read (also for chunked bodies, from the chunk sizes), 431 for a
// header over its cap, 501 for a transfer coding other than chunked, 400 for anything else Beast
// refuses (an HTTP version other than 1.0 and 1.1 included), and the body kept in one buffer per
// connection with room for simdjson's read-ahead after it, so it is parsed where it lies.
//
// Bytes are appended as they arrive; next() says what they amount to. Pipelined requests are read
// one after another. Beast stays out of this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace runner::logging::gelf {

struct HttpRequest {
  std::string method;
  std::string path;  // the target without its query string
  bool keep_alive = true;
  std::string body;  // de-chunked; its capacity leaves kGelfJsonPadding bytes after the body
};

class HttpRequestReader {
 public:
  struct Limits {
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 64 * 1024;  // Graylog's default
  };

  enum class Event {
    need_more,        // feed more bytes
    expect_continue,  // headers asked for "100 Continue"; answer it, then call next() again
    request,          // request() holds a complete request; call next() for the following one
    error,            // error_status() says which answer to give; then close the connection
  };

  // Where the request being read is; a deadline for the header applies in `header`.
  enum class Stage { between_requests, header, body };

  HttpRequestReader();
  explicit HttpRequestReader(Limits limits);
  ~HttpRequestReader();
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  void append(std::string_view bytes);
  Event next();

  const HttpRequest& request() const { return request_; }
  int error_status() const { return error_status_; }
  // After a 413: the declared Content-Length, or for a chunked body the size it would reach.
  std::uint64_t refused_body_bytes() const { return refused_body_bytes_; }
  // Bytes received but not yet consumed by a complete request.
  std::size_t buffered_bytes() const { return buffer_.size() - position_; }
  Stage stage() const;

 private:
  struct Impl;  // Beast's basic_parser with GELF's callbacks, for the request being read

  Event fail(int status);

  Limits limits_;
  std::string buffer_;
  std::size_t position_ = 0;  // start of the unparsed bytes in buffer_
  std::unique_ptr<Impl> impl_;
  bool header_reported_ = false;
  HttpRequest request_;
  int error_status_ = 0;
  std::uint64_t refused_body_bytes_ = 0;
};

std::string_view http_reason_phrase(int status);

}  // namespace runner::logging::gelf
