// resolve_credential and make_exporter: see log_exporter.hpp. Each exporter reads and checks its
// own properties through ExporterProperties; nothing is opened or connected here (files and
// connections open on the first send), so a configuration can be checked without side effects.
#include "shipper/log_exporter.hpp"

#include "secrets/config_cipher.hpp"
#include "shipper/datadog_exporter.hpp"
#include "shipper/elasticsearch_exporter.hpp"
#include "shipper/exporter_common.hpp"
#include "shipper/file_exporter.hpp"
#include "shipper/gelf_exporter.hpp"
#include "shipper/loki_exporter.hpp"
#include "shipper/opentelemetry_exporter.hpp"
#include "shipper/syslog_exporter.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace runner::shipper {

namespace {

bool is_env_name(std::string_view name) {
  if (name.empty()) return false;
  const auto first = static_cast<unsigned char>(name[0]);
  if (std::isalpha(first) == 0 && first != '_') return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && u != '_') return false;
  }
  return true;
}

}  // namespace

std::string resolve_credential(const std::string& value, const std::string& where,
                               const KeyLookup& key) {
  if (value.size() >= 3 && value.compare(0, 2, "${") == 0 && value.back() == '}') {
    const std::string name = value.substr(2, value.size() - 3);
    if (!is_env_name(name)) {
      throw ExporterConfigError(fmt::format(
          "{}: \"${{...}}\" must hold an environment variable name (letters, digits and '_', "
          "not starting with a digit)",
          where));
    }
    const char* found = std::getenv(name.c_str());
    if (found == nullptr) {
      throw ExporterConfigError(fmt::format("{}: environment variable {} is not set", where, name));
    }
    return found;
  }
  if (secrets::is_ciphertext(value)) {
    std::optional<secrets::EncryptionKey> found;
    try {
      if (key) found = key();
    } catch (const secrets::SecretError& e) {
      throw ExporterConfigError(fmt::format("{}: cannot decrypt: {}", where, e.what()));
    }
    if (!found) {
      throw ExporterConfigError(fmt::format(
          "{}: cannot decrypt: no encryption key found (--key-file, RUNNER_ENCRYPTION_KEY or "
          "$RUNNER_HOME/secret.key)",
          where));
    }
    try {
      return secrets::decrypt_value(*found, value);
    } catch (const secrets::SecretError& e) {
      throw ExporterConfigError(fmt::format("{}: cannot decrypt: {}", where, e.what()));
    }
  }
  return value;
}

std::unique_ptr<LogExporter> make_exporter(const nlohmann::json& config, const std::string& where,
                                           const KeyLookup& key) {
  ExporterProperties properties(config, where, key);
  const std::string& type = properties.type();
  std::unique_ptr<LogExporter> exporter;
  if (type == "file") {
    exporter = make_file_exporter(properties);
  } else if (type == "elasticsearch" || type == "opensearch") {
    exporter = make_elasticsearch_exporter(properties);
  } else if (type == "opentelemetry") {
    exporter = make_opentelemetry_exporter(properties);
  } else if (type == "datadog") {
    exporter = make_datadog_exporter(properties);
  } else if (type == "loki") {
    exporter = make_loki_exporter(properties);
  } else if (type == "gelf") {
    exporter = make_gelf_exporter(properties);
  } else if (type == "syslog") {
    exporter = make_syslog_exporter(properties);
  } else {
    properties.fail("type", fmt::format("expected one of file, elasticsearch, opensearch, "
                                        "opentelemetry, datadog, loki, gelf, syslog, got \"{}\"",
                                        type));
  }
  properties.finish();
  return exporter;
}

}  // namespace runner::shipper
