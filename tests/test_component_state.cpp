// Keboola's state (runner/component_state.hpp) without an engine: '#' values encrypted and
// counted at any depth, and a StatePhase against a real SQLite store: {} first, the saved state
// next, a removal, invalid JSON refused naming the file, a debug run saving nothing.
#include "runner/component_state.hpp"

#include "runner/errors.hpp"
#include "secrets/config_cipher.hpp"
#include "store/store.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace {
struct Folder {
  fs::path path =
      fs::temp_directory_path() / ("runner-state-unit-" + std::to_string(std::random_device{}()));
  Folder() { fs::create_directories(path); }
  ~Folder() { fs::remove_all(path); }
};
constexpr const char* kJob = "0190aaaa-0000-7000-8000-000000000001";
}  // namespace

TEST_CASE("state: '#' values at any depth are encrypted once, others stay", "[runner][state]") {
  const auto key = runner::secrets::generate_key();
  nlohmann::json doc = {{"#token", "t1"},
                        {"plain", "p"},
                        {"nested", {{"#pw", "t2"}, {"list", {"a", {{"#k", "t3"}}}}}},
                        {"#obj", {{"inner", "t4"}}},
                        {"#n", 5}};
  CHECK(runner::count_clear_secret_values(doc) == 4);
  CHECK(runner::encrypt_secret_values(doc, key) == 4);
  CHECK(runner::secrets::is_ciphertext(doc["#token"].get<std::string>()));
  CHECK(runner::secrets::is_ciphertext(doc["nested"]["list"][1]["#k"].get<std::string>()));
  CHECK(runner::secrets::is_ciphertext(doc["#obj"]["inner"].get<std::string>()));
  CHECK(doc["plain"] == "p");
  CHECK(doc["#n"] == 5);
  CHECK(runner::count_clear_secret_values(doc) == 0);
  CHECK(runner::encrypt_secret_values(doc, key) == 0);  // never twice
  const auto back = runner::secrets::decrypt_and_collect(doc, key);
  CHECK(back.ok());
  CHECK(doc["#token"] == "t1");
}

TEST_CASE("state: a StatePhase reads {} first, then what the last successful run saved",
          "[runner][state]") {
  Folder home;
  auto db = runner::store::open_store("sqlite:" + (home.path / "runner.db").string());
  runner::logging::EventLog events(kJob);
  const auto key = runner::secrets::generate_key();
  runner::StateOptions options;
  options.store = db.get();
  options.find_key = [&] { return std::optional<runner::secrets::EncryptionKey>(key); };
  const runner::store::StateKey state_key{"c", "cfg", ""};
  const nlohmann::json config = {{"parameters", nlohmann::json::object()}};
  const runner::ContainerUser root = runner::resolve_container_user("", std::string());
  auto run_once = [&](const std::string& out_state, runner::StateOptions opts) {
    runner::StatePhase phase(opts, state_key, events);
    phase.load();
    const runner::JobWorkspace ws(kJob, std::nullopt, false, config, root);
    phase.write_input(ws);
    std::ifstream in(ws.data_dir() / "in/state.json");
    std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!out_state.empty()) std::ofstream(ws.data_dir() / "out/state.json") << out_state;
    std::vector<std::string> found;
    const auto change = phase.save(ws, found);
    return std::make_tuple(input, change, found, phase.secrets());
  };
  auto [first, change1, found1, secrets1] = run_once(R"({"#t": "s3", "n": 1})", options);
  CHECK(first == "{}\n");
  CHECK(change1 == runner::StateChange::saved);
  CHECK(found1 == std::vector<std::string>{"s3"});
  // Stored encrypted.
  const auto stored = db->read_state(state_key);
  REQUIRE(stored);
  CHECK(stored->state.find("s3") == std::string::npos);
  auto [second, change2, found2, secrets2] = run_once("", options);
  CHECK(second == "{\"#t\":\"s3\",\"n\":1}\n");  // decrypted for the run
  CHECK(secrets2 == std::vector<std::string>{"s3"});
  CHECK(change2 == runner::StateChange::removed);  // no out file
  CHECK_FALSE(db->read_state(state_key));
  // Invalid JSON names the file; a debug run saves nothing.
  {
    runner::StatePhase phase(options, state_key, events);
    phase.load();
    const runner::JobWorkspace ws(kJob, std::nullopt, false, config, root);
    std::ofstream(ws.data_dir() / "out/state.json") << "{\"a\": ";
    std::vector<std::string> found;
    CHECK_THROWS_WITH(phase.save(ws, found),
                      Catch::StartsWith("/data/out/state.json is not valid JSON"));
  }
  auto debug = options;
  debug.save = false;
  auto [third, change3, found3, secrets3] = run_once(R"({"x": 1})", debug);
  CHECK(change3 == runner::StateChange::none);
  CHECK_FALSE(db->read_state(state_key));
}
