// HttpRequestReader (Beast's parser with GELF's limits): requests fed a byte at a time,
// pipelining, keep-alive rules, chunked bodies, the body's padding, the stage a request is in and
// the error statuses (400, 413, 431, 501).
#include <catch2/catch.hpp>

#include "logging/gelf/http_request_reader.hpp"
#include "logging/gelf/message.hpp"

#include <string>
#include <vector>

using runner::logging::gelf::HttpRequest;
using runner::logging::gelf::HttpRequestReader;
using Event = HttpRequestReader::Event;

namespace {

// Feeds `bytes` in pieces of `step`, collecting the complete requests; returns the last event.
Event feed(HttpRequestReader& reader, const std::string& bytes, std::size_t step,
           std::vector<HttpRequest>& requests) {
  Event last = Event::need_more;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    reader.append(std::string_view(bytes).substr(at, step));
    for (;;) {
      last = reader.next();
      if (last == Event::request) {
        requests.push_back(reader.request());
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

TEST_CASE("gelf http requests: pipelined requests in any split", "[gelf]") {
  const std::string stream =
      "POST /gelf?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
      "POST /gelf HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\n{\"b\r\n4;x=y\r\n\":2}\r\n0\r\n"
      "Trailer: t\r\n\r\n"
      "GET /gelf HTTP/1.0\r\n\r\n";
  for (const std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, stream.size()}) {
    HttpRequestReader reader;
    std::vector<HttpRequest> requests;
    CAPTURE(step);
    CHECK(feed(reader, stream, step, requests) == Event::need_more);
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].path == "/gelf");
    CHECK(requests[0].body == "{\"a\":1}");
    CHECK(requests[0].keep_alive);
    CHECK(requests[1].body == "{\"b\":2}");
    CHECK(requests[2].method == "GET");
    CHECK(requests[2].body.empty());
    CHECK(!requests[2].keep_alive);  // HTTP/1.0 closes unless asked otherwise
    CHECK(reader.buffered_bytes() == 0);
  }
}

TEST_CASE("gelf http requests: keep-alive and Expect", "[gelf]") {
  HttpRequestReader reader;
  std::vector<HttpRequest> requests;
  feed(reader, "POST /gelf HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 100, requests);
  feed(reader, "POST /gelf HTTP/1.1\r\nConnection: close\r\n\r\n", 100, requests);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].keep_alive);
  CHECK(!requests[1].keep_alive);

  HttpRequestReader expecting;
  expecting.append("POST /gelf HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(expecting.next() == Event::expect_continue);
  CHECK(expecting.next() == Event::need_more);
  expecting.append("{}");
  CHECK(expecting.next() == Event::request);
  CHECK(expecting.request().body == "{}");
}

TEST_CASE("gelf http requests: error statuses", "[gelf]") {
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"NONSENSE\r\n\r\n", 400},
      {"POST /gelf HTTP/2.0\r\n\r\n", 400},
      {"POST /gelf SPDY/3\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nno colon here\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", 413},
      {"POST /gelf HTTP/1.1\r\nHo st: a\r\n\r\n", 400},
      {"POST  /gelf HTTP/1.1\r\n\r\n", 400},
      {"POST /gelf HTTP/1.1\n\n", 400},
      {"POST /gelf HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", 413},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", 400},
      {"POST /gelf HTTP/1.1\r\nX: " + std::string(600, 'x') + "\r\n\r\n", 431},
      {"POST /gelf HTTP/1.1\r\nX: " + std::string(600, 'x'), 431},
  };
  for (const Case& c : cases) {
    HttpRequestReader reader(HttpRequestReader::Limits{512, 1024});
    std::vector<HttpRequest> requests;
    CAPTURE(c.request);
    CHECK(feed(reader, c.request, c.request.size(), requests) == Event::error);
    CHECK(reader.error_status() == c.status);
    CHECK(reader.next() == Event::error);  // stays failed
  }
  HttpRequestReader reader(HttpRequestReader::Limits{512, 1024});
  reader.append("POST /gelf HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
  CHECK(reader.next() == Event::error);
  CHECK(reader.refused_body_bytes() == 5000);
}

TEST_CASE("gelf http requests: the body leaves room for simdjson's read-ahead", "[gelf]") {
  using runner::logging::gelf::kGelfJsonPadding;
  for (const std::string& stream :
       {std::string("POST /gelf HTTP/1.1\r\nContent-Length: 100\r\n\r\n") + std::string(100, 'x'),
        std::string("POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") +
            "3\r\nabc\r\n7d\r\n" + std::string(125, 'y') + "\r\n0\r\n\r\n"}) {
    HttpRequestReader reader;
    std::vector<HttpRequest> requests;
    CHECK(feed(reader, stream, 5, requests) == Event::need_more);
    REQUIRE(requests.size() == 1);
    CHECK(reader.request().body.capacity() - reader.request().body.size() >= kGelfJsonPadding);
  }
}

TEST_CASE("gelf http requests: the stage of the request being read", "[gelf]") {
  using Stage = HttpRequestReader::Stage;
  HttpRequestReader reader;
  CHECK(reader.stage() == Stage::between_requests);
  reader.append("POST /gelf HTTP/1.1\r\nHost:");
  CHECK(reader.next() == Event::need_more);
  CHECK(reader.stage() == Stage::header);
  reader.append(" x\r\nContent-Length: 4\r\n\r\n{}");
  CHECK(reader.next() == Event::need_more);
  CHECK(reader.stage() == Stage::body);
  reader.append("{}");
  CHECK(reader.next() == Event::request);
  CHECK(reader.request().body == "{}{}");
  CHECK(reader.next() == Event::need_more);
  CHECK(reader.stage() == Stage::between_requests);
}

TEST_CASE("gelf http requests: chunk extensions cannot grow the buffer without bound", "[gelf]") {
  HttpRequestReader reader(HttpRequestReader::Limits{512, 1024});
  reader.append("POST /gelf HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;");
  Event last = reader.next();
  for (int i = 0; i < 100 && last == Event::need_more; ++i) {
    reader.append(std::string(64, 'e'));
    last = reader.next();
  }
  CHECK(last == Event::error);
  CHECK(reader.error_status() == 400);
}
