// Tests of encrypted configuration values: AES-256-GCM roundtrip and every failure mode (with the
// rule that no error message ever shows the value), key files and key lookup order, and the
// configuration walk that decrypts values and collects secrets.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "secrets/config_cipher.hpp"
#include "secrets/encoding.hpp"

namespace fs = std::filesystem;
using runner::secrets::decrypt_and_collect;
using runner::secrets::decrypt_value;
using runner::secrets::encrypt_value;
using runner::secrets::EncryptionKey;
using runner::secrets::find_key;
using runner::secrets::generate_key;
using runner::secrets::is_ciphertext;
using runner::secrets::KeyEnvironment;
using runner::secrets::SecretError;
using Kind = runner::secrets::SecretError::Kind;

namespace {

// A fresh private folder, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "runner-cipher-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets an environment variable for the scope, restoring the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

Kind decrypt_error_kind(const EncryptionKey& key, const std::string& ciphertext,
                        std::string& message) {
  try {
    decrypt_value(key, ciphertext);
  } catch (const SecretError& e) {
    message = e.what();
    return e.reason();
  }
  FAIL("decrypt_value did not throw");
  return Kind::Crypto;
}

std::string body_of(const std::string& ciphertext) {
  return ciphertext.substr(runner::secrets::kCiphertextPrefix.size());
}

}  // namespace

TEST_CASE("cipher: roundtrip, including empty and binary values", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  for (const std::string& plain : {std::string("p4ssw0rd"), std::string(),
                                   std::string("\0\xff\xc3\xa9 x", 5), std::string(10000, 'z')}) {
    const std::string ct = encrypt_value(key, plain);
    CHECK(is_ciphertext(ct));
    CHECK(ct.starts_with("RUNNER::ENC::"));
    CHECK(ct.find(plain.empty() ? "\x01" : plain) == std::string::npos);
    CHECK(decrypt_value(key, ct) == plain);
  }
}

TEST_CASE("cipher: format is prefix + base64(version | nonce | ciphertext | tag)",
          "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  const std::string ct = encrypt_value(key, "hello");
  const auto blob = runner::secrets::base64_decode(body_of(ct));
  REQUIRE(blob);
  CHECK(blob->size() == 1 + 12 + 5 + 16);
  CHECK(static_cast<unsigned char>((*blob)[0]) == 1);
}

TEST_CASE("cipher: same plaintext twice gives different ciphertexts", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  CHECK(encrypt_value(key, "same") != encrypt_value(key, "same"));
}

TEST_CASE("cipher: failures are typed and never show the value", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  const std::string plain = "TopSecretPlaintext";
  const std::string ct = encrypt_value(key, plain);
  std::string message;
  const auto check_clean = [&] {
    CHECK(message.find(plain) == std::string::npos);
    CHECK(message.find(body_of(ct).substr(0, 12)) == std::string::npos);
    CHECK(message.find("cannot decrypt") != std::string::npos);
  };

  SECTION("wrong key") {
    CHECK(decrypt_error_kind(generate_key(), ct, message) == Kind::WrongKeyOrTampered);
    CHECK(message == "cannot decrypt: wrong key or tampered value");
    check_clean();
  }
  SECTION("tampered byte anywhere") {
    const std::string blob = *runner::secrets::base64_decode(body_of(ct));
    for (std::size_t i = 1; i < blob.size(); ++i) {
      std::string bad = blob;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      const std::string tampered =
          std::string(runner::secrets::kCiphertextPrefix) + runner::secrets::base64_encode(bad);
      CHECK(decrypt_error_kind(key, tampered, message) == Kind::WrongKeyOrTampered);
      check_clean();
    }
  }
  SECTION("truncated") {
    CHECK(decrypt_error_kind(key, ct.substr(0, ct.size() - 3), message) == Kind::Truncated);
    check_clean();
    const std::string short_blob =
        std::string(runner::secrets::kCiphertextPrefix) +
        runner::secrets::base64_encode(std::string("\x01") + std::string(20, 'a'));
    CHECK(decrypt_error_kind(key, short_blob, message) == Kind::Truncated);
    CHECK(decrypt_error_kind(key, "RUNNER::ENC::", message) == Kind::Truncated);
    // Cut at a multiple of 4 characters: the tag is gone, GCM rejects it.
    const std::string cut = ct.substr(0, ct.size() - 8);
    const Kind kind = decrypt_error_kind(key, cut, message);
    CHECK((kind == Kind::WrongKeyOrTampered || kind == Kind::Truncated));
  }
  SECTION("bad base64") {
    std::string bad = ct;
    bad[runner::secrets::kCiphertextPrefix.size() + 3] = '!';
    CHECK(decrypt_error_kind(key, bad, message) == Kind::Malformed);
    check_clean();
    CHECK(decrypt_error_kind(key, ct + "\n", message) == Kind::Malformed);
  }
  SECTION("wrong prefix") {
    CHECK(decrypt_error_kind(key, "RUNNER::ENX::" + body_of(ct), message) == Kind::NotCiphertext);
    check_clean();
    CHECK_FALSE(is_ciphertext("runner::enc::" + body_of(ct)));
    CHECK_FALSE(is_ciphertext(plain));
  }
  SECTION("unsupported version") {
    std::string blob = *runner::secrets::base64_decode(body_of(ct));
    blob[0] = 2;
    const std::string v2 =
        std::string(runner::secrets::kCiphertextPrefix) + runner::secrets::base64_encode(blob);
    CHECK(decrypt_error_kind(key, v2, message) == Kind::UnsupportedVersion);
    CHECK(message == "cannot decrypt: unsupported ciphertext version 2");
  }
}

