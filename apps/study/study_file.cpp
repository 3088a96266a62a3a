#include "study_file.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rnn/core/error.hpp"

namespace rnn::study {
namespace {

using Json = nlohmann::ordered_json;

// The value of an option set to false: a method or grid point removes it.
constexpr std::string_view kRemoved = "\x01removed";

// Options rnnl-study sets for every run, or that would make runs write or read other files.
constexpr std::array<std::string_view, 10> kReserved{"trainer",    "seed",   "out",  "threads", "no-progress",
                                                     "checkpoint", "resume", "save", "load",    "checkpoint-every"};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(std::string_view where, std::string_view what) const {
    throw Error(fmt::format("{}: {}: {}", file_, where, what));
  }

  // A valid folder-name part: letters, digits and ". _ - + ="; not empty, not starting with '.'.
  void check_name(std::string_view where, const std::string& name) const {
    const bool ok =
        !name.empty() && name.size() <= 64 && name.front() != '.' && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                 std::string_view("._-+").find(c) != std::string_view::npos;
        });
    if (!ok) fail(where, fmt::format("'{}' is not a name (1 to 64 letters, digits, '.', '_', '-', '+')", name));
  }

  std::string option_value(std::string_view where, const Json& value) const {
    if (value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      if (s.empty()) fail(where, "an empty string (a flag is written true)");
      return s;
    }
    if (value.is_boolean()) return "";  // true; false was removed by the caller
    if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
    if (value.is_number_float()) {
      const double x = value.get<double>();
      if (!std::isfinite(x)) fail(where, "not a finite number");
      return value.dump();
    }
    fail(where, "a value must be a string, a number or true/false");
  }

  Options options(std::string_view where, const Json& object) const {
    if (!object.is_object()) fail(where, "must be an object of rnnl-train options");
    Options out;
    for (const auto& [key, value] : object.items()) {
      const std::string at = fmt::format("{}.{}", where, key);
      if (key.starts_with("//")) continue;
      if (key.empty() || key.starts_with("-") || !std::all_of(key.begin(), key.end(), [](char c) {
            return std::islower(static_cast<unsigned char>(c)) != 0 ||
                   std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-';
          })) {
        fail(at, "an option is rnnl-train's long option without its dashes, e.g. \"max-updates\"");
      }
      if (std::find(kReserved.begin(), kReserved.end(), key) != kReserved.end()) {
        fail(at, "rnnl-study sets this option itself (seeds go in \"seeds\")");
      }
      // false: left out, and it removes the flag a study-level "options" set.
      out.emplace_back(key, value.is_boolean() && !value.get<bool>() ? std::string(kRemoved) : option_value(at, value));
    }
    return out;
  }

 private:
  std::string file_;
};

void set(Options& options, const std::string& key, const std::string& value) {
  const auto it = std::find_if(options.begin(), options.end(), [&](const auto& kv) { return kv.first == key; });
  if (value == kRemoved) {
    if (it != options.end()) options.erase(it);
    return;
  }
  if (it != options.end()) {
    it->second = value;
  } else {
    options.emplace_back(key, value);
  }
}

std::string part(const std::string& option, const std::string& value) {
  std::string text = fmt::format("{}={}", option, value);
  // Folder-safe: anything else (':' of a spec, ',' of a list, '/' of a path) becomes '+'.
  for (char& c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && std::string_view("._-=").find(c) == std::string_view::npos)
      c = '+';
  }
  return text;
}

}  // namespace

