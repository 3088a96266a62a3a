#pragma once
// Per-epoch metrics as JSON Lines (".jsonl") or CSV (".csv"), chosen by the file extension.
// Every record carries the run's constant fields (model, dataset, optimizer, seed...) so files
// from many runs can be concatenated and plotted directly. After each record the whole file is
// rewritten to "<path>.tmp" and renamed: readers never see half a line, and an interrupted run
// keeps the epochs it finished.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "rnn/train/trainer.hpp"

namespace rnn {

class MetricsWriter {
 public:
  enum class Format { jsonl, csv };

  // run_fields: (name, value) pairs written in every record; values are strings.
  MetricsWriter(std::filesystem::path path, std::vector<std::pair<std::string, std::string>> run_fields);

  void write(const EpochMetrics& m);
  [[nodiscard]] Format format() const { return format_; }

 private:
  void flush() const;

  std::filesystem::path path_;
  Format format_;
  std::vector<std::pair<std::string, std::string>> run_fields_;
  std::vector<std::string> lines_;
};

}  // namespace rnn
