// Scrubber benchmark: generates deterministic, realistic log text, then times SecretScrubber over
// it with a given secret list, and times the naive "replace secret by secret" approach (Keboola's:
// for each secret, for each of its raw, base64 and JSON forms, find and replace in each chunk) as a
// peer. run.sh drives it and adds `grep -F -f` as the second peer. Single-threaded by design: the
// targets are per-core numbers.
//
//   bench_scrub gen FILE BYTES          write BYTES of log text (a few secrets inserted, rarely)
//   bench_scrub secrets FILE N          write the first N secrets of the fixed sequence, one a line
//   bench_scrub scrub DATA SECRETS      time the scrubber over DATA in 64 KiB writes
//   bench_scrub naive DATA SECRETS SEC  time the naive approach for about SEC seconds of DATA
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "secrets/encoding.hpp"
#include "secrets/secret_scrubber.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunk = 64 * 1024;

// splitmix64: tiny, deterministic across platforms.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

std::vector<std::string> make_secrets(std::size_t n) {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!@#$%^&*+/=";
  Rng rng(42);
  std::vector<std::string> secrets;
  for (std::size_t i = 0; i < n; ++i) {
    std::string s;
    const std::size_t len = 8 + rng.below(33);  // 8..40
    for (std::size_t k = 0; k < len; ++k) s += kChars[rng.below(kChars.size())];
    secrets.push_back(std::move(s));
  }
  return secrets;
}

const std::vector<std::string_view> kWords = {"processed",
                                              "rows",
                                              "from",
                                              "table",
                                              "bucket",
                                              "in.c-main",
                                              "out.c-sales",
                                              "orders",
                                              "customers",
                                              "exporting",
                                              "importing",
                                              "file",
                                              "manifest",
                                              "the",
                                              "a",
                                              "to",
                                              "of",
                                              "and",
                                              "with",
                                              "for",
                                              "retrying",
                                              "request",
                                              "connection",
                                              "established",
                                              "closed",
                                              "timeout",
                                              "after",
                                              "seconds",
                                              "Downloading",
                                              "Uploading",
                                              "chunk",
                                              "part",
                                              "finished",
                                              "started",
                                              "job",
                                              "component",
                                              "keboola.ex-db-snowflake",
                                              "writer",
                                              "extractor",
                                              "query",
                                              "SELECT",
                                              "FROM",
                                              "WHERE",
                                              "LIMIT",
                                              "user",
                                              "config",
                                              "state",
                                              "storage",
                                              "api",
                                              "token",
                                              "sliced",
                                              "gzip",
                                              "csv",
                                              "parquet",
                                              "warning:",
                                              "error:",
                                              "note:",
                                              "deprecated",
                                              "option",
                                              "value",
                                              "null",
                                              "true",
                                              "false"};
const std::vector<std::string_view> kLevels = {"INFO ", "DEBUG", "WARN ",
                                               "ERROR", "INFO ", "INFO "};

void append_number(std::string& out, std::uint64_t v) {
  out += std::to_string(v);
}

void append_hex(std::string& out, Rng& rng, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) out += kHex[rng.below(16)];
}

void append_timestamp(std::string& out, Rng& rng) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2024-05-%02zuT%02zu:%02zu:%02zu.%06zuZ", 1 + rng.below(28),
                rng.below(24), rng.below(60), rng.below(60), rng.below(1000000));
  out += buf;
}

void append_words(std::string& out, Rng& rng, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    if (rng.below(6) == 0) {
      append_number(out, rng.below(100000));
    } else {
      out += kWords[rng.below(kWords.size())];
    }
  }
}

// One line of log text: plain log lines, JSON lines, progress lines, stack frames.
void append_line(std::string& out, Rng& rng) {
  switch (rng.below(5)) {
    case 0:
    case 1:
      append_timestamp(out, rng);
      out += ' ';
      out += kLevels[rng.below(kLevels.size())];
      out += " [worker-";
      append_number(out, rng.below(16));
      out += "] ";
      append_words(out, rng, 4 + rng.below(12));
      out += '\n';
      break;
    case 2:
      out += R"({"ts":")";
      append_timestamp(out, rng);
      out += R"(","level":"info","msg":")";
      append_words(out, rng, 2 + rng.below(5));
      out += R"(","path":"/v2/storage/tables/in.c-main.t)";
      append_number(out, rng.below(1000));
      out += R"(/export","status":200,"bytes":)";
      append_number(out, rng.below(10000000));
      out += R"(,"duration_ms":)";
      append_number(out, rng.below(5000));
      out += R"(,"request_id":")";
      append_hex(out, rng, 8);
      out += '-';
      append_hex(out, rng, 4);
      out += '-';
      append_hex(out, rng, 12);
      out += "\"}\n";
      break;
    case 3:
      out += "Downloading part-";
      append_number(out, rng.below(100000));
      out += ".csv.gz (";
      append_number(out, rng.below(1000));
      out += " MB) from s3://kbc-data/prod/";
      append_hex(out, rng, 16);
      out += ' ';
      append_words(out, rng, 3);
      out += '\n';
      break;
    default:
      out += "    at com.keboola.runner.";
      out += kWords[rng.below(kWords.size())];
      out += ".Worker.run(Worker.java:";
      append_number(out, rng.below(900));
      out += ")\n";
      break;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  in.seekg(0, std::ios::end);
  std::string data(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int gen(const std::string& path, std::size_t bytes) {
  // Rarely (about every 8 MB) a form of one of the first three secrets, which every secret set
  // contains, so the scrubber's replacement path is exercised too.
  const auto secrets = make_secrets(3);
  Rng rng(7);
  std::ofstream out(path, std::ios::binary);
  std::string buf;
  std::size_t written = 0;
  std::size_t next_secret = 8u << 20;
  while (written < bytes) {
    buf.clear();
    while (buf.size() < (1u << 20)) append_line(buf, rng);
    if (written + buf.size() >= next_secret) {
      const std::string& s = secrets[rng.below(secrets.size())];
      switch (rng.below(3)) {
        case 0:
          buf += "password=" + s + "\n";
          break;
        case 1:
          buf += "auth: " + runner::secrets::base64_encode(s) + "\n";
          break;
        default:
          buf += R"({"token":")" + *runner::secrets::json_escape(s) + "\"}\n";
          break;
      }
      next_secret += 8u << 20;
    }
    const std::size_t n = std::min(buf.size(), bytes - written);
    out.write(buf.data(), static_cast<std::streamsize>(n));
    written += n;
  }
  return 0;
}

