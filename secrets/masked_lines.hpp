// MaskedLineStream: the text lines of one output stream, masked as one continuous stream.
//
// A stream's lines are split before they are masked, so that a protocol line (Kestra) can be
// read from its raw text and have its decoded values masked (masker.hpp); every other line is
// text and comes here. Masking them one by one would miss a secret that spans lines (a PEM key
// printed as it is) or the cut of a line delivered in pieces (at the splitter's 64 KiB limit, or
// after a quiet period), so they go through one SecretScrubber in order, with their line breaks
// (a "\r\n" as it was: a secret may hold one) and without a break at a cut; what comes out is
// split at the same places again. Only bytes that may still become part of a secret are held
// back, so a line is handed on at once unless it ends a secret's possible beginning.
//
// Lines are batched: added lines are masked together when drain() is called (once per read from
// the engine), so that the scrubber's per-call cost is paid once per read, not per line. Pieces
// are handed on when added (each is an event of its own).
#pragma once

#include "secrets/masker.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace runner::secrets {

class MaskedLineStream {
 public:
  // `continues`: the line is a piece and the line goes on in the next call (joined without a
  // break, the calls give the stream's bytes back). A line handed on in pieces always ends with
  // a call whose `continues` is false, empty when its newline came with nothing after the last
  // piece.
  using LineFn = std::function<void(MaskedText line, bool continues)>;

  // `matcher` must not be null.
  MaskedLineStream(std::shared_ptr<const SecretMatcher> matcher, LineFn on_line);

  // A line that ended at a line break ("\r\n" when `crlf`), without it.
  void line(std::string_view text, bool crlf = false);
  // A piece of a line that goes on: handed on now as a line of its own, less the bytes that may
  // still start a secret, which go to the line after it.
  void piece(std::string_view text);
  // A line handed on in pieces ended with nothing after its last piece: what was held back of it
  // is handed on (nothing when nothing was).
  void close_line();
  // Masks the lines added and hands on every one that is final.
  void drain();
  // End of the stream: everything, held back or not, is handed on.
  void finish();
  // Bytes are held back (the beginning of a secret may be pending).
  bool holding() const { return scrubber_.held_back() > 0 || !pending_.empty(); }

 private:
  void mask_batch();
  void hand_on_lines();

  SecretScrubber scrubber_;
  LineFn on_line_;
  std::string batch_;         // raw lines with their breaks, not yet masked
  std::string out_;           // scratch: what the scrubber released
  std::string pending_;       // masked text of a line not yet complete
  bool after_piece_ = false;  // the next line completes one handed on in pieces
};

}  // namespace runner::secrets
