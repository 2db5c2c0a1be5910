// AES-256-GCM value encryption through OpenSSL EVP, key files and key lookup, and the configuration
// walk that decrypts values and collects secrets. Format and lookup order: config_cipher.hpp.
#include "secrets/config_cipher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "secrets/encoding.hpp"

namespace runner::secrets {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

CipherCtx new_cipher_ctx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw SecretError(SecretError::Kind::Crypto, "cannot create an OpenSSL cipher context");
  return ctx;
}

// Closes a file descriptor on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Wipes a string's bytes when it goes out of scope (plaintext and key material in temporaries).
class Wiped {
 public:
  explicit Wiped(std::string& s) : s_(s) {}
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() {
    if (armed_ && !s_.empty()) OPENSSL_cleanse(s_.data(), s_.size());
  }
  void dismiss() { armed_ = false; }

 private:
  std::string& s_;
  bool armed_ = true;
};

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::string> get_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The configuration walk is iterative (an explicit stack, children pushed in reverse so they are
// visited in document order): a configuration is outside input, and a recursive walk would need
// one stack frame per level. Paths are built only for the lines that report a problem, from a
// trail of (parent, key or index) steps, so deep documents cost no path copying per node.
struct PathStep {
  std::size_t parent;      // index into the trail; kRoot for the document itself
  const std::string* key;  // set when the parent is an object
  std::size_t index;       // when the parent is an array
};
constexpr std::size_t kRoot = static_cast<std::size_t>(-1);

std::string path_of(const std::vector<PathStep>& trail, std::size_t step) {
  std::vector<std::size_t> chain;
  for (std::size_t s = step; s != kRoot; s = trail[s].parent) chain.push_back(s);
  std::string path = "$";
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const PathStep& p = trail[*it];
    if (p.parent == kRoot) continue;  // the root step itself
    path = p.key != nullptr ? json_path_child(path, *p.key)
                            : path + "[" + std::to_string(p.index) + "]";
  }
  // A path hundreds of levels deep is mostly repetition: its start and end say where it is.
  if (path.size() > 200) {
    std::size_t head = 120, tail = path.size() - 60;
    while (head > 0 && (static_cast<unsigned char>(path[head]) & 0xC0) == 0x80) --head;
    while (tail < path.size() && (static_cast<unsigned char>(path[tail]) & 0xC0) == 0x80) ++tail;
    path = path.substr(0, head) + "..." + path.substr(tail);
  }
  return path;
}

class SecretCollector {
 public:
  explicit SecretCollector(std::vector<std::string>& out) : out_(out) {}
  void add(std::string value) {
    if (value.empty() || !seen_.insert(value).second) return;
    out_.push_back(std::move(value));
  }

 private:
  std::vector<std::string>& out_;
  std::unordered_set<std::string> seen_;
};

