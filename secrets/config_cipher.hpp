// Encrypted configuration values: a key file or environment key, AES-256-GCM encryption of single
// values into printable ciphertexts that can sit in component.json, and the walk over a
// configuration that decrypts them and collects every secret for the scrubber.
//
// Ciphertext format (version 1):
//     "RUNNER::ENC::" base64( version | nonce | ciphertext | tag )
//   - prefix: the 13 ASCII characters RUNNER::ENC:: (kCiphertextPrefix);
//   - base64: standard alphabet, '=' padding, no line breaks;
//   - version: one byte, 0x01;
//   - nonce: 12 random bytes (RAND_bytes), fresh for every encryption, so encrypting the same value
//     twice gives different ciphertexts;
//   - ciphertext: AES-256-GCM of the UTF-8 (or any) bytes of the value, as long as the value;
//   - tag: 16-byte GCM tag. The version byte is authenticated as additional data.
// AES-GCM was chosen because it is authenticated (a wrong key and any tampering are detected, never
// decrypted to garbage) and is in every OpenSSL; a random 96-bit nonce is safe for far more values
// than one key will ever encrypt here.
//
// Key lookup (find_key), first match wins:
//   1. the --key-file path given on the command line (must exist and hold a key);
//   2. the environment variable RUNNER_ENCRYPTION_KEY: base64 of the 32 key bytes;
//   3. the file $RUNNER_HOME/secret.key, where RUNNER_HOME defaults to $HOME/.runner.
// A key file holds the base64 of the 32 key bytes and a newline (what `runner keygen` writes), or
// the 32 raw bytes. Error messages name files and variables, never key material.
#pragma once

#include "common/error.hpp"

#include <array>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace runner::secrets {

inline constexpr std::string_view kCiphertextPrefix = "RUNNER::ENC::";
inline constexpr unsigned char kCiphertextVersion = 1;
inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;

struct EncryptionKey {
  std::array<unsigned char, kKeySize> bytes{};
};

// Why a key or value could not be used. what() never contains a key, ciphertext or plaintext.
class SecretError : public Error {
 public:
  enum class Kind {
    NoKey,               // no key found where one is needed
    BadKey,              // a key file or RUNNER_ENCRYPTION_KEY that does not hold 32 bytes
    KeyFileExists,       // write_key_file refuses to overwrite
    Io,                  // reading or writing a key file failed
    NotCiphertext,       // the value does not start with kCiphertextPrefix
    Malformed,           // not valid base64 after the prefix
    Truncated,           // too short to hold version, nonce and tag
    UnsupportedVersion,  // a version byte this build does not know
    WrongKeyOrTampered,  // GCM authentication failed
    Crypto,              // OpenSSL failure (out of memory, no randomness)
  };
  // Of kind invalid_config: a key or a value in a file the user gave is wrong.
  SecretError(Kind reason, const std::string& message)
      : Error(ErrorKind::invalid_config, message), reason_(reason) {}
  Kind reason() const { return reason_; }

 private:
  Kind reason_;
};

EncryptionKey generate_key();  // 32 bytes from RAND_bytes
std::string key_to_base64(const EncryptionKey& key);
// Accepts standard base64 of exactly 32 bytes, padding optional, surrounding whitespace ignored.
EncryptionKey key_from_base64(std::string_view text);  // throws SecretError(BadKey)

// The variables find_key consults, so that tests and callers can supply them without touching
// the process environment. from_process() reads RUNNER_ENCRYPTION_KEY, RUNNER_HOME and HOME
// (an empty variable counts as unset).
struct KeyEnvironment {
  std::optional<std::string> encryption_key;  // RUNNER_ENCRYPTION_KEY
  std::optional<std::string> runner_home;     // RUNNER_HOME
  std::optional<std::string> home;            // HOME
  static KeyEnvironment from_process();
};

// $RUNNER_HOME, or $HOME/.runner when RUNNER_HOME is unset; nullopt when neither is set.
std::optional<std::filesystem::path> runner_home(
    const KeyEnvironment& env = KeyEnvironment::from_process());
// runner_home()/secret.key: where `runner keygen` writes without --key-file.
std::optional<std::filesystem::path> default_key_path(
    const KeyEnvironment& env = KeyEnvironment::from_process());

// Creates `path` with mode 0600 (missing parent folders are created with mode 0700) holding the
// key's base64 and a newline. Throws SecretError(KeyFileExists) if anything exists at `path`
// (never overwrites, does not follow a symlink there), SecretError(Io) on other failures.
void write_key_file(const std::filesystem::path& path, const EncryptionKey& key);
EncryptionKey read_key_file(const std::filesystem::path& path);  // throws SecretError(Io/BadKey)

// Finds the key in the order documented above. Returns nullopt if there is none; throws
// SecretError if the explicit key file is missing or unreadable, or a key found is malformed.
std::optional<EncryptionKey> find_key(const std::optional<std::filesystem::path>& key_file);
std::optional<EncryptionKey> find_key(const std::optional<std::filesystem::path>& key_file,
                                      const KeyEnvironment& env);

std::string encrypt_value(const EncryptionKey& key, std::string_view plaintext);
bool is_ciphertext(std::string_view value);  // starts with kCiphertextPrefix
// Throws SecretError (NotCiphertext, Malformed, Truncated, UnsupportedVersion, WrongKeyOrTampered).
std::string decrypt_value(const EncryptionKey& key, std::string_view ciphertext);

// Result of decrypt_and_collect.
struct DecryptResult {
  // Every secret, deduplicated, in document order: each decrypted value, and every string under a
  // key starting with '#' at any depth (inside nested objects and arrays too), encrypted or not.
  // A number under such a key counts by its JSON text (e.g. "1234"); true, false and null do not.
  std::vector<std::string> secrets;
  // One line per value that could not be decrypted, "<JSON path>: <reason>", e.g.
  // "$.parameters.#password: cannot decrypt: wrong key or tampered value". Never the value.
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// Decrypts, in place, every string value of `doc` that is a ciphertext, and collects secrets.
// Values that fail stay as they were and are reported in `errors`; with no key every ciphertext
// fails with "cannot decrypt: no encryption key found (...)". Object keys are never decrypted.
DecryptResult decrypt_and_collect(nlohmann::json& doc, const std::optional<EncryptionKey>& key);

// "$.a.b[2]" style path used in error messages; keys outside [A-Za-z0-9_#@$-] are written as
// ["key with spaces"]; keys longer than 40 bytes are shortened with "...".
std::string json_path_child(const std::string& parent, const std::string& key);

}  // namespace runner::secrets
