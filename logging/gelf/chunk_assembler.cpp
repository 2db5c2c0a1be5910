// GelfChunkAssembler: see the header.
#include "logging/gelf/chunk_assembler.hpp"

#include <cstring>

namespace runner::logging::gelf {

namespace {

constexpr unsigned char kMagic0 = 0x1e;
constexpr unsigned char kMagic1 = 0x0f;

// Memory a chunk set holds besides its payload bytes: the set itself, its hash-map and list
// nodes and one slot per expected chunk. An estimate, but one that grows with what a sender
// controls (the number of sets and their announced counts), so the cap holds against floods of
// sets that never complete.
std::size_t bookkeeping_bytes(unsigned count) {
  constexpr std::size_t kPerSet = 256;
  return kPerSet + count * (sizeof(std::string) + 1);
}

}  // namespace

std::size_t GelfChunkAssembler::KeyHash::operator()(const Key& key) const {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, key.sender.address.data(), 8);
  std::memcpy(&low, key.sender.address.data() + 8, 8);
  std::uint64_t hash = key.message_id * 0x9E3779B97F4A7C15ULL;
  hash ^= (high + 0x632BE59BD9B4E019ULL + (hash << 6) + (hash >> 2));
  hash ^= (low + 0x8CB92BA72F3D8DD7ULL + (hash << 6) + (hash >> 2));
  hash ^= (key.sender.port + 0x94D049BB133111EBULL + (hash << 6) + (hash >> 2));
  return static_cast<std::size_t>(hash);
}

GelfChunkAssembler::GelfChunkAssembler() : GelfChunkAssembler(Limits{}) {}

GelfChunkAssembler::GelfChunkAssembler(Limits limits) : limits_(limits) {}

bool GelfChunkAssembler::is_chunk(std::string_view datagram) {
  return datagram.size() >= 2 && static_cast<unsigned char>(datagram[0]) == kMagic0 &&
         static_cast<unsigned char>(datagram[1]) == kMagic1;
}

void GelfChunkAssembler::remove(PendingMap::iterator it) {
  pending_bytes_ -= it->second.memory;
  by_age_.erase(it->second.age_position);
  pending_.erase(it);
}

// Evicts the oldest sets other than `keep` until `bytes` more fit under the cap.
void GelfChunkAssembler::make_room(std::size_t bytes, const Key& keep) {
  auto oldest = by_age_.begin();
  while (pending_bytes_ + bytes > limits_.max_pending_bytes && oldest != by_age_.end()) {
    if (*oldest == keep) {
      ++oldest;
      continue;
    }
    const auto victim = pending_.find(*oldest);
    ++oldest;
    remove(victim);
    ++counters_.evicted;
  }
}

std::optional<std::string_view> GelfChunkAssembler::add(std::string_view datagram,
                                                        const GelfSender& sender,
                                                        Clock::time_point now) {
  expire(now);
  if (datagram.size() < kHeaderSize || !is_chunk(datagram)) {
    ++counters_.rejected;
    return std::nullopt;
  }
  Key key{sender, 0};
  std::memcpy(&key.message_id, datagram.data() + 2, 8);
  const unsigned sequence = static_cast<unsigned char>(datagram[10]);
  const unsigned count = static_cast<unsigned char>(datagram[11]);
  if (count == 0 || count > kMaxChunks || sequence >= count) {
    ++counters_.rejected;
    return std::nullopt;
  }
  const std::string_view slice = datagram.substr(kHeaderSize);

  auto it = pending_.find(key);
  if (it == pending_.end()) {
    if (count == 1) {
      ++counters_.completed;
      assembled_.assign(slice);
      return std::string_view(assembled_);
    }
    const std::size_t bookkeeping = bookkeeping_bytes(count);
    make_room(bookkeeping + slice.size(), key);
    if (pending_bytes_ + bookkeeping + slice.size() > limits_.max_pending_bytes) {
      ++counters_.evicted;  // cannot fit even alone
      return std::nullopt;
    }
    PendingMessage message;
    message.first_chunk = now;
    message.count = count;
    message.memory = bookkeeping;
    message.slices.resize(count);
    message.present.resize(count, false);
    message.age_position = by_age_.insert(by_age_.end(), key);
    it = pending_.emplace(key, std::move(message)).first;
    pending_bytes_ += bookkeeping;
  } else {
    PendingMessage& message = it->second;
    if (message.count != count) {
      ++counters_.rejected;
      remove(it);
      return std::nullopt;
    }
    if (message.present[sequence]) {
      ++counters_.duplicates;
      return std::nullopt;
    }
    make_room(slice.size(), key);
    if (pending_bytes_ + slice.size() > limits_.max_pending_bytes) {
      ++counters_.evicted;
      remove(it);
      return std::nullopt;
    }
  }

  PendingMessage& message = it->second;
  message.slices[sequence].assign(slice);
  message.present[sequence] = true;
  message.memory += slice.size();
  pending_bytes_ += slice.size();
  if (++message.received < message.count) return std::nullopt;

  std::size_t total = 0;
  for (const std::string& part : message.slices) total += part.size();
  assembled_.clear();
  assembled_.reserve(total);
  for (const std::string& part : message.slices) assembled_.append(part);
  remove(it);
  ++counters_.completed;
  return std::string_view(assembled_);
}

void GelfChunkAssembler::expire(Clock::time_point now) {
  while (!by_age_.empty()) {
    const auto oldest = pending_.find(by_age_.front());
    if (now - oldest->second.first_chunk < limits_.timeout) return;
    remove(oldest);
    ++counters_.expired;
  }
}

std::optional<GelfChunkAssembler::Clock::time_point> GelfChunkAssembler::next_expiry() const {
  if (by_age_.empty()) return std::nullopt;
  return pending_.find(by_age_.front())->second.first_chunk + limits_.timeout;
}

void GelfChunkAssembler::clear() {
  counters_.expired += pending_.size();
  pending_.clear();
  by_age_.clear();
  pending_bytes_ = 0;
}

}  // namespace runner::logging::gelf
