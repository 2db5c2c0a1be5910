// nearest_name(): the known name closest to a mistyped one, for "did you mean" hints on the
// command line (as git and cargo give them).
//
// Closeness is the optimal-string-alignment edit distance (insertions, deletions, substitutions
// and swaps of two neighbours each cost 1). A name is suggested only when it is close enough to
// be a plausible typo: at most 2 edits, or a third of the typed name's length for long names, or
// when the typed text is the start of exactly one name (`--dat` for `--data-dir`). The inputs are
// command-line words, so the quadratic distance is bounded by what a person types.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runner {

// The edit distance between `a` and `b` (optimal string alignment).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `typed`, or nullopt when none is a plausible typo of it. Ties go to
// the candidate listed first.
std::optional<std::string> nearest_name(std::string_view typed,
                                        const std::vector<std::string>& candidates);

}  // namespace runner
