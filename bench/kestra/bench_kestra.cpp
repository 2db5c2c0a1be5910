// Kestra protocol parser benchmark: 2,000,000 generated lines of about 83 bytes, fed one by one
// (as the LineSplitter hands them on) through KestraLineParser with trivial callbacks.
//   plain:    no protocol line (the common case: one byte comparison per line);
//   mixed:    one line in ten a protocol line (logs, outputs, metrics in turn, Node client format);
//   mixed+results: as mixed, with outputs and metrics aggregated in KestraResults;
//   splitter+parser: the same byte streams through LineSplitter and the parser, the way a job's
//   stdout runs, for the ratio mixed / plain in context.
//   nlohmann path only: as mixed with the simdjson fast path switched off, for comparison;
//   logs / outputs / metrics only: the cost of each kind of protocol line on its own.
// Lines are generated in memory; each measurement is the best of three passes.
#include "logging/kestra_protocol.hpp"
#include "logging/kestra_results.hpp"
#include "logging/line_splitter.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

using runner::logging::KestraCallbacks;
using runner::logging::KestraLineParser;
using runner::logging::KestraMetric;
using runner::logging::KestraResults;
using runner::logging::Level;
using runner::logging::LineSplitter;

namespace {

constexpr std::size_t kLines = 2000000;
constexpr std::size_t kLineBytes = 83;

// `head` + padding + `tail`, exactly kLineBytes long (or longer if head and tail are).
std::string padded(const std::string& head, const std::string& tail) {
  std::string line = head;
  while (line.size() + tail.size() < kLineBytes) line += static_cast<char>('a' + line.size() % 26);
  return line + tail;
}

std::string plain_line(std::size_t i) {
  return padded(fmt::format("2024-05-01T10:{:02}:{:02}.{:03}Z INFO worker-{} batch {} rows ",
                            i / 60000 % 60, i / 1000 % 60, i % 1000, i % 8, i),
                "ok");
}

enum class Protocol { none, mixed, logs, outputs, metrics };

std::string protocol_line(std::size_t i, Protocol kind) {
  const std::size_t shape = kind == Protocol::logs      ? 0
                            : kind == Protocol::outputs ? 1
                            : kind == Protocol::metrics ? 2
                                                        : i / 10 % 3;
  switch (shape) {
    case 0:
      return padded(fmt::format(R"(::{{"logs":[{{"level":"INFO","message":"batch {} )", i),
                    R"("}]}::)");
    case 1:
      return padded(fmt::format(R"(::{{"outputs":{{"batch":{},"status":"ok","note":")", i),
                    R"("}}::)");
    default:
      return padded(fmt::format(R"(::{{"metrics":[{{"name":"rows","type":"counter","value":{},)"
                                R"("tags":{{"p":")",
                                i % 97),
                    R"("}}]}::)");
  }
}

struct Corpus {
  std::string bytes;  // all lines, each ended by '\n'
  std::vector<std::string_view> lines;
};

Corpus make_corpus(Protocol kind) {
  Corpus corpus;
  corpus.bytes.reserve(kLines * (kLineBytes + 8));
  std::vector<std::size_t> ends;
  ends.reserve(kLines);
  for (std::size_t i = 0; i < kLines; ++i) {
    corpus.bytes +=
        (kind != Protocol::none && i % 10 == 9) ? protocol_line(i, kind) : plain_line(i);
    ends.push_back(corpus.bytes.size());
    corpus.bytes += '\n';
  }
  std::size_t start = 0;
  for (const std::size_t end : ends) {
    corpus.lines.emplace_back(corpus.bytes.data() + start, end - start);
    start = end + 1;
  }
  return corpus;
}

struct Counts {
  std::uint64_t text = 0, logs = 0, outputs = 0, metrics = 0, warnings = 0, bytes = 0;
};

KestraCallbacks counting_callbacks(Counts& counts, KestraResults* results) {
  return KestraCallbacks{
      .on_text = [&counts](std::string_view line) { ++counts.text, counts.bytes += line.size(); },
      .on_log = [&counts](
                    Level,
                    std::string_view message) { ++counts.logs, counts.bytes += message.size(); },
      .on_outputs =
          [&counts, results](const nlohmann::json& outputs) {
            ++counts.outputs;
            if (results != nullptr) results->add_outputs(outputs);
          },
      .on_metric =
          [&counts, results](const KestraMetric& metric) {
            ++counts.metrics;
            if (results != nullptr) results->add_metric(metric);
          },
      .on_warning = [&counts](std::string, std::string_view) { ++counts.warnings; },
  };
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Best of three passes of `pass`, in seconds.
template <typename Pass>
double best_of_three(Pass pass) {
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    pass();
    const double took = seconds_since(start);
    if (took < best) best = took;
  }
  return best;
}

