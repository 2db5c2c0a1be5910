// HttpRequestReader: see the header. Beast parses; the callbacks below keep the request's method,
// path, Expect and body, and refuse what GELF does not take, with the status to answer.
#include "logging/gelf/http_request_reader.hpp"

#include "logging/gelf/message.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <limits>
#include <optional>

namespace runner::logging::gelf {

namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

string_view trimmed(string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Keeps room for simdjson's read-ahead after `size` body bytes.
void reserve_body(std::string& body, std::uint64_t size) {
  const std::uint64_t wanted = size + kGelfJsonPadding;
  if (body.capacity() < wanted) body.reserve(static_cast<std::size_t>(wanted));
}

}  // namespace

struct HttpRequestReader::Impl {
  class Parser final : public http::basic_parser<true> {
   public:
    Parser(HttpRequest& request, const Limits& limits)
        : request_(request), max_body_(limits.max_body_bytes) {
      header_limit(
          static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
      // Checked here instead, so that a 413 knows the size it refused. (Not boost::none: Boost
      // 1.74 compares the Content-Length with the optional itself, and refuses every body.)
      body_limit(std::numeric_limits<std::uint64_t>::max());
      request_.body.clear();
    }

    int status = 0;  // with an error set by a callback: the status to answer
    bool expect_continue = false;
    std::uint64_t refused_body_bytes = 0;

   private:
    void refuse(int answer, error_code& ec) {
      status = answer;
      ec = http::error::bad_value;  // any error stops Beast; `status` says which
    }

    // Beast refuses versions other than 1.0 and 1.1 itself (answered 400).
    void on_request_impl(http::verb, string_view method, string_view target, int,
                         error_code&) override {
      request_.method.assign(method.data(), method.size());
      const std::size_t query = target.find('?');
      request_.path.assign(target.data(), query == string_view::npos ? target.size() : query);
    }
    void on_response_impl(int, string_view, int, error_code&) override {}
    void on_field_impl(http::field name, string_view, string_view value, error_code& ec) override {
      if (name == http::field::expect) {
        expect_continue = boost::beast::iequals(trimmed(value), "100-continue");
      } else if (name == http::field::transfer_encoding &&
                 !boost::beast::iequals(trimmed(value), "chunked")) {
        refuse(501, ec);  // gzip, deflate, "gzip, chunked": not for a GELF input
      }
    }
    void on_header_impl(error_code& ec) override {
      const boost::optional<std::uint64_t> length = content_length();
      if (length && *length > max_body_) {
        refused_body_bytes = *length;
        return refuse(413, ec);
      }
      reserve_body(request_.body, length.value_or(0));
    }
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(string_view body, error_code&) override {
      request_.body.append(body.data(), body.size());
      return body.size();
    }
    void on_chunk_header_impl(std::uint64_t size, string_view, error_code& ec) override {
      const std::uint64_t so_far = request_.body.size();
      if (size > max_body_ - so_far) {
        refused_body_bytes = so_far + size;
        return refuse(413, ec);
      }
      reserve_body(request_.body, std::max<std::uint64_t>(so_far + size, 2 * so_far));
    }
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
      request_.body.append(body.data(), body.size());
      return body.size();
    }
    void on_finish_impl(error_code&) override { reserve_body(request_.body, request_.body.size()); }

    HttpRequest& request_;
    std::uint64_t max_body_;
  };

  std::optional<Parser> parser;  // the request being read; none between requests
};

std::string_view http_reason_phrase(int status) {
  const string_view phrase =
      http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  return {phrase.data(), phrase.size()};
}

HttpRequestReader::HttpRequestReader() : HttpRequestReader(Limits{}) {}
HttpRequestReader::HttpRequestReader(Limits limits)
    : limits_(limits), impl_(std::make_unique<Impl>()) {}
HttpRequestReader::~HttpRequestReader() = default;

void HttpRequestReader::append(std::string_view bytes) {
  if (position_ == buffer_.size()) {
    buffer_.clear();
    position_ = 0;
  } else if (position_ > 0 && position_ >= buffer_.size() / 2) {
    buffer_.erase(0, position_);
    position_ = 0;
  }
  buffer_.append(bytes);
}

HttpRequestReader::Stage HttpRequestReader::stage() const {
  if (!impl_->parser) return Stage::between_requests;
  return impl_->parser->is_header_done() ? Stage::body : Stage::header;
}

HttpRequestReader::Event HttpRequestReader::fail(int status) {
  error_status_ = status;
  impl_->parser.reset();
  return Event::error;
}

HttpRequestReader::Event HttpRequestReader::next() {
  if (error_status_ != 0) return Event::error;
  for (;;) {
    if (!impl_->parser) {
      if (position_ == buffer_.size()) return Event::need_more;
      impl_->parser.emplace(request_, limits_);
      header_reported_ = false;
    }
    Impl::Parser& parser = *impl_->parser;
    error_code ec;
    const std::size_t used =
        parser.put(boost::asio::buffer(buffer_.data() + position_, buffer_.size() - position_), ec);
    position_ += used;
    if (ec && ec != http::error::need_more) {
      if (parser.status == 413) refused_body_bytes_ = parser.refused_body_bytes;
      if (parser.status != 0) return fail(parser.status);
      return fail(ec == http::error::header_limit ? 431 : 400);
    }
    if (parser.is_header_done() && !header_reported_) {
      header_reported_ = true;
      request_.keep_alive = parser.keep_alive();
      if (parser.expect_continue) return Event::expect_continue;
    }
    if (parser.is_done()) {
      impl_->parser.reset();
      return Event::request;
    }
    if (ec || used == 0) {
      // Waiting for more. Beast bounds a header; this bounds a chunk header's extensions.
      if (buffered_bytes() > limits_.max_header_bytes) {
        return fail(parser.is_header_done() ? 400 : 431);
      }
      return Event::need_more;
    }
  }
}

}  // namespace runner::logging::gelf
