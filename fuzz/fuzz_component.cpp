// libFuzzer target for the component parser: the input is a component.json as a user (or a
// queued spec) would give it. It goes through what `runner run`, `runner submit` and the worker
// do with one: read_component_json (the bounded JSON reader), prepare_component (decryption with
// a fixed key, so RUNNER::ENC:: values are tried too, the secret walk, validation). The target
// checks that (1) nothing but ConfigError comes out, (2) every problem line is short (paths and
// values are quoted as excerpts, never whole), and (3) an accepted spec can be dumped (every
// recursive walk over it stays within the depth limit). Built and run by build_and_run_config.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runner/component.hpp"
#include "runner/component_syntax.hpp"
#include "runner/errors.hpp"

namespace {

void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_component: %s: %.300s\n", what, detail.c_str());
  std::abort();
}

runner::secrets::EncryptionKey fixed_key() {
  runner::secrets::EncryptionKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<unsigned char>(i);
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The string validators on the raw input too: any bytes, linear, no crash.
  (void)runner::image_reference_problem(text);
  (void)runner::user_problem(text);
  (void)runner::parse_size(text);
  try {
    const runner::ComponentSpec spec = runner::prepare_component(
        runner::read_component_json(text),
        [] { return std::optional<runner::secrets::EncryptionKey>(fixed_key()); });
    const std::string dumped =
        spec.parameters.dump() + spec.image_parameters.dump() + spec.authorization.dump();
    if (spec.id.empty() || spec.image.empty()) fail("accepted without id or image", text);
    if (runner::image_reference_problem(spec.image)) fail("accepted a bad image", spec.image);
    (void)dumped;
  } catch (const runner::ConfigError& e) {
    if (e.problems().empty()) fail("a ConfigError without a problem", text);
    for (const auto& line : e.problems())
      if (line.size() > 2048) fail("a problem line over 2048 bytes", line);
  }
  return 0;
}
