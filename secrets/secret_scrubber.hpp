// Secret scrubbing: replaces every occurrence of every form of every secret with "[hidden]", on
// whole strings and on streams cut at arbitrary points.
//
// Semantics (the same for scrub_text and for any split of a stream into write() calls):
//   1. Each secret is expanded into its forms (secret_forms): raw, JSON-escaped, base64,
//   URL-encoded.
//   2. Every byte of the text covered by any occurrence of any form is marked.
//   3. Each maximal run of marked bytes is replaced by one "[hidden]"; other bytes pass unchanged.
// So overlapping or adjacent secrets collapse into one marker, the longest match always wins, and
// no fragment of a secret survives whatever the overlap (a partial match that another match cut is
// still inside the marked run). Matching is case-sensitive, byte-exact, with no minimum length.
//
// Why this design: the cost of scanning must not grow with the number of secrets, and Keboola's
// replace-secret-by-secret loop is what we must beat. SecretMatcher compiles all forms into one
// trie plus two prefilters, so text without secrets is rejected without touching the trie:
//   * patterns of 8 bytes or more: at every 5th position of the text, the 4 bytes there are looked
//     up in a Bloom filter (one 64-bit word per lookup) of the 4-byte grams at offsets 0..4 of
//     every pattern: any occurrence of a pattern that long contains one of those grams at a sampled
//     position. Only on a hit are the up-to-5 candidate start positions checked against an exact
//     hash table of the patterns' first 8 bytes, and only then is the trie walked. Cost: one filter
//     lookup per 5 bytes whatever the secret count; what grows with the count is only the filter's
//     size (8 bytes per distinct gram), so at 10,000 secrets it is 2 MiB in L2/L3 instead of L1.
//   * patterns shorter than 8 bytes (short secrets): every position's first byte and first two
//     bytes are checked in a 256-entry table and a 64K-bit bitmap. Slower, only used when needed.
// A candidate start is verified by walking the trie from that position; the deepest terminal node
// on the path is the longest pattern starting there (that is all step 2 needs). Walks are bounded
// by longest_pattern(), so the worst case (adversarial text that keeps almost matching) is
// O(text * longest pattern) and never depends on how many secrets there are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace runner::secrets {

inline constexpr std::string_view kHiddenMarker = "[hidden]";

// Every form in which `secret` is hidden, deduplicated and sorted (empty for an empty secret):
//   raw;
//   JSON-escaped, as between the quotes of a JSON string, in the dialects of nlohmann/JS/Python
//     ensure_ascii=False (minimal), PHP ('/' as "\/", non-ASCII as \uXXXX), Python ensure_ascii
//     (\uXXXX), Go (<>& as \u003c...), and upper-case hex (\u001B);
//   base64, standard and URL-safe alphabets: the secret encoded on its own, with and without '='
//     padding (padded and unpadded/JWT-style output are both hidden whole); plus, when at least 6
//     characters long, the characters fully determined by the secret when it sits at byte offset 0,
//     1 or 2 (mod 3) inside a larger base64 blob, e.g. the password in "Authorization: Basic
//     base64(user:pass)". For those embedded forms the one or two characters that mix secret bits
//     with neighbouring bytes stay visible (they carry at most 4 bits of the secret each). A secret
//     shorter than 5 bytes inside a larger blob is not covered: its fully determined run is too
//     short to match without hiding random base64;
//   URL-encoded (percent-encoding of everything but ALPHA DIGIT - . _ and an encoder-specific safe
//     set: RFC 3986 "~", none, JavaScript encodeURIComponent "~!*'()", Python quote "/~", Java
//     URLEncoder "*"), with upper- and lower-case hex, space as %20 and as '+'.
std::vector<std::string> secret_forms(std::string_view secret);

// Secrets of one or two characters (UTF-8 code points; an invalid byte counts as one character),
// which will mask a lot of unrelated output: the runner warns about them at job start.
std::vector<std::string> short_secrets(const std::vector<std::string>& secrets);

// Immutable compiled set of patterns: every form of every secret. Built once per job, shared by all
// streams (std::shared_ptr<const SecretMatcher>); safe to use from several threads at once.
// Empty secrets are ignored.
class SecretMatcher {
 public:
  explicit SecretMatcher(const std::vector<std::string>& secrets);