int write_secrets(const std::string& path, std::size_t n) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& s : make_secrets(n)) out << s << '\n';
  return 0;
}

std::size_t count_markers(const std::string& out) {
  std::size_t n = 0;
  for (auto pos = out.find(runner::secrets::kHiddenMarker); pos != std::string::npos;
       pos = out.find(runner::secrets::kHiddenMarker, pos + 1)) {
    ++n;
  }
  return n;
}

int scrub(const std::string& data_path, const std::string& secrets_path) {
  const std::string data = read_file(data_path);
  const auto secrets = read_lines(secrets_path);
  const auto t_build = Clock::now();
  auto matcher = std::make_shared<const runner::secrets::SecretMatcher>(secrets);
  const double build = seconds_since(t_build);

  // Pass 0 also counts the markers (a check that the rare inserted secrets were found); the
  // timed passes 1 and 2 do nothing but scrub. The best timed pass is reported.
  double best = 1e30;
  std::size_t hidden = 0;
  std::size_t out_bytes = 0;
  for (int pass = 0; pass < 3; ++pass) {
    runner::secrets::SecretScrubber scrubber(matcher);
    std::string out;
    out.reserve(2 * kChunk);
    const auto t0 = Clock::now();
    for (std::size_t pos = 0; pos < data.size(); pos += kChunk) {
      out.clear();
      scrubber.write(std::string_view(data).substr(pos, kChunk), out);
      if (pass == 0) {
        out_bytes += out.size();
        if (out.find('[') != std::string::npos) hidden += count_markers(out);
      }
    }
    out.clear();
    scrubber.flush(out);
    if (pass == 0) {
      out_bytes += out.size();
      hidden += count_markers(out);
    } else {
      best = std::min(best, seconds_since(t0));
    }
  }
  std::printf(
      "secrets=%zu patterns=%zu longest=%zu build_ms=%.1f seconds=%.3f mb_per_s=%.0f hidden=%zu "
      "out_bytes=%zu\n",
      secrets.size(), matcher->pattern_count(), matcher->longest_pattern(), build * 1e3, best,
      static_cast<double>(data.size()) / 1e6 / best, hidden, out_bytes);
  return 0;
}

// Keboola's approach: every chunk, for every secret, replace each form in turn.
void naive_replace(std::string& chunk,
                   const std::vector<std::pair<std::string, std::string>>& forms) {
  for (const auto& [needle, replacement] : forms) {
    for (auto pos = chunk.find(needle); pos != std::string::npos;
         pos = chunk.find(needle, pos + replacement.size())) {
      chunk.replace(pos, needle.size(), replacement);
    }
  }
}

int naive(const std::string& data_path, const std::string& secrets_path, double budget) {
  const std::string data = read_file(data_path);
  std::vector<std::pair<std::string, std::string>> forms;
  for (const auto& s : read_lines(secrets_path)) {
    forms.emplace_back(s, "[hidden]");
    forms.emplace_back(runner::secrets::base64_encode(s), "[hidden]");
    forms.emplace_back(*runner::secrets::json_escape(s), "[hidden]");
  }
  std::size_t done = 0;
  std::string chunk;
  const auto t0 = Clock::now();
  double elapsed = 0;
  while (done < data.size() && elapsed < budget) {
    chunk.assign(data, done, kChunk);
    naive_replace(chunk, forms);
    done += kChunk;
    elapsed = seconds_since(t0);
  }
  done = std::min(done, data.size());
  std::printf("secrets=%zu naive_bytes=%zu seconds=%.3f mb_per_s=%.2f\n", forms.size() / 3, done,
              elapsed, static_cast<double>(done) / 1e6 / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "gen") return gen(args[1], std::stoull(args[2]));
  if (args.size() == 3 && args[0] == "secrets") return write_secrets(args[1], std::stoull(args[2]));
  if (args.size() == 3 && args[0] == "scrub") return scrub(args[1], args[2]);
  if (args.size() == 4 && args[0] == "naive") return naive(args[1], args[2], std::stod(args[3]));
  std::cerr << "usage: bench_scrub gen FILE BYTES | secrets FILE N | scrub DATA SECRETS | naive "
               "DATA SECRETS SECONDS\n";
  return 2;
}