TEST_CASE("key: base64 roundtrip and malformed keys", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  const std::string text = runner::secrets::key_to_base64(key);
  CHECK(text.size() == 44);
  CHECK(runner::secrets::key_from_base64(text).bytes == key.bytes);
  CHECK(runner::secrets::key_from_base64(" " + text + "\n").bytes == key.bytes);
  CHECK(runner::secrets::key_from_base64(text.substr(0, 43)).bytes == key.bytes);  // unpadded
  try {
    runner::secrets::key_from_base64("c2hvcnQta2V5");  // "short-key"
    FAIL("accepted a short key");
  } catch (const SecretError& e) {
    CHECK(e.reason() == Kind::BadKey);
    CHECK(std::string(e.what()).find("c2hvcnQta2V5") == std::string::npos);
  }
}

TEST_CASE("key file: mode 0600, refuses to overwrite, parents 0700", "[secrets][cipher]") {
  TempDir dir;
  const fs::path path = dir.path() / "home" / ".runner" / "secret.key";
  const EncryptionKey key = generate_key();
  runner::secrets::write_key_file(path, key);

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(runner::secrets::read_key_file(path).bytes == key.bytes);

  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == runner::secrets::key_to_base64(key) + "\n");

  try {
    runner::secrets::write_key_file(path, generate_key());
    FAIL("overwrote a key file");
  } catch (const SecretError& e) {
    CHECK(e.reason() == Kind::KeyFileExists);
  }
  CHECK(runner::secrets::read_key_file(path).bytes == key.bytes);  // unchanged

  // Not through a symlink either.
  const fs::path link = dir.path() / "link.key";
  fs::create_symlink(dir.path() / "nowhere", link);
  CHECK_THROWS_AS(runner::secrets::write_key_file(link, key), SecretError);
  CHECK_FALSE(fs::exists(dir.path() / "nowhere"));
}

TEST_CASE("key file: raw 32 bytes are accepted, other content is not", "[secrets][cipher]") {
  TempDir dir;
  const EncryptionKey key = generate_key();
  {
    std::ofstream out(dir.path() / "raw.key", std::ios::binary);
    out.write(reinterpret_cast<const char*>(key.bytes.data()), 32);
    std::ofstream bad(dir.path() / "bad.key");
    bad << "not a key\n";
  }
  CHECK(runner::secrets::read_key_file(dir.path() / "raw.key").bytes == key.bytes);
  try {
    runner::secrets::read_key_file(dir.path() / "bad.key");
    FAIL("accepted a bad key file");
  } catch (const SecretError& e) {
    CHECK(e.reason() == Kind::BadKey);
    CHECK(std::string(e.what()).find("not a key") == std::string::npos);
  }
  CHECK_THROWS_AS(runner::secrets::read_key_file(dir.path() / "missing.key"), SecretError);
}

