#include "rnn/train/metrics_writer.hpp"

#include <cmath>
#include <type_traits>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// fmt's default presentation is the shortest decimal that reads back as the same value of the
// same type. A trailing ".0" keeps whole numbers recognisable as reals.
template <typename Real>
std::string real_text(Real v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

enum class Syntax { json, csv };

std::string value_text(const MetricValue& value, Syntax syntax) {
  return std::visit(
      [syntax](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return syntax == Syntax::json ? json_string(v) : csv_field(v);
        } else if constexpr (std::is_floating_point_v<T>) {
          if (std::isfinite(v)) return real_text(v);
          if (syntax == Syntax::json) return "null";
          return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

}  // namespace

MetricsRecord& MetricsRecord::add_value(std::string key, MetricValue value) {
  if (key.empty()) throw Error("metrics record: empty key");
  for (const auto& [k, v] : fields_) {
    if (k == key) throw Error(fmt::format("metrics record: key '{}' given twice", key));
  }
  fields_.emplace_back(std::move(key), std::move(value));
  return *this;
}

MetricsRecord& MetricsRecord::add(const MetricsRecord& other) {
  for (const auto& [k, v] : other.fields_) add_value(k, v);
  return *this;
}

MetricsRecord epoch_record(const EpochMetrics& m) {
  MetricsRecord r;
  // The optimizer's step size is a float: written as that float, 0.001 rather than 0.0010000000474974513.
  r.add("epoch", m.epoch)
      .add("lr", static_cast<float>(m.learning_rate))
      .add("train_loss", m.train_loss)
      .add("train_acc", m.train_accuracy)
      .add("test_loss", m.test_loss)
      .add("test_acc", m.test_accuracy)
      .add("seconds", m.seconds)
      .add("samples_per_s", m.samples_per_second);
  return r;
}

MetricsWriter::MetricsWriter(std::filesystem::path path, MetricsRecord run_fields)
    : file_(std::move(path)), run_fields_(std::move(run_fields)) {
  const auto ext = file_.path().extension().string();
  if (ext == ".jsonl" || ext == ".json") {
    format_ = Format::jsonl;
  } else if (ext == ".csv") {
    format_ = Format::csv;
  } else {
    throw Error(fmt::format("{}: metrics file must end in .jsonl or .csv", file_.path().string()));
  }
  check_writable(file_.path());  // fail now rather than after the first epoch
}

void MetricsWriter::write(const MetricsRecord& record) {
  MetricsRecord full = run_fields_;
  full.add(record);
  std::string text;
  if (format_ == Format::jsonl) {
    text = "{";
    for (const auto& [k, v] : full.fields()) {
      if (text.size() > 1) text += ',';
      text += json_string(k) + ':' + value_text(v, Syntax::json);
    }
    text += "}\n";
    file_.append(text);
    return;
  }
  std::vector<std::string> keys;
  for (const auto& [k, v] : full.fields()) keys.push_back(k);
  const bool first = !file_.published();
  if (first) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) text += ',';
      text += csv_field(keys[i]);
    }
    text += '\n';
  } else if (keys != csv_keys_) {
    std::string list;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) list += ',';
      list += keys[i];
    }
    throw Error(fmt::format("{}: record has keys {}, but the CSV header was written for other keys",
                            file_.path().string(), list));
  }
  for (std::size_t i = 0; i < full.fields().size(); ++i) {
    if (i > 0) text += ',';
    text += value_text(full.fields()[i].second, Syntax::csv);
  }
  text += '\n';
  file_.append(text);
  if (first) csv_keys_ = std::move(keys);
}

}  // namespace rnn
