// HttpRequestParser: the small part of HTTP/1.1 a GELF HTTP input needs, parsed incrementally
// from one connection's bytes: request line, headers (Content-Length, Transfer-Encoding,
// Connection, Expect), a Content-Length or chunked body, keep-alive and pipelined requests.
//
// Written here rather than taken from Boost.Beast: it is a few hundred lines against Beast's
// compile cost in every build, and it lets the limits be exactly GELF's (a body cap answered
// with 413 before the body is read, a header cap answered 431). Anything it does not support
// (another transfer coding, HTTP/2) is an error status, never undefined behaviour. A request with
// both Content-Length and chunked is refused (400), closing the door on request smuggling.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace runner::logging::gelf {

struct HttpRequest {
  std::string method;
  std::string path;  // the target without its query string
  bool keep_alive = true;
  std::string body;  // chunked bodies are already de-chunked
};

class HttpRequestParser {
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

  HttpRequestParser();
  explicit HttpRequestParser(Limits limits);

  void append(std::string_view bytes);
  Event next();

  const HttpRequest& request() const { return request_; }
  int error_status() const { return error_status_; }
  // After a 413: the declared Content-Length, or for a chunked body the size it had reached.
  std::size_t refused_body_bytes() const { return refused_body_bytes_; }
  // Bytes received but not yet consumed by a complete request.
  std::size_t buffered_bytes() const { return buffer_.size() - position_; }

 private:
  enum class Stage {
    headers,
    fixed_body,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailers,
    failed
  };

  Event fail(int status);
  Event parse_headers();
  Event finish_request();

  Limits limits_;
  std::string buffer_;
  std::size_t position_ = 0;  // start of the unparsed bytes in buffer_
  Stage stage_ = Stage::headers;
  HttpRequest request_;
  std::size_t body_remaining_ = 0;
  bool expect_continue_ = false;
  int error_status_ = 0;
  std::size_t refused_body_bytes_ = 0;
};

std::string_view http_reason_phrase(int status);

}  // namespace runner::logging::gelf