TEST_CASE("find_key: --key-file, then RUNNER_ENCRYPTION_KEY, then $RUNNER_HOME/secret.key",
          "[secrets][cipher]") {
  TempDir dir;
  const EncryptionKey file_key = generate_key();
  const EncryptionKey env_key = generate_key();
  const EncryptionKey home_key = generate_key();
  const fs::path explicit_file = dir.path() / "explicit.key";
  runner::secrets::write_key_file(explicit_file, file_key);
  runner::secrets::write_key_file(dir.path() / "rh" / "secret.key", home_key);
  runner::secrets::write_key_file(dir.path() / "home" / ".runner" / "secret.key", generate_key());

  KeyEnvironment env;
  env.encryption_key = runner::secrets::key_to_base64(env_key);
  env.runner_home = (dir.path() / "rh").string();
  env.home = (dir.path() / "home").string();

  CHECK(find_key(explicit_file, env)->bytes == file_key.bytes);
  CHECK(find_key(std::nullopt, env)->bytes == env_key.bytes);
  env.encryption_key.reset();
  CHECK(find_key(std::nullopt, env)->bytes == home_key.bytes);
  // RUNNER_HOME defaults to $HOME/.runner.
  env.runner_home.reset();
  CHECK(runner::secrets::runner_home(env) == dir.path() / "home" / ".runner");
  CHECK(runner::secrets::default_key_path(env) == dir.path() / "home" / ".runner" / "secret.key");
  CHECK(find_key(std::nullopt, env).has_value());
  // Nothing anywhere.
  env.home = (dir.path() / "empty-home").string();
  CHECK_FALSE(find_key(std::nullopt, env).has_value());
  env.home.reset();
  CHECK_FALSE(find_key(std::nullopt, env).has_value());
  CHECK_FALSE(runner::secrets::default_key_path(env).has_value());
  // An explicit file that is missing is an error, not a fallback.
  CHECK_THROWS_AS(find_key(dir.path() / "missing.key", env), SecretError);
  // A malformed environment key is an error that does not echo it.
  env.encryption_key = "bm90LWEta2V5";
  try {
    find_key(std::nullopt, env);
    FAIL("accepted a malformed RUNNER_ENCRYPTION_KEY");
  } catch (const SecretError& e) {
    CHECK(e.reason() == Kind::BadKey);
    CHECK(std::string(e.what()).find("RUNNER_ENCRYPTION_KEY") != std::string::npos);
    CHECK(std::string(e.what()).find("bm90LWEta2V5") == std::string::npos);
  }
}

TEST_CASE("find_key reads the process environment", "[secrets][cipher]") {
  TempDir dir;
  const EncryptionKey env_key = generate_key();
  const EncryptionKey home_key = generate_key();
  runner::secrets::write_key_file(dir.path() / "secret.key", home_key);
  {
    ScopedEnv a("RUNNER_ENCRYPTION_KEY", runner::secrets::key_to_base64(env_key));
    ScopedEnv b("RUNNER_HOME", dir.path().string());
    CHECK(find_key(std::nullopt)->bytes == env_key.bytes);
  }
  {
    ScopedEnv a("RUNNER_ENCRYPTION_KEY", std::nullopt);
    ScopedEnv b("RUNNER_HOME", dir.path().string());
    CHECK(find_key(std::nullopt)->bytes == home_key.bytes);
  }
  {
    ScopedEnv a("RUNNER_ENCRYPTION_KEY", std::string());  // empty counts as unset
    ScopedEnv b("RUNNER_HOME", std::nullopt);
    ScopedEnv c("HOME", (dir.path() / "nohome").string());
    CHECK_FALSE(find_key(std::nullopt).has_value());
  }
}

