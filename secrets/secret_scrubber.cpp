// Secret forms, the compiled multi-pattern matcher (trie + sampled-gram prefilter) and the
// streaming scrubber. The design and the exact semantics are explained in secret_scrubber.hpp.
#include "secrets/secret_scrubber.hpp"

#include "common/utf8.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <stdexcept>

#include "secrets/encoding.hpp"

namespace runner::secrets {
namespace {

// Patterns at least this long go through the sampled prefilter. A pattern of kLongPattern bytes
// contains the kGram-byte gram at offsets 0..kSample-1, so sampling the text every kSample bytes
// cannot miss an occurrence: kSample = kLongPattern - kGram + 1.
constexpr std::size_t kLongPattern = 8;
constexpr std::size_t kGram = 4;
constexpr std::size_t kSample = kLongPattern - kGram + 1;

// Embedded base64 forms shorter than this would hide random base64 (6 chars = 36 bits).
constexpr std::size_t kMinEmbeddedBase64 = 6;

std::uint32_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The gram filter is a blocked Bloom filter: a gram selects one 64-bit word and sets two bits in
// it. One memory access per test, and far fewer false positives than one bit per gram would give
// at the same size.
struct GramProbe {
  std::size_t word;
  std::uint64_t mask;
};

GramProbe gram_probe(std::uint32_t gram, unsigned word_bits) {
  const std::uint64_t h = static_cast<std::uint64_t>(gram) * 0x9E3779B97F4A7C15ull;
  return {static_cast<std::size_t>(h >> (64 - word_bits)),
          (1ull << ((h >> 20) & 63)) | (1ull << ((h >> 26) & 63))};
}

std::uint64_t prefix_hash(std::uint64_t key, unsigned bits) {
  return (key * 0x9E3779B97F4A7C15ull) >> (64 - bits);
}

bool test_bit(const std::vector<std::uint64_t>& bits, std::uint64_t i) {
  return (bits[i >> 6] >> (i & 63)) & 1;
}

void set_bit(std::vector<std::uint64_t>& bits, std::uint64_t i) {
  bits[i >> 6] |= 1ull << (i & 63);
}

unsigned log2_ceil(std::size_t n) {
  return n <= 1 ? 0 : static_cast<unsigned>(std::bit_width(n - 1));
}

// The base64 characters that depend only on `secret` when it starts `offset` bytes (0..2) into a
// larger encoded blob.
std::string embedded_base64(std::string_view secret, std::size_t offset, Base64Alphabet alphabet) {
  std::string shifted(offset, '\0');
  shifted.append(secret);
  const std::string encoded = base64_encode(shifted, alphabet, false);
  const std::size_t first = (8 * offset + 5) / 6;  // first char starting at bit >= 8*offset
  const std::size_t end = 8 * (offset + secret.size()) / 6;  // chars ending at bit <= end of secret
  if (end <= first) return {};
  return encoded.substr(first, end - first);
}

}  // namespace

std::vector<std::string> secret_forms(std::string_view secret) {
  std::vector<std::string> forms;
  if (secret.empty()) return forms;
  forms.emplace_back(secret);

  for (int variant = 0; variant < 16; ++variant) {
    JsonEscapeStyle style;
    style.escape_slash = variant & 1;
    style.ascii_only = variant & 2;
    style.escape_html = variant & 4;
    style.upper_hex = variant & 8;
    if (auto escaped = json_escape(secret, style)) forms.push_back(std::move(*escaped));
  }

  for (const auto alphabet : {Base64Alphabet::Standard, Base64Alphabet::UrlSafe}) {
    forms.push_back(base64_encode(secret, alphabet, true));  // so "[hidden]" eats the '='
    forms.push_back(
        base64_encode(secret, alphabet, false));  // unpadded: JWT style, or no '=' needed
    for (std::size_t offset = 0; offset < 3; ++offset) {
      std::string embedded = embedded_base64(secret, offset, alphabet);
      if (embedded.size() >= kMinEmbeddedBase64) forms.push_back(std::move(embedded));
    }
  }

  for (const std::string_view safe : {"~", "", "~!*'()", "/~", "*"}) {
    for (const bool upper : {true, false}) {
      for (const bool plus : {false, true}) forms.push_back(url_encode(secret, safe, upper, plus));
    }
  }

  std::sort(forms.begin(), forms.end());
  forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
  return forms;
}

std::vector<std::string> short_secrets(const std::vector<std::string>& secrets) {
  std::vector<std::string> result;
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    // In characters by the one UTF-8 codec; a malformed byte counts as one.
    const std::size_t chars = utf8_length(s);
    if (chars <= 2 && std::find(result.begin(), result.end(), s) == result.end())
      result.push_back(s);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// SecretMatcher

SecretMatcher::SecretMatcher(const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    for (auto& form : secret_forms(secret)) patterns_.push_back(std::move(form));
  }
  std::sort(patterns_.begin(), patterns_.end());
  patterns_.erase(std::unique(patterns_.begin(), patterns_.end()), patterns_.end());
  for (const auto& p : patterns_) longest_ = std::max(longest_, p.size());
  build_trie();
  build_prefilters();
}

void SecretMatcher::build_trie() {
  // Breadth-first over the sorted patterns: the patterns below a node form a contiguous range,
  // and its children are the groups of that range sharing the next byte, so every node's edges are
  // allocated together and come out sorted.
  struct Pending {
    std::uint32_t node;
    std::size_t lo, hi, depth;
  };
  nodes_.assign(1, Node{});
  std::deque<Pending> queue;
  if (!patterns_.empty()) queue.push_back({0, 0, patterns_.size(), 0});
  while (!queue.empty()) {
    auto [node, lo, hi, depth] = queue.front();
    queue.pop_front();
    if (patterns_[lo].size() == depth) ++lo;  // the node itself is a pattern (sorted first)
    nodes_[node].first_edge = static_cast<std::uint32_t>(edge_bytes_.size());
    std::uint32_t count = 0;
    for (std::size_t i = lo; i < hi;) {
      const char byte = patterns_[i][depth];
      std::size_t j = i;
      while (j < hi && patterns_[j][depth] == byte) ++j;
      const auto child = static_cast<std::uint32_t>(nodes_.size());
      Node n;
      n.best = patterns_[i].size() == depth + 1 ? static_cast<std::uint32_t>(depth + 1)
                                                : nodes_[node].best;
      nodes_.push_back(n);
      edge_bytes_.push_back(static_cast<unsigned char>(byte));
      edge_children_.push_back(child);
      queue.push_back({child, i, j, depth + 1});
      ++count;
      i = j;
    }
    nodes_[node].edge_count = count;
  }
  const Node& root = nodes_[0];
  for (std::uint32_t e = root.first_edge; e < root.first_edge + root.edge_count; ++e) {
    root_children_[edge_bytes_[e]] = edge_children_[e];
  }
}

void SecretMatcher::build_prefilters() {
  std::size_t long_count = 0;
  for (const auto& p : patterns_) {
    if (p.size() >= kLongPattern) {
      ++long_count;
    } else {
      has_short_ = true;
    }
  }
  has_long_ = long_count > 0;

  if (has_short_) {
    short_pair_.assign((1u << 16) / 64, 0);
    for (const auto& p : patterns_) {
      if (p.size() >= kLongPattern) continue;
      const auto* b = reinterpret_cast<const unsigned char*>(p.data());
      if (p.size() == 1) {
        short_single_[b[0]] = true;
      } else {
        set_bit(short_pair_, b[0] | (static_cast<unsigned>(b[1]) << 8));
      }
    }
  }
  if (!has_long_) return;

  // About 64 filter bits per distinct gram (at least 8 KiB, which stays in L1 for a few secrets):
  // a text gram that is no pattern's gram passes with probability well under 1%.
  std::vector<std::uint32_t> grams;
  grams.reserve(long_count * kSample);
  for (const auto& p : patterns_) {
    if (p.size() < kLongPattern) continue;
    const auto* b = reinterpret_cast<const unsigned char*>(p.data());
    for (std::size_t off = 0; off < kSample; ++off) grams.push_back(load32(b + off));
  }
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  gram_bits_ = std::clamp(log2_ceil(grams.size() * 64), 16u, 30u) - 6;  // log2 of the word count
  gram_bitmap_.assign(std::size_t{1} << gram_bits_, 0);
  for (const std::uint32_t gram : grams) {
    const GramProbe g = gram_probe(gram, gram_bits_);
    gram_bitmap_[g.word] |= g.mask;
  }

  prefix_bits_ = std::max(4u, log2_ceil(long_count * 2));
  prefix_table_.assign(std::size_t{1} << prefix_bits_, PrefixSlot{});
  const std::size_t mask = prefix_table_.size() - 1;

  for (const auto& p : patterns_) {
    if (p.size() < kLongPattern) continue;
    const auto* b = reinterpret_cast<const unsigned char*>(p.data());
    std::uint32_t node = 0;
    for (std::size_t k = 0; k < kLongPattern; ++k) node = child(node, b[k]);
    const std::uint64_t key = load64(b);
    for (std::size_t slot = prefix_hash(key, prefix_bits_);; slot = (slot + 1) & mask) {
      PrefixSlot& entry = prefix_table_[slot];
      if (entry.node == 0) {
        entry = {key, node};
        break;
      }
      if (entry.key == key) break;  // another form with the same first 8 bytes
    }
  }
}

std::uint32_t SecretMatcher::child(std::uint32_t node, unsigned char byte) const {
  if (node == 0) return root_children_[byte];
  const Node& n = nodes_[node];
  const unsigned char* first = edge_bytes_.data() + n.first_edge;
  const unsigned char* last = first + n.edge_count;
  if (n.edge_count <= 8) {
    for (const unsigned char* e = first; e != last; ++e) {
      if (*e == byte) return edge_children_[static_cast<std::size_t>(e - edge_bytes_.data())];
    }
    return 0;
  }
  const unsigned char* e = std::lower_bound(first, last, byte);
  return e != last && *e == byte ? edge_children_[static_cast<std::size_t>(e - edge_bytes_.data())]
                                 : 0;
}

SecretMatcher::Walk SecretMatcher::walk(std::uint32_t node, const unsigned char* p,
                                        const unsigned char* end) const {
  for (; p < end; ++p) {
    const std::uint32_t next = child(node, *p);
    if (next == 0) return {nodes_[node].best, false};
    node = next;
  }
  return {nodes_[node].best, nodes_[node].edge_count != 0};
}

std::uint32_t SecretMatcher::prefix_node(std::uint64_t key) const {
  const std::size_t mask = prefix_table_.size() - 1;
  for (std::size_t slot = prefix_hash(key, prefix_bits_);; slot = (slot + 1) & mask) {
    const PrefixSlot& entry = prefix_table_[slot];
    if (entry.node == 0 || entry.key == key) return entry.node;
  }
}

void SecretMatcher::find_matches(std::string_view data, std::vector<Match>& matches) const {
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  const unsigned char* end = d + n;

  if (has_long_ && n >= kLongPattern) {
    const std::uint64_t* bitmap = gram_bitmap_.data();
    const unsigned bits = gram_bits_;
    const auto candidate = [&](std::size_t a) {
      // Some long pattern may start in [a - kSample + 1, a]; check each start exactly.
      for (std::size_t off = kSample; off-- > 0;) {
        if (off > a) continue;
        const std::size_t p = a - off;
        if (p + kLongPattern > n) continue;
        const std::uint32_t node = prefix_node(load64(d + p));
        if (node == 0) continue;
        const Walk w = walk(node, d + p + kLongPattern, end);
        if (w.best != 0) matches.push_back({p, w.best});
      }
    };
    const auto hit = [&](std::size_t at) {
      const GramProbe g = gram_probe(load32(d + at), bits);
      return (bitmap[g.word] & g.mask) == g.mask;
    };
    std::size_t a = 0;
    // Four samples per iteration, tested together: the common case is one well-predicted branch
    // and four independent loads in flight.
    for (; a + 3 * kSample + kGram <= n; a += 4 * kSample) {
      const bool any = hit(a) | hit(a + kSample) | hit(a + 2 * kSample) | hit(a + 3 * kSample);
      if (!any) [[likely]]
        continue;
      for (std::size_t k = 0; k < 4; ++k) {
        if (hit(a + k * kSample)) candidate(a + k * kSample);
      }
    }
    for (; a + kGram <= n; a += kSample) {
      if (hit(a)) candidate(a);
    }
  }

  if (has_short_) {
    for (std::size_t p = 0; p < n; ++p) {
      const unsigned char b = d[p];
      const bool maybe =
          short_single_[b] ||
          (p + 1 < n && test_bit(short_pair_, b | (static_cast<unsigned>(d[p + 1]) << 8)));
      if (!maybe) continue;
      const Walk w = walk(0, d + p, end);
      if (w.best != 0) matches.push_back({p, w.best});
    }
  }
}

std::size_t SecretMatcher::pending_start(std::string_view data) const {
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  if (longest_ <= 1) return n;
  for (std::size_t p = n > longest_ - 1 ? n - (longest_ - 1) : 0; p < n; ++p) {
    if (root_children_[d[p]] == 0) continue;
    if (walk(0, d + p, d + n).pending) return p;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// SecretScrubber

SecretScrubber::SecretScrubber(std::shared_ptr<const SecretMatcher> matcher)
    : matcher_(std::move(matcher)) {
  if (!matcher_) throw std::invalid_argument("SecretScrubber needs a matcher");
}

void SecretScrubber::write(std::string_view in, std::string& out) {
  if (matcher_->empty()) {
    out.append(in);
    return;
  }
  if (held_.empty()) {
    // Common case: scan the caller's buffer in place, keep only the undecided tail.
    const std::size_t limit = matcher_->pending_start(in);
    emit(in, limit, out);
    held_.assign(in.substr(limit));
  } else {
    held_.append(in);
    const std::size_t limit = matcher_->pending_start(held_);
    emit(held_, limit, out);
    held_.erase(0, limit);
  }
}

void SecretScrubber::flush(std::string& out) {
  if (!held_.empty()) emit(held_, held_.size(), out);
  held_.clear();
  carry_covered_ = 0;
  last_hidden_ = false;
}

// Emits data[0, limit): every byte there is final, because no match can start at or after a
// position before `limit` and still be incomplete. Matches starting at >= limit are ignored now
// and found again on the next call (their bytes are still held). Coverage reaching past `limit`
// from matches starting before it is remembered in carry_covered_.
void SecretScrubber::emit(std::string_view data, std::size_t limit, std::string& out) {
  matches_.clear();
  matcher_->find_matches(data, matches_);
  if (matches_.size() > 1) {
    std::sort(matches_.begin(), matches_.end(),
              [](const SecretMatcher::Match& a, const SecretMatcher::Match& b) {
                return a.start < b.start;
              });
  }

  std::size_t pos = 0;  // next byte of data to emit
  const auto emit_run = [&](std::size_t run_start, std::size_t run_end) {
    if (run_start > pos) {
      out.append(data.substr(pos, run_start - pos));
      last_hidden_ = false;
    }
    if (!last_hidden_) out.append(kHiddenMarker);
    last_hidden_ = true;
    pos = std::min(run_end, limit);
  };

  std::size_t run_start = 0;
  std::size_t run_end = carry_covered_;  // a run [0, carry) continues from the previous call
  bool in_run = carry_covered_ > 0;
  for (const auto& m : matches_) {
    if (m.start >= limit) break;
    const std::size_t m_end = m.start + m.length;
    if (in_run && m.start <= run_end) {  // overlapping or adjacent: same run
      run_end = std::max(run_end, m_end);
      continue;
    }
    if (in_run) emit_run(run_start, run_end);
    run_start = m.start;
    run_end = m_end;
    in_run = true;
  }
  carry_covered_ = 0;
  if (in_run) {
    if (run_start < limit) {
      emit_run(run_start, run_end);
    }
    carry_covered_ = run_end > limit ? run_end - limit : 0;
  }
  if (limit > pos) {
    out.append(data.substr(pos, limit - pos));
    last_hidden_ = false;
  }
}

std::string scrub_text(const SecretMatcher& matcher, std::string_view text) {
  if (matcher.empty()) return std::string(text);
  // Non-owning handle: the scrubber lives only inside this call, the caller keeps `matcher` alive.
  SecretScrubber scrubber(std::shared_ptr<const SecretMatcher>(std::shared_ptr<void>(), &matcher));
  std::string out;
  out.reserve(text.size());
  scrubber.write(text, out);
  scrubber.flush(out);
  return out;
}

}  // namespace runner::secrets
