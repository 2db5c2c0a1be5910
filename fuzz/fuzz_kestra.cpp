// libFuzzer target for the Kestra protocol parser: every line of the input (split at '\n') goes
// through two KestraLineParsers, one reading payloads with simdjson (what jobs run) and one with
// nlohmann only (the reference), and both must report exactly the same callbacks in the same
// order: text, logs, outputs (as JSON text), metrics, warnings. Nothing may crash (ASan/UBSan do
// the rest). Lines are cut to 64 KiB as the line splitter cuts them. Built and run by
// build_and_run_kestra.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "logging/kestra_protocol.hpp"

namespace {

using namespace runner::logging;

struct Recorder {
  std::vector<std::string> got;
  KestraLineParser parser;

  explicit Recorder(bool fast_path)
      : parser(
            KestraCallbacks{
                .on_text =
                    [this](std::string_view line) { got.push_back("t " + std::string(line)); },
                .on_log =
                    [this](Level level, std::string_view message) {
                      got.push_back(fmt::format("l {} {}", level_name(level), message));
                    },
                .on_outputs =
                    [this](const nlohmann::json& outputs) {
                      got.push_back("o " + outputs.dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace));
                    },
                .on_metric =
                    [this](const KestraMetric& m) {
                      got.push_back(fmt::format("m {} {} {} {} {}", m.type, m.name, m.value,
                                                m.tags.dump(), m.description));
                    },
                .on_warning =
                    [this](std::string message, std::string_view original) {
                      got.push_back("w " + message + " | " + std::string(original));
                    },
            },
            fast_path) {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Recorder fast(true);
  Recorder reference(false);
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, std::min<std::size_t>(end - start, 65536));
    fast.parser.line(line);
    reference.parser.line(line);
    start = end + 1;
  }
  fast.parser.finish();
  reference.parser.finish();
  if (fast.got != reference.got) {
    std::fprintf(stderr, "the fast path and the reference differ\n");
    for (std::size_t i = 0; i < fast.got.size() || i < reference.got.size(); ++i) {
      std::fprintf(stderr, "  fast: %s\n   ref: %s\n",
                   i < fast.got.size() ? fast.got[i].c_str() : "(none)",
                   i < reference.got.size() ? reference.got[i].c_str() : "(none)");
    }
    std::abort();
  }
  return 0;
}