TEST_CASE("decrypt_and_collect: decrypts in place and collects secrets", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  nlohmann::json doc = {
      {"parameters",
       {{"#password", encrypt_value(key, "db-pass")},
        {"#plain", "not-encrypted-secret"},
        {"user", "alice"},
        {"nested",
         {{"#token", encrypt_value(key, "tok-123")},
          {"list", {encrypt_value(key, "in-array"), "x"}}}},
        {"#list", {"a1", 42, true, nullptr, {{"deep", "d1"}}}},
        {"#pin", 1234},
        {"#empty", ""}}},
      {"authorization", {{"oauth", {{"#refresh", "r-tok"}}}}},
      {"image_parameters", {{"endpoint", encrypt_value(key, "https://secret.example")}}},
  };
  const auto result = decrypt_and_collect(doc, key);
  CHECK(result.ok());
  CHECK(doc["parameters"]["#password"] == "db-pass");
  CHECK(doc["parameters"]["nested"]["#token"] == "tok-123");
  CHECK(doc["parameters"]["nested"]["list"][0] == "in-array");
  CHECK(doc["image_parameters"]["endpoint"] == "https://secret.example");
  CHECK(doc["parameters"]["#pin"] == 1234);
  const auto has = [&](const std::string& s) {
    return std::find(result.secrets.begin(), result.secrets.end(), s) != result.secrets.end();
  };
  for (const char* s : {"db-pass", "not-encrypted-secret", "tok-123", "in-array", "a1", "42", "d1",
                        "1234", "r-tok", "https://secret.example"}) {
    INFO(s);
    CHECK(has(s));
  }
  CHECK_FALSE(has("alice"));
  CHECK_FALSE(has("x"));
  CHECK_FALSE(has("true"));
  CHECK_FALSE(has(""));
  CHECK(result.secrets.size() == 10);
}

TEST_CASE("decrypt_and_collect: errors name the JSON path, never the value", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  const std::string good = encrypt_value(key, "good-one");
  const std::string wrong = encrypt_value(generate_key(), "wrong-key-plain");
  std::string tampered = good;
  tampered[tampered.size() - 6] = tampered[tampered.size() - 6] == 'A' ? 'B' : 'A';
  nlohmann::json doc = {{"parameters",
                         {{"#password", wrong},
                          {"ok", good},
                          {"list", {"x", tampered}},
                          {"odd key", "RUNNER::ENC::@@@"}}}};
  const auto result = decrypt_and_collect(doc, key);
  REQUIRE(result.errors.size() == 3);
  const std::string all = result.errors[0] + "\n" + result.errors[1] + "\n" + result.errors[2];
  CHECK(all.find("$.parameters.#password: cannot decrypt: wrong key or tampered value") !=
        std::string::npos);
  CHECK(all.find("$.parameters.list[1]: cannot decrypt: wrong key or tampered value") !=
        std::string::npos);
  CHECK(all.find("$.parameters[\"odd key\"]: cannot decrypt: value is not valid base64") !=
        std::string::npos);
  CHECK(all.find("wrong-key-plain") == std::string::npos);
  CHECK(all.find(body_of(wrong).substr(0, 10)) == std::string::npos);
  CHECK(all.find("good-one") == std::string::npos);
  // The good value is still decrypted and collected.
  CHECK(doc["parameters"]["ok"] == "good-one");
  CHECK(std::find(result.secrets.begin(), result.secrets.end(), "good-one") !=
        result.secrets.end());
}

TEST_CASE("decrypt_and_collect: no key", "[secrets][cipher]") {
  const EncryptionKey key = generate_key();
  nlohmann::json doc = {{"parameters", {{"#a", encrypt_value(key, "v")}, {"#b", "plain"}}}};
  const auto result = decrypt_and_collect(doc, std::nullopt);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].starts_with("$.parameters.#a: cannot decrypt: no encryption key found"));
  CHECK(result.secrets == std::vector<std::string>{"plain"});
  // A configuration without ciphertexts needs no key.
  nlohmann::json plain_doc = {{"parameters", {{"#b", "plain"}}}};
  CHECK(decrypt_and_collect(plain_doc, std::nullopt).ok());
}