Study parse_study(const std::string& json_text, const std::string& file_name) {
  const Reader r(file_name);
  Json j;
  try {
    j = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", file_name, e.what()));
  }
  if (!j.is_object()) r.fail("top level", "must be an object");
  static const std::set<std::string> known{"name", "title", "options", "methods", "grid", "seeds", "report", "abandon"};
  for (const auto& [key, value] : j.items()) {
    if (!key.starts_with("//") && known.count(key) == 0) r.fail(key, "unknown key");
  }
  Study s;
  if (!j.contains("name") || !j["name"].is_string()) r.fail("name", "missing, or not a string");
  s.name = j["name"].get<std::string>();
  r.check_name("name", s.name);
  if (j.contains("title")) {
    if (!j["title"].is_string()) r.fail("title", "not a string");
    s.title = j["title"].get<std::string>();
  }
  if (j.contains("options")) s.options = r.options("options", j["options"]);

  if (!j.contains("methods") || !j["methods"].is_array() || j["methods"].empty())
    r.fail("methods", "missing, or not a non-empty array");
  for (std::size_t m = 0; m < j["methods"].size(); ++m) {
    const Json& method = j["methods"][m];
    const std::string at = fmt::format("methods[{}]", m);
    if (!method.is_object() || !method.contains("name") || !method["name"].is_string())
      r.fail(at, "must be an object with a \"name\"");
    for (const auto& [key, value] : method.items()) {
      if (key != "name" && key != "options" && !key.starts_with("//")) r.fail(at + "." + key, "unknown key");
    }
    Method out{method["name"].get<std::string>(), {}};
    r.check_name(at + ".name", out.name);
    if (out.name.find('_') != std::string::npos) r.fail(at + ".name", "'_' separates the parts of a run's id");
    for (const Method& other : s.methods) {
      if (other.name == out.name) r.fail(at + ".name", fmt::format("'{}' appears twice", out.name));
    }
    if (method.contains("options")) out.options = r.options(at + ".options", method["options"]);
    s.methods.push_back(std::move(out));
  }

  if (j.contains("grid")) {
    if (!j["grid"].is_object()) r.fail("grid", "must be an object: option → array of values");
    for (const auto& [key, values] : j["grid"].items()) {
      if (key.starts_with("//")) continue;
      const std::string at = "grid." + key;
      if (!values.is_array() || values.empty()) r.fail(at, "must be a non-empty array of values");
      Json one;
      one[key] = values.front();
      (void)r.options("grid", one);  // checks the option's name
      Axis axis{key, {}};
      for (const Json& v : values) {
        if (v.is_boolean()) r.fail(at, "flags cannot be grid values; use two methods");
        std::string text = r.option_value(at, v);
        if (std::find(axis.values.begin(), axis.values.end(), text) != axis.values.end())
          r.fail(at, fmt::format("value {} appears twice", text));
        axis.values.push_back(std::move(text));
      }
      s.grid.push_back(std::move(axis));
    }
  }

  if (!j.contains("seeds") || !j["seeds"].is_array() || j["seeds"].empty())
    r.fail("seeds", "missing, or not a non-empty array of seeds");
  for (const Json& seed : j["seeds"]) {
    if (!seed.is_number_unsigned()) r.fail("seeds", "a seed is a whole number ≥ 0");
    const auto value = seed.get<std::uint64_t>();
    if (std::find(s.seeds.begin(), s.seeds.end(), value) != s.seeds.end())
      r.fail("seeds", fmt::format("seed {} appears twice", value));
    s.seeds.push_back(value);
  }

  if (j.contains("report")) {
    const Json& report = j["report"];
    if (!report.is_object()) r.fail("report", "must be an object");
    for (const auto& [key, value] : report.items()) {
      if (key.starts_with("//")) continue;
      const std::string at = "report." + key;
      if (key == "best_over") {
        if (!value.is_array()) r.fail(at, "must be an array of grid axes");
        for (const Json& axis : value) {
          if (!axis.is_string()) r.fail(at, "must be an array of grid axes");
          const auto name = axis.get<std::string>();
          if (std::none_of(s.grid.begin(), s.grid.end(), [&](const Axis& a) { return a.option == name; }))
            r.fail(at, fmt::format("'{}' is not an axis of the grid", name));
          s.report.best_over.push_back(name);
        }
      } else if (key == "baseline") {
        if (!value.is_string()) r.fail(at, "must be a method's name");
        s.report.baseline = value.get<std::string>();
        if (std::none_of(s.methods.begin(), s.methods.end(),
                         [&](const Method& m) { return m.name == s.report.baseline; }))
          r.fail(at, fmt::format("'{}' is not one of the methods", s.report.baseline));
      } else if (key == "targets") {
        if (!value.is_array()) r.fail(at, "must be an array of accuracies in (0, 1]");
        for (const Json& t : value) {
          if (!t.is_number() || !(t.get<double>() > 0.0 && t.get<double>() <= 1.0))
            r.fail(at, "must be an array of accuracies in (0, 1]");
          s.report.targets.push_back(t.get<double>());
        }
        std::sort(s.report.targets.begin(), s.report.targets.end());
      } else if (key == "preserved_points") {
        if (!value.is_number() || !(value.get<double>() >= 0.0 && value.get<double>() <= 100.0))
          r.fail(at, "must be a number of accuracy points in [0, 100]");
        s.report.preserved_points = value.get<double>();
      } else {
        r.fail(at, "unknown key");
      }
    }
  }
  if (j.contains("abandon")) {
    const Json& rule = j["abandon"];
    if (!rule.is_object() || !rule.contains("at_updates") || !rule.contains("below_accuracy") ||
        !rule["at_updates"].is_number_unsigned() || rule["at_updates"].get<std::uint64_t>() == 0 ||
        !rule["below_accuracy"].is_number() ||
        !(rule["below_accuracy"].get<double>() > 0.0 && rule["below_accuracy"].get<double>() <= 1.0))
      r.fail("abandon", "must be {\"at_updates\": N ≥ 1, \"below_accuracy\": A in (0, 1]}");
    for (const auto& [key, value] : rule.items()) {
      if (key != "at_updates" && key != "below_accuracy" && !key.starts_with("//"))
        r.fail("abandon." + key, "unknown key");
    }
    s.abandon.at_updates = rule["at_updates"].get<std::uint64_t>();
    s.abandon.below_accuracy = rule["below_accuracy"].get<double>();
  }
  if (s.report.baseline.empty()) s.report.baseline = s.methods.front().name;
  return s;
}

