// BlockCompressor and expand_block_text (block_codec.hpp), on libzstd's one-shot API: a block is
// compressed and expanded whole, its size is known, so no streaming state is needed.
#include "store/block_codec.hpp"

#include "store/event_block.hpp"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>

namespace runner::store {

namespace {

StoreError corrupt(const EventBlock& block, std::string_view what) {
  return StoreError(
      fmt::format("event block {} of job {} is corrupt: {}", block.row_id, block.job_id, what));
}

}  // namespace

void BlockCompressor::Free::operator()(ZSTD_CCtx_s* c) const noexcept {
  ZSTD_freeCCtx(c);
}

BlockCompressor::BlockCompressor() : ctx_(ZSTD_createCCtx()) {
  if (!ctx_) throw StoreError("cannot create a zstd compression context (out of memory)");
  ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel, kBlockCompressionLevel);
  // Readers check the content, not only the frame: a flipped bit is an error, not a wrong line.
  ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_checksumFlag, 1);
}

BlockCompressor::~BlockCompressor() = default;

void BlockCompressor::pack(EventBlock& block) {
  // Into the reused scratch buffer, then an exact-size copy: a batch of blocks each holding a
  // compressBound()-sized buffer would cost as much memory as the uncompressed text.
  scratch_.resize(ZSTD_compressBound(block.events.size()));
  const std::size_t n = ZSTD_compress2(ctx_.get(), scratch_.data(), scratch_.size(),
                                       block.events.data(), block.events.size());
  if (ZSTD_isError(n) != 0)
    throw StoreError(
        fmt::format("compressing event block of job {}: {}", block.job_id, ZSTD_getErrorName(n)));
  block.packed.assign(scratch_.data(), n);
  block.events.clear();
  block.events.shrink_to_fit();
}

std::optional<std::vector<EventBlock>> packed_for_storing(const std::vector<EventBlock>& blocks) {
  const auto unpacked_binary = [](const EventBlock& b) {
    return b.packed.empty() && !b.events.empty() && b.events.front() == kBinaryBlockFormat;
  };
  if (std::none_of(blocks.begin(), blocks.end(), unpacked_binary)) return std::nullopt;
  std::vector<EventBlock> copy = blocks;
  BlockCompressor compressor;
  for (auto& b : copy)
    if (unpacked_binary(b)) compressor.pack(b);
  return copy;
}

std::string expand_block_text(const EventBlock& block) {
  if (block.packed.empty()) return block.events;
  const unsigned long long size =
      ZSTD_getFrameContentSize(block.packed.data(), block.packed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) throw corrupt(block, "not a zstd frame");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) throw corrupt(block, "the frame does not say its size");
  if (size > kMaxBlockText)
    throw corrupt(block, fmt::format("the frame claims {} bytes, more than the {} a block may hold",
                                     size, kMaxBlockText));
  std::string text(static_cast<std::size_t>(size), '\0');
  const std::size_t n =
      ZSTD_decompress(text.data(), text.size(), block.packed.data(), block.packed.size());
  if (ZSTD_isError(n) != 0) throw corrupt(block, ZSTD_getErrorName(n));
  if (n != text.size()) throw corrupt(block, "the frame is shorter than it says");
  return text;
}

}  // namespace runner::store