  std::size_t longest_pattern() const { return longest_; }  // bytes; 0 when empty
  std::size_t pattern_count() const { return patterns_.size(); }
  bool empty() const { return patterns_.empty(); }
  // All forms of all secrets, sorted and deduplicated.
  const std::vector<std::string>& patterns() const { return patterns_; }

  // An occurrence of the longest pattern starting at `start`.
  struct Match {
    std::size_t start;
    std::size_t length;
  };
  // Appends, for every position of `data` where at least one pattern occurs completely inside
  // `data`, the longest such occurrence. Order is unspecified.
  void find_matches(std::string_view data, std::vector<Match>& matches) const;
  // The first position p such that data[p..] is a proper prefix of some pattern (more input could
  // complete a match starting there), or data.size() if there is none. Always
  // >= data.size() - (longest_pattern() - 1).
  std::size_t pending_start(std::string_view data) const;

 private:
  struct Node {
    std::uint32_t first_edge = 0;
    std::uint32_t edge_count = 0;
    std::uint32_t best = 0;  // length of the longest pattern that is a prefix of this node's path
  };
  struct Walk {
    std::uint32_t best;  // longest pattern seen along the walk (0: none)
    bool pending;        // ran out of input on a node that can still grow
  };

  std::uint32_t child(std::uint32_t node, unsigned char byte) const;
  Walk walk(std::uint32_t node, const unsigned char* p, const unsigned char* end) const;
  std::uint32_t prefix_node(std::uint64_t key) const;
  void build_trie();
  void build_prefilters();

  std::vector<std::string> patterns_;
  std::size_t longest_ = 0;

  // Trie: node 0 is the root, whose children are also in root_children_ (0 = no child). Edges of
  // a node are contiguous and sorted by byte.
  std::vector<Node> nodes_;
  std::vector<unsigned char> edge_bytes_;
  std::vector<std::uint32_t> edge_children_;
  std::array<std::uint32_t, 256> root_children_{};

  // Prefilter for patterns of 8 bytes or more: a blocked Bloom filter of their 4-byte grams at
  // offsets 0..4, and an open-addressing table from their first 8 bytes to the trie node there.
  struct PrefixSlot {
    std::uint64_t key = 0;   // first 8 bytes of a pattern, little endian
    std::uint32_t node = 0;  // trie node at depth 8; 0 = empty slot
  };
  bool has_long_ = false;
  unsigned gram_bits_ = 0;  // log2 of the number of 64-bit words in gram_bitmap_
  std::vector<std::uint64_t> gram_bitmap_;
  unsigned prefix_bits_ = 0;  // log2 of prefix_table_.size()
  std::vector<PrefixSlot> prefix_table_;

  // Prefilter for shorter patterns.
  bool has_short_ = false;
  std::array<bool, 256> short_single_{};   // first byte of a 1-byte pattern
  std::vector<std::uint64_t> short_pair_;  // first two bytes of a 2..7-byte pattern
};

// Streaming scrubber for one stream: write() appends to `out` everything that is now known to be
// safe, with every occurrence of any form replaced by "[hidden]"; it holds back only bytes that
// could still become part of a match (at most longest_pattern() - 1). Any split of a stream into
// write() calls followed by flush() produces exactly scrub_text() of the whole stream.
class SecretScrubber {
 public:
  explicit SecretScrubber(std::shared_ptr<const SecretMatcher> matcher);  // throws on nullptr

  void write(std::string_view in, std::string& out);
  // End of stream: emits the held-back bytes (scrubbed). The scrubber can then start a new stream.
  void flush(std::string& out);
  std::size_t held_back() const { return held_.size(); }

 private:
  void emit(std::string_view data, std::size_t limit, std::string& out);

  std::shared_ptr<const SecretMatcher> matcher_;
  std::string held_;               // bytes not yet emitted
  std::size_t carry_covered_ = 0;  // leading bytes of held_ covered by an already-emitted match
  bool last_hidden_ = false;       // the last thing emitted was "[hidden]"
  std::vector<SecretMatcher::Match> matches_;  // scratch, kept to avoid reallocation
};

// One-shot convenience for whole strings (runner's own error messages, event fields).
std::string scrub_text(const SecretMatcher& matcher, std::string_view text);

}  // namespace runner::secrets