void walk_config(nlohmann::json& doc, const std::optional<EncryptionKey>& key,
                 DecryptResult& result) {
  SecretCollector secrets(result.secrets);
  struct Pending {
    nlohmann::json* node;
    std::size_t step;
    bool secret_subtree;
  };
  std::vector<PathStep> trail = {{kRoot, nullptr, 0}};
  std::vector<Pending> pending = {{&doc, 0, false}};
  while (!pending.empty()) {
    const Pending current = pending.back();
    pending.pop_back();
    nlohmann::json& node = *current.node;
    if (node.is_object()) {
      for (auto it = node.rbegin(); it != node.rend(); ++it) {
        const std::string& name = it.key();
        trail.push_back({current.step, &name, 0});
        pending.push_back({&it.value(), trail.size() - 1,
                           current.secret_subtree || (!name.empty() && name[0] == '#')});
      }
    } else if (node.is_array()) {
      for (std::size_t i = node.size(); i-- > 0;) {
        trail.push_back({current.step, nullptr, i});
        pending.push_back({&node[i], trail.size() - 1, current.secret_subtree});
      }
    } else if (node.is_string()) {
      auto& value = node.get_ref<std::string&>();
      if (is_ciphertext(value)) {
        if (!key) {
          result.errors.push_back(path_of(trail, current.step) +
                                  ": cannot decrypt: no encryption key found (give --key-file, set "
                                  "RUNNER_ENCRYPTION_KEY, or create $RUNNER_HOME/secret.key with "
                                  "`runner keygen`)");
          continue;
        }
        try {
          std::string plain = decrypt_value(*key, value);
          secrets.add(plain);
          value = std::move(plain);
        } catch (const SecretError& e) {
          result.errors.push_back(path_of(trail, current.step) + ": " + e.what());
        }
      } else if (current.secret_subtree) {
        secrets.add(value);
      }
    } else if (current.secret_subtree && node.is_number()) {
      secrets.add(node.dump());
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Keys

EncryptionKey generate_key() {
  EncryptionKey key;
  if (RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1) {
    throw SecretError(SecretError::Kind::Crypto, "cannot generate a key: no randomness available");
  }
  return key;
}

std::string key_to_base64(const EncryptionKey& key) {
  return base64_encode(
      std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
}

EncryptionKey key_from_base64(std::string_view text) {
  auto decoded = base64_decode(trim(text), Base64Alphabet::Standard, false);
  if (!decoded || decoded->size() != kKeySize) {
    if (decoded) OPENSSL_cleanse(decoded->data(), decoded->size());
    throw SecretError(SecretError::Kind::BadKey, "not the base64 of a 32-byte key");
  }
  Wiped wipe(*decoded);
  EncryptionKey key;
  std::memcpy(key.bytes.data(), decoded->data(), kKeySize);
  return key;
}

KeyEnvironment KeyEnvironment::from_process() {
  return KeyEnvironment{get_env("RUNNER_ENCRYPTION_KEY"), get_env("RUNNER_HOME"), get_env("HOME")};
}

std::optional<std::filesystem::path> runner_home(const KeyEnvironment& env) {
  if (env.runner_home && !env.runner_home->empty()) return std::filesystem::path(*env.runner_home);
  if (env.home && !env.home->empty()) return std::filesystem::path(*env.home) / ".runner";
  return std::nullopt;
}

std::optional<std::filesystem::path> default_key_path(const KeyEnvironment& env) {
  auto home = runner_home(env);
  if (!home) return std::nullopt;
  return *home / "secret.key";
}

void write_key_file(const std::filesystem::path& path, const EncryptionKey& key) {
  const auto fail = [&](const std::string& what, int err) {
    throw SecretError(SecretError::Kind::Io, "cannot write key file " + path.string() + ": " +
                                                 what + ": " + std::strerror(err));
  };
  const std::filesystem::path parent = path.parent_path();
  if (!parent.empty()) {
    // Create only the missing folders, each private to the user.
    std::vector<std::filesystem::path> missing;
    for (auto p = parent; !p.empty() && !std::filesystem::exists(p); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
        fail("cannot create " + it->string(), errno);
    }
  }
  FileDescriptor fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) {
      throw SecretError(SecretError::Kind::KeyFileExists,
                        "key file " + path.string() + " already exists; refusing to overwrite it");
    }
    fail("cannot create it", errno);
  }
  if (::fchmod(fd.get(), 0600) != 0) fail("chmod 0600", errno);
  std::string text = key_to_base64(key) + "\n";
  Wiped wipe(text);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync", errno);
  if (::close(fd.release()) != 0) fail("close", errno);
}

EncryptionKey read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw SecretError(SecretError::Kind::Io,
                      "cannot read key file " + path.string() + ": " + std::strerror(errno));
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Wiped wipe(content);
  if (auto decoded = base64_decode(trim(content), Base64Alphabet::Standard, false)) {
    Wiped wipe_decoded(*decoded);
    if (decoded->size() == kKeySize) {
      EncryptionKey key;
      std::memcpy(key.bytes.data(), decoded->data(), kKeySize);
      return key;
    }
  }
  if (content.size() == kKeySize) {
    EncryptionKey key;
    std::memcpy(key.bytes.data(), content.data(), kKeySize);
    return key;
  }
  throw SecretError(SecretError::Kind::BadKey,
                    "key file " + path.string() + " does not hold a 32-byte key (base64 or raw)");
}

std::optional<EncryptionKey> find_key(const std::optional<std::filesystem::path>& key_file) {
  return find_key(key_file, KeyEnvironment::from_process());
}

std::optional<EncryptionKey> find_key(const std::optional<std::filesystem::path>& key_file,
                                      const KeyEnvironment& env) {
  if (key_file) return read_key_file(*key_file);
  if (env.encryption_key) {
    try {
      return key_from_base64(*env.encryption_key);
    } catch (const SecretError&) {
      throw SecretError(SecretError::Kind::BadKey,
                        "RUNNER_ENCRYPTION_KEY is not the base64 of a 32-byte key");
    }
  }
  const auto path = default_key_path(env);
  if (!path) return std::nullopt;
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec)) return std::nullopt;
  return read_key_file(*path);
}

