// check_command_line(): see the header.
#include "runner/command_line_check.hpp"

#include "common/nearest_name.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

namespace runner {
namespace {

std::string command_path(const CLI::App& app) {
  std::string path = app.get_parent() ? command_path(*app.get_parent()) + " " : "";
  return path + (app.get_name().empty() ? "runner" : app.get_name());
}

std::vector<const CLI::App*> commands_of(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : commands_of(app)) names.push_back(sub->get_name());
  return names;
}

const CLI::App* command_named(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : commands_of(app))
    if (sub->check_name(name)) return sub;
  return nullptr;
}

// The option `word` (--name, --name=value, -x) names in `app` or its parents, or nullptr.
const CLI::Option* option_named(const CLI::App& app, const std::string& word) {
  std::string name = word.substr(0, word.find('='));
  for (const CLI::App* at = &app; at != nullptr; at = at->get_parent())
    for (const CLI::Option* opt : at->get_options())
      if (!opt->get_positional() && opt->check_name(name)) return opt;
  return nullptr;
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* at = &app; at != nullptr; at = at->get_parent())
    for (const CLI::Option* opt : at->get_options()) {
      for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
      for (const auto& n : opt->get_snames()) names.push_back("-" + n);
    }
  return names;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& names) {
  const auto near = nearest_name(typed, names);
  return near ? fmt::format("; did you mean '{}'?", *near) : "";
}

std::string unknown_option(const CLI::App& app, const std::string& word) {
  const std::string name = word.substr(0, word.find('='));
  return fmt::format("{}: unknown option '{}'{} (see {} --help)", command_path(app), name,
                     did_you_mean(name, option_names(app)), command_path(app));
}

// -vq: every letter a known flag that takes no value.
bool is_flag_cluster(const CLI::App& app, const std::string& word) {
  if (word.size() < 3 || word[1] == '-') return false;
  for (std::size_t i = 1; i < word.size(); ++i) {
    const CLI::Option* opt = option_named(app, std::string("-") + word[i]);
    if (opt == nullptr || opt->get_items_expected_min() > 0) return false;
  }
  return true;
}

bool takes_positionals(const CLI::App& app) {
  return !app.get_options([](const CLI::Option* opt) { return opt->get_positional(); }).empty();
}

}  // namespace

std::optional<std::string> check_command_line(const CLI::App& app,
                                              const std::vector<std::string>& args) {
  const CLI::App* at = &app;
  bool positional_seen = false;
  bool option_seen = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") break;
    if (word.size() > 1 && word[0] == '-') {
      option_seen = true;
      const CLI::Option* opt = option_named(*at, word);
      if (opt == nullptr && word[1] != '-' && word.size() > 2) {
        // -n5 (a short option with its value glued on) or -vq (flags together).
        const CLI::Option* short_opt = option_named(*at, word.substr(0, 2));
        if (short_opt != nullptr && short_opt->get_items_expected_min() > 0) continue;
        if (is_flag_cluster(*at, word)) continue;
      }
      if (opt == nullptr) return unknown_option(*at, word);
      // Its value is the next word unless given with '=' (or glued to a short name: -n5).
      const bool glued = word.find('=') != std::string::npos || (word[1] != '-' && word.size() > 2);
      if (opt->get_items_expected_min() > 0 && !glued) ++i;
      continue;
    }
    if (positional_seen || commands_of(*at).empty() || takes_positionals(*at)) {
      positional_seen = true;
      continue;
    }
    if (const CLI::App* sub = command_named(*at, word)) {
      at = sub;
      continue;
    }
    return fmt::format("{}: '{}' is not a command{} (see {} --help)", command_path(*at), word,
                       did_you_mean(word, command_names(*at)), command_path(*at));
  }
  if (at == &app && !option_seen)
    return fmt::format("runner: a command is required: {} (see runner --help)",
                       fmt::join(command_names(app), ", "));
  return std::nullopt;
}

}  // namespace runner
