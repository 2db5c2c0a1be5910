// GelfChunkAssembler: reassembles chunked GELF messages sent over UDP.
//
// A chunk is a datagram `1e 0f`, an 8-byte message id, a 1-byte sequence number, a 1-byte count
// (1-128), then its slice of the (possibly compressed) message. Unlike the servers we compared
// (which assume in-order chunks, never expire them, or key them by id alone), chunks may arrive
// in any order; a duplicate is ignored (the first copy wins); a sequence number >= count is
// refused; a count that changes mid-message discards the whole message; a message still
// incomplete 5 s after its FIRST chunk expires. Sets are keyed by sender (address and port) and
// id, so two senders choosing the same id never mix. Pending chunks have a hard memory cap: the
// oldest sets are evicted first to make room, and a set alone bigger than the cap is discarded.
//
// The clock is a parameter of every call, so expiry is testable without sleeping. Sets are kept
// in a hash map and, in first-chunk order (which is also expiry order), in a list; expiry and
// eviction take from the list's front in O(1).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace runner::logging::gelf {

// Who sent a chunk: an IPv6 or IPv4-mapped address and a port, as plain bytes so this header
// needs no networking library.
struct GelfSender {
  std::array<std::uint8_t, 16> address{};
  std::uint16_t port = 0;

  bool operator==(const GelfSender&) const = default;
};

struct GelfChunkCounters {
  std::uint64_t completed = 0;   // messages reassembled
  std::uint64_t expired = 0;     // messages still incomplete at their deadline (or at clear())
  std::uint64_t evicted = 0;     // messages dropped to respect the memory cap
  std::uint64_t rejected = 0;    // malformed chunks, and messages dropped for a changed count
  std::uint64_t duplicates = 0;  // chunks received again (ignored)
};

class GelfChunkAssembler {
 public:
  using Clock = std::chrono::steady_clock;

  static constexpr std::size_t kHeaderSize = 12;
  static constexpr unsigned kMaxChunks = 128;

  struct Limits {
    std::chrono::milliseconds timeout{5000};           // from a message's first chunk
    std::size_t max_pending_bytes = 64 * 1024 * 1024;  // payload plus bookkeeping, all senders
  };

  GelfChunkAssembler();
  explicit GelfChunkAssembler(Limits limits);

  // True when the datagram starts with the chunk magic `1e 0f`.
  static bool is_chunk(std::string_view datagram);

  // Takes one chunk datagram (is_chunk() true) received at `now`. Expires what is due first. When
  // this chunk completes its message, returns the reassembled payload (still possibly
  // compressed): a view into the assembler, valid until the next call.
  std::optional<std::string_view> add(std::string_view datagram, const GelfSender& sender,
                                      Clock::time_point now);
  // Drops the messages whose deadline has passed.
  void expire(Clock::time_point now);
  // When expire() next has something to do.
  std::optional<Clock::time_point> next_expiry() const;
  // Drops every pending message, counting them as expired (the end of a job).
  void clear();

  std::size_t pending_messages() const { return pending_.size(); }
  std::size_t pending_bytes() const { return pending_bytes_; }
  const GelfChunkCounters& counters() const { return counters_; }
  const Limits& limits() const { return limits_; }

 private:
  struct Key {
    GelfSender sender;
    std::uint64_t message_id = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };
  struct PendingMessage {
    Clock::time_point first_chunk;
    unsigned count = 0;
    unsigned received = 0;
    std::size_t memory = 0;           // what this set adds to pending_bytes_
    std::vector<std::string> slices;  // by sequence number; filled ones are in `present`
    std::vector<bool> present;
    std::list<Key>::iterator age_position;
  };
  using PendingMap = std::unordered_map<Key, PendingMessage, KeyHash>;

  void remove(PendingMap::iterator it);
  void make_room(std::size_t bytes, const Key& keep);

  Limits limits_;
  PendingMap pending_;
  std::list<Key> by_age_;  // oldest first chunk first
  std::size_t pending_bytes_ = 0;
  std::string assembled_;
  GelfChunkCounters counters_;
};

}  // namespace runner::logging::gelf
