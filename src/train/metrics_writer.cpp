#include "rnn/train/metrics_writer.hpp"

#include <fstream>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn {
namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<std::pair<std::string, std::string>> epoch_fields(const EpochMetrics& m) {
  return {{"epoch", fmt::format("{}", m.epoch)},
          {"lr", fmt::format("{:.6g}", m.learning_rate)},
          {"train_loss", fmt::format("{:.6f}", m.train_loss)},
          {"train_acc", fmt::format("{:.6f}", m.train_accuracy)},
          {"test_loss", fmt::format("{:.6f}", m.test_loss)},
          {"test_acc", fmt::format("{:.6f}", m.test_accuracy)},
          {"seconds", fmt::format("{:.3f}", m.seconds)},
          {"samples_per_s", fmt::format("{:.1f}", m.samples_per_second)}};
}

}  // namespace

MetricsWriter::MetricsWriter(std::filesystem::path path, std::vector<std::pair<std::string, std::string>> run_fields)
    : path_(std::move(path)), run_fields_(std::move(run_fields)) {
  const auto ext = path_.extension().string();
  if (ext == ".jsonl" || ext == ".json") {
    format_ = Format::jsonl;
  } else if (ext == ".csv") {
    format_ = Format::csv;
  } else {
    throw Error(fmt::format("{}: metrics file must end in .jsonl or .csv", path_.string()));
  }
  flush();  // fail now, not after the first epoch, if the path is not writable
}

void MetricsWriter::write(const EpochMetrics& m) {
  const auto fields = epoch_fields(m);
  if (format_ == Format::jsonl) {
    std::string line = "{";
    for (const auto& [k, v] : run_fields_) line += fmt::format("\"{}\":\"{}\",", k, json_escape(v));
    for (std::size_t i = 0; i < fields.size(); ++i) {
      line += fmt::format("{}\"{}\":{}", i == 0 ? "" : ",", fields[i].first, fields[i].second);
    }
    lines_.push_back(line + "}");
  } else {
    if (lines_.empty()) {
      std::string header;
      for (const auto& [k, v] : run_fields_) header += k + ",";
      for (std::size_t i = 0; i < fields.size(); ++i) header += (i == 0 ? "" : ",") + fields[i].first;
      lines_.push_back(header);
    }
    std::string line;
    for (const auto& [k, v] : run_fields_) line += csv_field(v) + ",";
    for (std::size_t i = 0; i < fields.size(); ++i) line += (i == 0 ? "" : ",") + fields[i].second;
    lines_.push_back(line);
  }
  flush();
}

void MetricsWriter::flush() const {
  std::filesystem::path tmp = path_;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot open for writing", tmp.string()));
    for (const auto& line : lines_) out << line << '\n';
    out.flush();
    if (!out) throw Error(fmt::format("{}: write failed", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) throw Error(fmt::format("{}: cannot rename from {}: {}", path_.string(), tmp.string(), ec.message()));
}

}  // namespace rnn