// ---------------------------------------------------------------------------------------------
// Values

bool is_ciphertext(std::string_view value) {
  return value.starts_with(kCiphertextPrefix);
}

std::string encrypt_value(const EncryptionKey& key, std::string_view plaintext) {
  const auto crypto_error = [] {
    return SecretError(SecretError::Kind::Crypto, "cannot encrypt: OpenSSL AES-256-GCM failed");
  };
  std::string blob(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(blob.data());
  out[0] = kCiphertextVersion;
  unsigned char* nonce = out + 1;
  unsigned char* body = nonce + kNonceSize;
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) throw crypto_error();

  CipherCtx ctx = new_cipher_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, out, 1) != 1) {  // version byte as AAD
    throw crypto_error();
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), body, &len, bytes_of(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      throw crypto_error();
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), body + written, &len) != 1) throw crypto_error();
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          body + written) != 1) {
    throw crypto_error();
  }
  return std::string(kCiphertextPrefix) + base64_encode(blob);
}

std::string decrypt_value(const EncryptionKey& key, std::string_view ciphertext) {
  using Kind = SecretError::Kind;
  if (!is_ciphertext(ciphertext)) {
    throw SecretError(Kind::NotCiphertext, "cannot decrypt: not an encrypted value (no " +
                                               std::string(kCiphertextPrefix) + " prefix)");
  }
  const std::string_view text = ciphertext.substr(kCiphertextPrefix.size());
  auto blob = base64_decode(text, Base64Alphabet::Standard, true);
  if (!blob) {
    // Only base64 characters but a length that is not a multiple of 4: the value was cut short.
    const bool alphabet_only =
        text.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
        std::string_view::npos;
    if (text.size() % 4 != 0 && alphabet_only) {
      throw SecretError(Kind::Truncated, "cannot decrypt: value is truncated");
    }
    throw SecretError(Kind::Malformed, "cannot decrypt: value is not valid base64");
  }
  if (blob->empty()) throw SecretError(Kind::Truncated, "cannot decrypt: value is truncated");
  const auto* in = reinterpret_cast<const unsigned char*>(blob->data());
  if (in[0] != kCiphertextVersion) {
    throw SecretError(Kind::UnsupportedVersion,
                      "cannot decrypt: unsupported ciphertext version " + std::to_string(in[0]));
  }
  if (blob->size() < 1 + kNonceSize + kTagSize) {
    throw SecretError(Kind::Truncated, "cannot decrypt: value is truncated");
  }
  const unsigned char* nonce = in + 1;
  const unsigned char* body = nonce + kNonceSize;
  const std::size_t body_size = blob->size() - 1 - kNonceSize - kTagSize;
  const unsigned char* tag = body + body_size;

  const auto crypto_error = [] {
    return SecretError(Kind::Crypto, "cannot decrypt: OpenSSL AES-256-GCM failed");
  };
  std::string plain(body_size, '\0');
  Wiped wipe_on_failure(plain);
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherCtx ctx = new_cipher_ctx();
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, in, 1) != 1) {
    throw crypto_error();
  }
  int written = 0;
  if (body_size > 0) {
    if (EVP_DecryptUpdate(ctx.get(), out, &len, body, static_cast<int>(body_size)) != 1)
      throw crypto_error();
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<unsigned char*>(tag)) != 1) {
    throw crypto_error();
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out + written, &len) != 1) {
    throw SecretError(Kind::WrongKeyOrTampered, "cannot decrypt: wrong key or tampered value");
  }
  wipe_on_failure.dismiss();
  return plain;
}

// ---------------------------------------------------------------------------------------------
// Configuration walk

std::string json_path_child(const std::string& parent, const std::string& full_key) {
  // A long key is shortened (never inside a UTF-8 character), so a path stays readable.
  std::string key = full_key;
  std::string more;
  if (key.size() > 40) {
    std::size_t cut = 40;
    while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
    key.resize(cut);
    more = "...";
  }
  bool simple = !key.empty();
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '#' || c == '@' || c == '$' || c == '-';
    if (!ok) {
      simple = false;
      break;
    }
  }
  if (simple) return parent + "." + key + more;
  return parent + "[" +
         nlohmann::json(key + more).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "]";
}

DecryptResult decrypt_and_collect(nlohmann::json& doc, const std::optional<EncryptionKey>& key) {
  DecryptResult result;
  walk_config(doc, key, result);
  return result;
}

}  // namespace runner::secrets
