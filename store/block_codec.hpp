// BlockCompressor / expand_block_text: how an event block's JSON text is kept small on disk.
//
// A block's events (event_block.hpp: a JSON array) are stored as one zstd frame in the
// event_blocks.packed column (schema version 3); blocks written before that keep their plain
// JSON in event_blocks.events and stay readable. zstd level 1: measured on bench/loggen.py's
// realistic log in 1 MiB blocks, 0.305x of the raw output bytes at ~2x the speed of level 3
// (0.301x); level 5 gains another 1%, the fast levels (--fast=1) miss 0.35x (0.385x); in the
// 256 KiB blocks StoreSink writes, 0.314x. A trained dictionary helps small inputs, not blocks of
// hundreds of KiB (the window already holds the vocabulary), so there is none. The compressor lives
// in the store writer's thread, never the job's.
#pragma once

#include "store/store.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace runner::store {

inline constexpr int kBlockCompressionLevel = 1;
// The largest block text a reader expands: a frame that claims more is refused as corrupt
// (the writer merges blocks up to 1 MiB; one event can be larger, up to the line limit).
inline constexpr std::size_t kMaxBlockText = 256u << 20;

// One zstd compression context, reused for every block of a writer (contexts are costly to
// create: ~1 MiB of tables each).
class BlockCompressor {
 public:
  BlockCompressor();
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;

  // Moves `block.events` (JSON text) into `block.packed` as a zstd frame; events becomes empty.
  void pack(EventBlock& block);

 private:
  struct Free {
    void operator()(ZSTD_CCtx_s* c) const noexcept;
  };
  std::unique_ptr<ZSTD_CCtx_s, Free> ctx_;
  std::string scratch_;
};

// Binary (format 2) block text is never stored unpacked (it is not JSON: the `events` view reads
// the events column as JSON). nullopt when every block of `blocks` can be stored as it is (what
// StoreSink's writer hands over), else a copy with such blocks packed (blocks built by hand).
std::optional<std::vector<EventBlock>> packed_for_storing(const std::vector<EventBlock>& blocks);

// The text of a stored block: `block.packed` expanded, or `block.events` when it is a block
// written before compression. Throws StoreError naming the block when the frame is corrupt,
// truncated or claims more than kMaxBlockText.
std::string expand_block_text(const EventBlock& block);

}  // namespace runner::store
