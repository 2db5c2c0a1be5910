// GelfTcpFramer: NUL and newline delimiters, a stream split at every byte, the frame cap with
// resynchronisation, and the final frame without a delimiter.
#include <catch2/catch.hpp>

#include "logging/gelf/tcp_framer.hpp"

#include <string>
#include <vector>

using runner::logging::gelf::GelfTcpFramer;
using namespace std::string_literals;

namespace {

struct Collector {
  std::vector<std::string> frames;
  GelfTcpFramer framer;
  explicit Collector(std::size_t max_frame = GelfTcpFramer::default_max_frame)
      : framer([this](std::string_view frame) { frames.emplace_back(frame); }, max_frame) {}
};

}  // namespace

TEST_CASE("gelf tcp framer: NUL and newline end frames", "[gelf]") {
  Collector c;
  c.framer.feed("{\"a\":1}\0{\"b\":2}\n{\"c\":3}\r\n"s);
  c.framer.feed("\0\0\n"s);  // empty frames are skipped
  CHECK(c.frames == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}\r"});
  CHECK(c.framer.frames() == 3);
  CHECK(c.framer.buffered_bytes() == 0);
}

TEST_CASE("gelf tcp framer: a stream split at every byte gives the same frames", "[gelf]") {
  const std::string stream = "{\"m\":\"one\"}\0{\"m\":\"two\"}\n{\"m\":\"three\"}\0tail"s;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    Collector c;
    c.framer.feed(std::string_view(stream).substr(0, cut));
    c.framer.feed(std::string_view(stream).substr(cut));
    c.framer.finish();
    CAPTURE(cut);
    CHECK(c.frames == std::vector<std::string>{"{\"m\":\"one\"}", "{\"m\":\"two\"}",
                                               "{\"m\":\"three\"}", "tail"});
  }
  Collector bytewise;
  for (const char byte : stream) bytewise.framer.feed(std::string_view(&byte, 1));
  bytewise.framer.finish();
  CHECK(bytewise.frames.size() == 4);
}

TEST_CASE("gelf tcp framer: an over-long frame is dropped and the framer resynchronises",
          "[gelf]") {
  SECTION("within one read") {
    Collector c(10);
    c.framer.feed(
        "0123456789\0"
        "01234567890\0ok\0"s);
    CHECK(c.frames == std::vector<std::string>{"0123456789", "ok"});
    CHECK(c.framer.oversized() == 1);
  }
  SECTION("across reads, never buffering more than the cap") {
    Collector c(10);
    for (int i = 0; i < 100; ++i) {
      c.framer.feed("xxxxxxx");
      CHECK(c.framer.buffered_bytes() <= 10);
    }
    c.framer.feed("still the same frame\0next\0"s);
    CHECK(c.frames == std::vector<std::string>{"next"});
    CHECK(c.framer.oversized() == 1);
  }
  SECTION("a long pending part completed by a short tail") {
    Collector c(10);
    c.framer.feed("123456");
    c.framer.feed("7890X\0"s);
    CHECK(c.frames.empty());
    CHECK(c.framer.oversized() == 1);
  }
}

TEST_CASE("gelf tcp framer: the final frame counts at close", "[gelf]") {
  Collector c;
  c.framer.feed("{\"a\":1}\0{\"b\":"s);
  CHECK(c.frames.size() == 1);
  c.framer.feed("2}");
  c.framer.finish();
  CHECK(c.frames == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  c.framer.finish();  // nothing more
  CHECK(c.frames.size() == 2);
}
