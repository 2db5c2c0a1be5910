// libFuzzer target for the secret scrubber. The input is split into secrets, a write pattern and a
// text; the target checks that (1) streaming the text through SecretScrubber in the derived pieces
// gives exactly scrub_text() of the whole text, (2) both equal a brute-force reference (mark every
// byte covered by any form of any secret, collapse each run into one "[hidden]"), and (3) no raw
// secret survives in the uncovered text. Built and run by build_and_run.sh.
//
// Input layout: byte 0 = number of secrets (mod 6), then for each secret a length byte (mod 20)
// and that many bytes; then a length byte (mod 32) and that many split sizes (each mod 24, 0
// allowed); the rest is the text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "secrets/secret_scrubber.hpp"

namespace {

struct Reader {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  std::uint8_t byte() { return pos < size ? data[pos++] : 0; }
  std::string bytes(std::size_t n) {
    n = std::min(n, size - pos);
    std::string s(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    return s;
  }
};

void fail(const char* what) {
  std::fprintf(stderr, "fuzz_scrubber: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace runner::secrets;
  Reader in{data, size};
  std::vector<std::string> secrets;
  const std::size_t count = in.byte() % 6;
  for (std::size_t i = 0; i < count; ++i) secrets.push_back(in.bytes(in.byte() % 20));
  std::vector<std::size_t> splits;
  const std::size_t split_count = in.byte() % 32;
  for (std::size_t i = 0; i < split_count; ++i) splits.push_back(in.byte() % 24);
  const std::string text = in.bytes(size);

  auto matcher = std::make_shared<const SecretMatcher>(secrets);
  const std::string whole = scrub_text(*matcher, text);

  SecretScrubber scrubber(matcher);
  std::string streamed;
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < text.size(); ++i) {
    const std::size_t n =
        splits.empty() ? 1 : std::min(splits[i % splits.size()], text.size() - pos);
    scrubber.write(std::string_view(text).substr(pos, n), streamed);
    pos += n;
    if (matcher->longest_pattern() > 0 && scrubber.held_back() > matcher->longest_pattern() - 1) {
      fail("held back more than longest_pattern() - 1 bytes");
    }
    if (i > text.size() + splits.size() + 1) break;  // all-zero split sizes: the rest goes below
  }
  scrubber.write(std::string_view(text).substr(pos), streamed);
  scrubber.flush(streamed);
  if (streamed != whole) fail("streaming output differs from scrub_text");

  std::vector<char> covered(text.size(), 0);
  for (const auto& s : secrets) {
    for (const auto& form : secret_forms(s)) {
      for (auto p = text.find(form); p != std::string::npos; p = text.find(form, p + 1)) {
        std::fill(covered.begin() + static_cast<long>(p),
                  covered.begin() + static_cast<long>(p + form.size()), 1);
      }
    }
  }
  std::string reference;
  std::vector<std::string> uncovered(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!covered[i]) {
      reference += text[i];
      uncovered.back() += text[i];
    } else if (i == 0 || !covered[i - 1]) {
      reference += kHiddenMarker;
      uncovered.emplace_back();
    }
  }
  if (whole != reference) fail("scrub_text differs from the brute-force reference");
  for (const auto& segment : uncovered) {
    for (const auto& s : secrets) {
      if (!s.empty() && segment.find(s) != std::string::npos) fail("a raw secret survived");
    }
  }
  return 0;
}
