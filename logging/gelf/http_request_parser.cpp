// HttpRequestParser: see the header.
#include "logging/gelf/http_request_parser.hpp"

#include <algorithm>
#include <charconv>

namespace runner::logging::gelf {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// True when the comma-separated header value lists `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (equals_ignoring_case(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool parse_decimal(std::string_view text, std::size_t& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

HttpRequestParser::HttpRequestParser() : HttpRequestParser(Limits{}) {}

HttpRequestParser::HttpRequestParser(Limits limits) : limits_(limits) {}

void HttpRequestParser::append(std::string_view bytes) {
  // Drop what earlier requests consumed before growing the buffer.
  if (position_ > 0 && (position_ == buffer_.size() || position_ >= 64 * 1024)) {
    buffer_.erase(0, position_);
    position_ = 0;
  }
  buffer_.append(bytes);
}

HttpRequestParser::Event HttpRequestParser::fail(int status) {
  stage_ = Stage::failed;
  error_status_ = status;
  return Event::error;
}

HttpRequestParser::Event HttpRequestParser::finish_request() {
  stage_ = Stage::headers;
  return Event::request;
}

HttpRequestParser::Event HttpRequestParser::parse_headers() {
  const std::string_view unparsed = std::string_view(buffer_).substr(position_);
  const std::size_t end = unparsed.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return unparsed.size() > limits_.max_header_bytes ? fail(431) : Event::need_more;
  }
  if (end > limits_.max_header_bytes) return fail(431);
  std::string_view head = unparsed.substr(0, end);
  position_ += end + 4;

  const std::size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  const std::size_t first_space = request_line.find(' ');
  const std::size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return fail(400);
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target =
      request_line.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = request_line.substr(last_space + 1);
  if (method.empty() || target.empty()) return fail(400);
  bool http10 = false;
  if (version == "HTTP/1.0") {
    http10 = true;
  } else if (version != "HTTP/1.1") {
    return fail(version.substr(0, 5) == "HTTP/" ? 505 : 400);
  }

  request_.method.assign(method);
  request_.path.assign(target.substr(0, target.find('?')));
  request_.keep_alive = !http10;
  request_.body.clear();
  expect_continue_ = false;
  bool has_length = false;
  std::size_t content_length = 0;
  bool chunked = false;
  while (!head.empty()) {
    const std::size_t next = head.find("\r\n");
    const std::string_view line = head.substr(0, next);
    head = next == std::string_view::npos ? std::string_view() : head.substr(next + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400);
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (equals_ignoring_case(name, "content-length")) {
      std::size_t length = 0;
      if (!parse_decimal(value, length) || (has_length && length != content_length)) {
        return fail(400);
      }
      has_length = true;
      content_length = length;
    } else if (equals_ignoring_case(name, "transfer-encoding")) {
      if (!equals_ignoring_case(value, "chunked")) return fail(501);
      chunked = true;
    } else if (equals_ignoring_case(name, "connection")) {
      if (lists_token(value, "close")) request_.keep_alive = false;
      if (lists_token(value, "keep-alive")) request_.keep_alive = true;
    } else if (equals_ignoring_case(name, "expect")) {
      if (!equals_ignoring_case(value, "100-continue")) return fail(400);
      expect_continue_ = !http10;
    }
  }
  if (chunked && has_length) return fail(400);
  if (has_length && content_length > limits_.max_body_bytes) {
    refused_body_bytes_ = content_length;
    return fail(413);
  }
  if (chunked) {
    stage_ = Stage::chunk_size;
  } else if (content_length > 0) {
    body_remaining_ = content_length;
    stage_ = Stage::fixed_body;
  } else {
    expect_continue_ = false;
    return finish_request();
  }
  if (expect_continue_) {
    expect_continue_ = false;
    return Event::expect_continue;
  }
  return next();
}

HttpRequestParser::Event HttpRequestParser::next() {
  for (;;) {
    const std::string_view unparsed = std::string_view(buffer_).substr(position_);
    switch (stage_) {
      case Stage::failed:
        return Event::error;
      case Stage::headers:
        if (unparsed.empty()) return Event::need_more;
        return parse_headers();
      case Stage::fixed_body: {
        if (unparsed.size() < body_remaining_) return Event::need_more;
        request_.body.assign(unparsed.substr(0, body_remaining_));
        position_ += body_remaining_;
        body_remaining_ = 0;
        return finish_request();
      }
      case Stage::chunk_size: {
        const std::size_t end = unparsed.find("\r\n");
        if (end == std::string_view::npos)
          return unparsed.size() > 1024 ? fail(400) : Event::need_more;
        std::string_view size_text = trim(unparsed.substr(0, unparsed.find_first_of(";\r")));
        std::size_t size = 0;
        const auto [stop, error] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (size_text.empty() || error != std::errc() ||
            stop != size_text.data() + size_text.size()) {
          return fail(400);
        }
        position_ += end + 2;
        if (size == 0) {
          stage_ = Stage::trailers;
          break;
        }
        if (size > limits_.max_body_bytes - request_.body.size()) {
          refused_body_bytes_ = request_.body.size() + size;
          return fail(413);
        }
        body_remaining_ = size;
        stage_ = Stage::chunk_data;
        break;
      }
      case Stage::chunk_data: {
        if (unparsed.empty()) return Event::need_more;
        const std::size_t take = std::min(unparsed.size(), body_remaining_);
        request_.body.append(unparsed.substr(0, take));
        position_ += take;
        body_remaining_ -= take;
        if (body_remaining_ == 0) stage_ = Stage::chunk_data_end;
        break;
      }
      case Stage::chunk_data_end:
        if (!unparsed.empty() && unparsed[0] != '\r') return fail(400);
        if (unparsed.size() < 2) return Event::need_more;
        if (unparsed.substr(0, 2) != "\r\n") return fail(400);
        position_ += 2;
        stage_ = Stage::chunk_size;
        break;
      case Stage::trailers: {
        const std::size_t end = unparsed.find("\r\n");
        if (end == std::string_view::npos) {
          return unparsed.size() > limits_.max_header_bytes ? fail(431) : Event::need_more;
        }
        position_ += end + 2;
        if (end == 0) return finish_request();
        break;
      }
    }
  }
}

}  // namespace runner::logging::gelf
