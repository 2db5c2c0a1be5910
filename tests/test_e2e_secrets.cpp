// End-to-end secrets: encrypted values in component.json, and no form of any secret in the
// terminal output, the JSON Lines file or the result, however slowly the component prints it.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "engine_proxy.hpp"
#include "secrets/config_cipher.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using nlohmann::json;
using runner_test::read_file;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

std::string base64(const std::string& in, bool url) {
  static const char* std_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += std_alphabet[(v >> k) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += std_alphabet[(v >> 18) & 63];
    out += std_alphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? std_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  if (url)
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string url_encode(const std::string& in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> forms_of(const std::string& secret) {
  const std::string json_escaped = json(secret).dump().substr(1, json(secret).dump().size() - 2);
  return {secret, json_escaped, base64(secret, false), base64(secret, true), url_encode(secret)};
}

// A shell script printing `text` one byte at a time (octal printf escapes), 3 ms apart.
std::string slow_print(const std::string& text, const std::string& redirect) {
  std::string script;
  for (unsigned char c : text) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "\\%03o", c);
    script += "printf '" + std::string(octal) + "'" + redirect + "; usleep 3000; ";
  }
  return script;
}

}  // namespace

TEST_CASE("secrets printed byte by byte in every form never reach any output", "[e2e][secrets]") {
  const std::string key_file =
      std::filesystem::temp_directory_path() / ("runner-e2e-key-" + std::to_string(::getpid()));
  std::filesystem::remove(key_file);
  REQUIRE(run_cli({"keygen", "--key-file", key_file}).exit_code == 0);
  CHECK((std::filesystem::status(key_file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));

  const std::string password = "p@ss/w\xC3\xB6rd\"+x?";
  const std::string token = "tok-9f8e7d6c5b4a";
  const std::string plain_param = "hunter2-unencrypted";
  auto enc = run_cli({"encrypt", "--key-file", key_file, password});
  REQUIRE(enc.exit_code == 0);
  std::string ciphertext = enc.out.substr(0, enc.out.find('\n'));
  REQUIRE(ciphertext.rfind("RUNNER::ENC::", 0) == 0);

  std::string script;
  std::vector<std::string> all_forms;
  for (const auto& secret : {password, token, plain_param}) {
    for (const auto& form : forms_of(secret)) {
      all_forms.push_back(form);
      script += slow_print("out:" + form + "\n", "") + slow_print("err:" + form + "\n", " >&2");
    }
  }
  script += "echo \"failed to log in with $API_TOKEN\" >&2; exit 1";
  const json doc = {{"id", "test.e2e-secrets"},
                    {"image", "runner-busybox:latest"},
                    {"command", {"sh", "-c", script}},
                    {"env", {{"#API_TOKEN", token}}},
                    {"parameters", {{"#password", ciphertext}, {"#plain", plain_param}}}};
  const std::string file = temp_file(doc.dump());
  const std::string events_path = temp_file("", ".jsonl");
  auto r = run_cli({"run", file, "--key-file", key_file, "--events", events_path});
  CHECK(r.exit_code == 1);
  const std::string jsonl = read_file(events_path);
  const auto events = runner_test::read_json_lines(events_path);
  REQUIRE(!events.empty());
  const json result = events.back();
  for (const auto& form : all_forms) {
    INFO("form: " << form);
    CHECK(r.out.find(form) == std::string::npos);
    CHECK(r.err.find(form) == std::string::npos);
    CHECK(jsonl.find(form) == std::string::npos);
    CHECK(result.dump().find(form) == std::string::npos);
  }
  CHECK(jsonl.find(ciphertext) == std::string::npos);
  // What is not secret still arrives: 15 stdout lines "out:[hidden]" and the stderr event.
  int hidden_lines = 0;
  for (const auto& e : events)
    if (e["kind"] == "event" && e["source"] == "stdout" && e["message"] == "out:[hidden]")
      ++hidden_lines;
  CHECK(hidden_lines == 15);
  CHECK(result["message"].get<std::string>().find("failed to log in with [hidden]") !=
        std::string::npos);
  CHECK_THAT(r.out, Catch::Contains("failed to log in with [hidden]"));
  std::filesystem::remove(events_path);
  std::filesystem::remove(key_file);
}

TEST_CASE("a wrong key, a tampered value or no key: exit 65, no value shown, no container",
          "[e2e][secrets]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("runner-e2e-keys-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  REQUIRE(run_cli({"keygen", "--key-file", dir + "/a.key"}).exit_code == 0);
  REQUIRE(run_cli({"keygen", "--key-file", dir + "/b.key"}).exit_code == 0);
  CHECK(run_cli({"keygen", "--key-file", dir + "/a.key"}).exit_code == 64);  // never overwrites
  const std::string secret = "correct horse battery staple";
  const std::string ciphertext =
      run_cli({"encrypt", "--key-file", dir + "/a.key", secret}).out.substr(0, 70);
  const std::string full = run_cli({"encrypt", "--key-file", dir + "/a.key", secret}).out;
  const std::string c = full.substr(0, full.find('\n'));
  // Two encryptions of one value differ.
  CHECK(c.substr(0, 40) != ciphertext.substr(0, 40));

  std::string tampered = c;
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  struct Case {
    std::string value;
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {c, {"--key-file", dir + "/b.key"}, "$.parameters.#db.#password: cannot decrypt"},
      {tampered, {"--key-file", dir + "/a.key"}, "$.parameters.#db.#password: cannot decrypt"},
      {c.substr(0, 30), {"--key-file", dir + "/a.key"}, "$.parameters.#db.#password:"},
      {c, {}, "no encryption key found"},
  };
  // Nothing runs: the component would leave /data/out/ran in --data-dir, and the proxy in front
  // of the engine shows runner never asked for a container.
  runner_test::EngineProxy engine;
  for (const auto& k : cases) {
    const json doc = {{"id", "test.e2e-wrong-key"},
                      {"image", "runner-busybox:latest"},
                      {"command", {"sh", "-c", "touch /data/out/ran"}},
                      {"parameters", {{"#db", {{"#password", k.value}}}}}};
    const std::string data = dir + "/data";
    std::filesystem::create_directories(data);
    std::vector<std::string> args = {"run", temp_file(doc.dump()), "--data-dir",
                                     data,  "--docker-host",       engine.docker_host()};
    args.insert(args.end(), k.args.begin(), k.args.end());
    auto r = run_cli(args, {{"RUNNER_HOME", dir + "/empty-home"}});
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK_THAT(r.err, Catch::Contains(k.expected));
    CHECK(r.err.find(secret) == std::string::npos);
    CHECK(r.err.find(k.value.substr(13)) == std::string::npos);
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK(std::filesystem::is_empty(data));  // no marker, no config.json
  }
  CHECK(engine.count("POST", "/containers/create") == 0);
  CHECK(engine.requests().empty());

  // The key can also come from RUNNER_ENCRYPTION_KEY or $RUNNER_HOME/secret.key.
  const json ok_doc = {{"id", "test.e2e-key-env"},
                       {"image", "runner-busybox:latest"},
                       {"command", {"sh", "-c", "grep -c 'correct horse' /data/config.json"}},
                       {"parameters", {{"#password", c}}}};
  const std::string ok_file = temp_file(ok_doc.dump());
  std::filesystem::create_directories(dir + "/home");
  std::filesystem::copy_file(dir + "/a.key", dir + "/home/secret.key");
  auto via_home = run_cli({"run", ok_file}, {{"RUNNER_HOME", dir + "/home"}});
  CHECK(via_home.exit_code == 0);
  CHECK_THAT(via_home.out, Catch::Contains("INFO      1"));
  std::string key_b64 = read_file(dir + "/a.key");
  key_b64 = key_b64.substr(0, key_b64.find('\n'));
  auto via_env = run_cli(
      {"run", ok_file}, {{"RUNNER_ENCRYPTION_KEY", key_b64}, {"RUNNER_HOME", dir + "/empty-home"}});
  CHECK(via_env.exit_code == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the plaintext configuration lives only in the private working folder",
          "[e2e][secrets]") {
  const json doc = {{"id", "test.e2e-keep"},
                    {"image", "runner-busybox:latest"},
                    {"command", {"sh", "-c", "echo ready; sleep 1"}},
                    {"parameters", {{"#password", "plain-secret-value"}}}};
  const std::string file = temp_file(doc.dump());
  // A TMPDIR of its own: the job's private folder is the only thing made there.
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("runner-e2e-plain-" + std::to_string(::getpid()));
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  auto check_private = [](const std::filesystem::path& folder) {
    struct stat st {};
    REQUIRE(::stat(folder.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat((folder / "data/config.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_file(folder / "data/config.json").find("plain-secret-value") != std::string::npos);
  };
  auto entries = [&] {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(tmp)) out.push_back(e.path());
    return out;
  };
  {
    // Without --keep-data: the decrypted configuration exists while the job runs, then the
    // folder is gone.
    runner_test::CliProcess run({"run", file, "--store", "none"}, {{"TMPDIR", tmp.string()}});
    REQUIRE(run.wait_for_output("ready"));
    const auto during = entries();
    REQUIRE(during.size() == 1);
    check_private(during[0]);
    CHECK(run.wait() == 0);
    CHECK(entries().empty());
    CHECK(run.out().find("plain-secret-value") == std::string::npos);
  }
  const std::string events_path = temp_file("", ".jsonl");
  auto r = run_cli({"run", file, "--keep-data", "--events", events_path, "--store", "none"},
                   {{"TMPDIR", tmp.string()}});
  REQUIRE(r.exit_code == 0);
  std::string folder;
  for (const auto& e : runner_test::read_json_lines(events_path)) {
    if (e["kind"] != "event") continue;
    const std::string m = e["message"];
    const auto at = m.find("Working folder ");
    if (at != std::string::npos) folder = m.substr(at + 15, m.find(' ', at + 15) - at - 15);
  }
  REQUIRE(!folder.empty());
  const auto kept = entries();
  REQUIRE(kept.size() == 1);
  CHECK(kept[0] == folder);
  check_private(folder);
  // Kept on purpose: no owner file, so `runner gc` leaves it alone.
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(folder) / "owner.pid"));
  std::filesystem::remove_all(tmp);
  std::filesystem::remove(events_path);
}

TEST_CASE("runner's own messages are scrubbed too, and short secrets are warned about",
          "[e2e][secrets]") {
  // The engine's start error quotes the command, which holds the secret.
  const json doc = {{"id", "test.e2e-engine-error"},
                    {"image", "runner-busybox:latest"},
                    {"command", {"/no/such/binary-s3cr3t-t0ken"}},
                    {"parameters", {{"#token", "s3cr3t-t0ken"}, {"#pin", "7"}}}};
  const std::string events_path = temp_file("", ".jsonl");
  auto r = run_cli({"run", temp_file(doc.dump()), "--events", events_path});
  CHECK(r.exit_code == 1);
  const auto events = runner_test::read_json_lines(events_path);
  REQUIRE(!events.empty());
  const std::string message = events.back()["message"];
  CHECK_THAT(message, Catch::Contains("binary-[hidden]"));
  CHECK(read_file(events_path).find("s3cr3t-t0ken") == std::string::npos);
  CHECK(r.out.find("s3cr3t-t0ken") == std::string::npos);
  bool warned = false;
  for (const auto& e : events)
    warned = warned ||
             (e["kind"] == "event" && e["level"] == "warning" &&
              e["message"].get<std::string>().find("only 1 or 2 characters") != std::string::npos);
  CHECK(warned);
  std::filesystem::remove(events_path);
}