void report(const char* name, const Corpus& corpus, double seconds, const Counts& counts) {
  std::printf(
      "| %s | %.3f | %.1f | %.0f | text %llu, logs %llu, outputs %llu, metrics %llu, "
      "warnings %llu |\n",
      name, seconds, corpus.lines.size() / seconds / 1e6, corpus.bytes.size() / seconds / 1e6,
      static_cast<unsigned long long>(counts.text), static_cast<unsigned long long>(counts.logs),
      static_cast<unsigned long long>(counts.outputs),
      static_cast<unsigned long long>(counts.metrics),
      static_cast<unsigned long long>(counts.warnings));
}

double parser_only(const Corpus& corpus, const char* name, bool aggregate, bool fast_path = true) {
  Counts counts;
  const double seconds = best_of_three([&] {
    counts = Counts{};
    KestraResults results;
    KestraLineParser parser(counting_callbacks(counts, aggregate ? &results : nullptr), fast_path);
    for (const std::string_view line : corpus.lines) parser.line(line);
    parser.finish();
  });
  report(name, corpus, seconds, counts);
  return seconds;
}

double splitter_and_parser(const Corpus& corpus, const char* name) {
  Counts counts;
  const double seconds = best_of_three([&] {
    counts = Counts{};
    KestraLineParser parser(counting_callbacks(counts, nullptr));
    LineSplitter splitter([&parser](std::string_view line) { parser.line(line); });
    const std::string_view bytes(corpus.bytes);
    for (std::size_t at = 0; at < bytes.size(); at += 64 * 1024) {
      splitter.feed(bytes.substr(at, 64 * 1024));
    }
    splitter.finish();
    parser.finish();
  });
  report(name, corpus, seconds, counts);
  return seconds;
}

}  // namespace

int main() {
  double parser_plain = 0, parser_mixed = 0, split_plain = 0, split_mixed = 0;
  std::printf("| run | seconds | million lines/s | MB/s | callbacks |\n|---|---:|---:|---:|---|\n");
  {
    const Corpus plain = make_corpus(Protocol::none);
    parser_plain = parser_only(plain, "parser, plain lines", false);
    split_plain = splitter_and_parser(plain, "splitter + parser, plain lines");
  }
  {
    const Corpus mixed = make_corpus(Protocol::mixed);
    parser_mixed = parser_only(mixed, "parser, 1 in 10 protocol (logs, outputs, metrics)", false);
    parser_only(mixed, "parser + KestraResults, 1 in 10 protocol", true);
    parser_only(mixed, "parser, nlohmann path only (no fast path), 1 in 10 protocol", false, false);
    split_mixed = splitter_and_parser(mixed, "splitter + parser, 1 in 10 protocol");
  }
  double kind_seconds[3] = {};
  const Protocol kinds[3] = {Protocol::logs, Protocol::outputs, Protocol::metrics};
  const char* kind_names[3] = {"parser, 1 in 10 logs lines", "parser, 1 in 10 outputs lines",
                               "parser, 1 in 10 metrics lines"};
  for (int k = 0; k < 3; ++k) {
    const Corpus corpus = make_corpus(kinds[k]);
    kind_seconds[k] = parser_only(corpus, kind_names[k], false);
  }
  const auto per_line_us = [&](double seconds) {
    return (seconds - parser_plain) / (kLines / 10) * 1e6;
  };
  std::printf("\nLines: %zu of about %zu bytes (plain lines exactly %zu bytes + newline).\n",
              kLines, kLineBytes, kLineBytes);
  std::printf("mixed / plain: parser alone %.2fx, splitter + parser %.2fx.\n",
              parser_mixed / parser_plain, split_mixed / split_plain);
  std::printf(
      "Extra cost per protocol line: mixed %.2f us; logs %.2f us, outputs %.2f us, "
      "metrics %.2f us.\n",
      per_line_us(parser_mixed), per_line_us(kind_seconds[0]), per_line_us(kind_seconds[1]),
      per_line_us(kind_seconds[2]));
  // For run.sh --baseline, which compares two trees.
  std::printf(
      "result mixed_us=%.3f logs_us=%.3f outputs_us=%.3f metrics_us=%.3f split_ratio=%.3f\n",
      per_line_us(parser_mixed), per_line_us(kind_seconds[0]), per_line_us(kind_seconds[1]),
      per_line_us(kind_seconds[2]), split_mixed / split_plain);
  return 0;
}
