// StreamDemuxer: frames split at every possible point must give the same payloads.
#include "docker/stream_demuxer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using runner::docker::OutputStream;
using runner::docker::StreamDemuxer;

namespace {

std::string frame(unsigned char type, const std::string& payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(type);
  const auto n = static_cast<std::uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + payload;
}

struct Collected {
  std::string out, err, system;
};

Collected demux(const std::string& stream, const std::vector<std::size_t>& cuts) {
  Collected c;
  StreamDemuxer d([&](OutputStream s, std::string_view bytes) {
    if (s == OutputStream::stdout_)
      c.out.append(bytes);
    else if (s == OutputStream::stderr_)
      c.err.append(bytes);
    else
      c.system.append(bytes);
  });
  std::size_t pos = 0;
  for (std::size_t cut : cuts) {
    d.feed(std::string_view(stream).substr(pos, cut - pos));
    pos = cut;
  }
  d.feed(std::string_view(stream).substr(pos));
  REQUIRE(d.at_frame_boundary());
  return c;
}

}  // namespace

TEST_CASE("demuxer separates stdout and stderr frames", "[docker][demuxer]") {
  const std::string s = frame(1, "hello\n") + frame(2, "oops\n") + frame(1, "world\n");
  const Collected c = demux(s, {});
  CHECK(c.out == "hello\nworld\n");
  CHECK(c.err == "oops\n");
}

TEST_CASE("demuxer is correct for every single split point", "[docker][demuxer]") {
  const std::string s = frame(1, "first line\n") + frame(2, "error text") + frame(1, "") +
                        frame(1, "\xC3\xA9t\xC3\xA9\n") + frame(3, "daemon") + frame(2, "\n");
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    INFO("split at " << cut);
    const Collected c = demux(s, {cut});
    CHECK(c.out == "first line\n\xC3\xA9t\xC3\xA9\n");
    CHECK(c.err == "error text\n");
    CHECK(c.system == "daemon");
  }
}

TEST_CASE("demuxer is correct for every pair of split points and one-byte reads",
          "[docker][demuxer]") {
  const std::string s = frame(1, "ab") + frame(2, "cd") + frame(1, "ef");
  for (std::size_t a = 0; a <= s.size(); ++a)
    for (std::size_t b = a; b <= s.size(); ++b) {
      const Collected c = demux(s, {a, b});
      REQUIRE(c.out == "abef");
      REQUIRE(c.err == "cd");
    }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < s.size(); ++i) every.push_back(i);
  const Collected c = demux(s, every);
  CHECK(c.out == "abef");
  CHECK(c.err == "cd");
}

TEST_CASE("demuxer hands on large frames without waiting for the whole frame",
          "[docker][demuxer]") {
  const std::string payload(1 << 20, 'x');
  const std::string s = frame(1, payload);
  std::size_t delivered = 0;
  int calls = 0;
  StreamDemuxer d([&](OutputStream, std::string_view bytes) {
    delivered += bytes.size();
    ++calls;
  });
  d.feed(std::string_view(s).substr(0, 8 + 1000));
  CHECK(delivered == 1000);
  d.feed(std::string_view(s).substr(8 + 1000));
  CHECK(delivered == payload.size());
  CHECK(calls == 2);
  CHECK(d.payload_bytes() == payload.size());
}
