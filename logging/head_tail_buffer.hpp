// HeadTailBuffer: keeps the first and the last N bytes of an unbounded text, in bounded memory.
//
// Keboola gathers all of stderr to report it at the end and once ran out of memory on huge
// outputs; we keep the head and the tail (1 MiB each for stderr) and say how much was left out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace runner::logging {

class HeadTailBuffer {
 public:
  HeadTailBuffer(std::size_t head_limit, std::size_t tail_limit)
      : head_limit_(head_limit), tail_limit_(tail_limit) {}

  void append(std::string_view bytes);
  std::uint64_t total_bytes() const { return total_; }
  std::uint64_t omitted_bytes() const;
  bool empty() const { return total_ == 0; }
  // Head, a "[... N bytes omitted ...]" marker line when something was left out, and tail; valid
  // UTF-8, with characters cut at the seams replaced.
  std::string text() const;

 private:
  std::size_t head_limit_;
  std::size_t tail_limit_;
  std::string head_;
  std::string tail_;  // holds up to 2 * tail_limit_, trimmed to the last tail_limit_ on read
  std::uint64_t total_ = 0;
};

}  // namespace runner::logging