Study load_study(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot read the study file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(fmt::format("{}: read error", path.string()));
  return parse_study(text.str(), path.string());
}

Expansion expand(const Study& study) {
  Expansion out;
  std::size_t points = 1;
  for (const Axis& axis : study.grid) points *= axis.values.size();
  for (const Method& method : study.methods) {
    for (std::size_t p = 0; p < points; ++p) {
      Configuration c;
      c.method = method.name;
      c.id = method.name;
      std::size_t rest = p;
      std::vector<std::size_t> index(study.grid.size());
      for (std::size_t a = study.grid.size(); a-- > 0;) {
        index[a] = rest % study.grid[a].values.size();
        rest /= study.grid[a].values.size();
      }
      for (std::size_t a = 0; a < study.grid.size(); ++a) {
        c.values.push_back(study.grid[a].values[index[a]]);
        c.id += '_';
        c.id += part(study.grid[a].option, c.values.back());
      }
      Options options;
      for (const auto& [key, value] : study.options) set(options, key, value);
      for (const auto& [key, value] : method.options) set(options, key, value);
      for (std::size_t a = 0; a < study.grid.size(); ++a) set(options, study.grid[a].option, c.values[a]);
      for (const std::uint64_t seed : study.seeds) {
        RunSpec run;
        run.id = fmt::format("{}_seed={}", c.id, seed);
        run.configuration = out.configurations.size();
        run.seed = seed;
        run.arguments = {"--trainer", "async"};
        for (const auto& [key, value] : options) {
          run.arguments.push_back(fmt::format("--{}", key));
          if (!value.empty()) run.arguments.push_back(value);
        }
        run.arguments.insert(run.arguments.end(), {"--seed", std::to_string(seed)});
        out.runs.push_back(std::move(run));
      }
      out.configurations.push_back(std::move(c));
    }
  }
  std::set<std::string> ids;
  for (const Configuration& c : out.configurations) {
    if (!ids.insert(c.id).second)
      throw Error(
          fmt::format("study {}: two configurations share the folder name {} (grid values that differ only in "
                      "characters a folder name cannot hold)",
                      study.name, c.id));
  }
  return out;
}

std::string option_value(const Study& study, const Configuration& configuration, std::string_view option) {
  for (std::size_t a = 0; a < study.grid.size(); ++a) {
    if (study.grid[a].option == option) return configuration.values[a];
  }
  for (const Method& m : study.methods) {
    if (m.name != configuration.method) continue;
    for (const auto& [key, value] : m.options) {
      if (key == option) return value == kRemoved ? "" : value;
    }
  }
  for (const auto& [key, value] : study.options) {
    if (key == option) return value == kRemoved ? "" : value;
  }
  return "";
}

}  // namespace rnn::study
