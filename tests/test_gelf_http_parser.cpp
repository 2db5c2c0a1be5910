// HttpRequestParser: requests fed a byte at a time, pipelining, keep-alive rules, chunked bodies
// and the error statuses (400, 413, 431, 501, 505).
#include <catch2/catch.hpp>

#include "logging/gelf/http_request_parser.hpp"

#include <string>
#include <vector>

using runner::logging::gelf::HttpRequest;
using runner::logging::gelf::HttpRequestParser;
using Event = HttpRequestParser::Event;

namespace {

// Feeds `bytes` in pieces of `step`, collecting the complete requests; returns the last event.
Event feed(HttpRequestParser& parser, const std::string& bytes, std::size_t step,
           std::vector<HttpRequest>& requests) {
  Event last = Event::need_more;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    parser.append(std::string_view(bytes).substr(at, step));
    for (;;) {
      last = parser.next();
      if (last == Event::request) {
        requests.push_back(parser.request());
        continue;
      }
      if (last == Event::expect_continue) continue;
      break;
    }
    if (last == Event::error) break;
  }
  return last;
}

}  // namespace

TEST_CASE("gelf http parser: pipelined requests in any split", "[gelf]") {
  const std::string stream =
      "POST /gelf?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
      "POST /gelf HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\n{\"b\r\n4;x=y\r\n\":2}\r\n0\r\n"
      "Trailer: t\r\n\r\n"
      "GET /gelf HTTP/1.0\r\n\r\n";
  for (const std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, stream.size()}) {
    HttpRequestParser parser;
    std::vector<HttpRequest> requests;
    CAPTURE(step);
    CHECK(feed(parser, stream, step, requests) == Event::need_more);
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].path == "/gelf");
    CHECK(requests[0].body == "{\"a\":1}");
    CHECK(requests[0].keep_alive);
    CHECK(requests[1].body == "{\"b\":2}");
    CHECK(requests[2].method == "GET");
    CHECK(requests[2].body.empty());
    CHECK(!requests[2].keep_alive);  // HTTP/1.0 closes unless asked otherwise
    CHECK(parser.buffered_bytes() == 0);
  }
}

TEST_CASE("gelf http parser: keep-alive and Expect", "[gelf]") {
  HttpRequestParser parser;
  std::vector<HttpRequest> requests;
  feed(parser, "POST /gelf HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 100, requests);
  feed(parser, "POST /gelf HTTP/1.1\r\nConnection: close\r\n\r\n", 100, requests);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].keep_alive);
  CHECK(!requests[1].keep_alive);

  HttpRequestParser expecting;
  expecting.append("POST /gelf HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(expecting.next() == Event::expect_continue);
  CHECK(expecting.next() == Event::need_more);
  expecting.append("{}");
  CHECK(expecting.next() == Event::request);
  CHECK(expecting.request().body == "{}");
}

TEST_CASE("gelf http parser: error statuses", "[gelf]") {
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"NONSENSE\r\n\r\n", 400},
      {"POST /gelf HTTP/2.0\r\n\r\n", 505},
      {"POST /gelf SPDY/3\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nno colon here\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", 413},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab", 400},
      {"POST /gelf HTTP/1.1\r\nX: " + std::string(600, 'x') + "\r\n\r\n", 431},
      {"POST /gelf HTTP/1.1\r\nX: " + std::string(600, 'x'), 431},
  };
  for (const Case& c : cases) {
    HttpRequestParser parser(HttpRequestParser::Limits{512, 1024});
    std::vector<HttpRequest> requests;
    CAPTURE(c.request);
    CHECK(feed(parser, c.request, c.request.size(), requests) == Event::error);
    CHECK(parser.error_status() == c.status);
    CHECK(parser.next() == Event::error);  // stays failed
  }
  HttpRequestParser parser(HttpRequestParser::Limits{512, 1024});
  parser.append("POST /gelf HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
  CHECK(parser.next() == Event::error);
  CHECK(parser.refused_body_bytes() == 5000);
}
