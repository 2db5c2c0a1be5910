// libFuzzer target for the `runner ship --config` parser. Byte 0 picks the reader (even: YAML
// through read_yaml, odd: JSON through logging::read_json, as a .json file is read); the rest is
// the file. The target checks that nothing but ShipperConfigError comes out and that every
// problem line is short. Alias bombs and cycles are what it hunts: build_and_run_config.sh runs
// it with a 512 MB RSS limit, so an expansion that is not bounded fails the run.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "logging/json_reader.hpp"
#include "shipper/shipper_config.hpp"

namespace {
void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_ship_config: %s: %.300s\n", what, detail.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    nlohmann::json doc;
    if (data[0] % 2 == 0) {
      doc = runner::shipper::yaml_to_json(text);
    } else {
      runner::logging::JsonLimits limits;
      limits.max_depth = 64;
      limits.max_bytes = 1024 * 1024;
      try {
        doc = runner::logging::read_json(text, limits);
      } catch (const runner::logging::JsonInputError& e) {
        throw runner::shipper::ShipperConfigError({e.what()});
      }
    }
    const runner::shipper::ShipperConfig config = runner::shipper::parse_shipper_config(doc);
    for (const auto& exporter : config.exporters) (void)exporter.dump();
  } catch (const runner::shipper::ShipperConfigError& e) {
    for (const auto& line : e.problems())
      if (line.size() > 2048) fail("a problem line over 2048 bytes", line);
  }
  return 0;
}
