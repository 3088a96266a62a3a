#pragma once
// Metrics files: one record per line as JSON Lines (".jsonl", ".json") or CSV (".csv"), chosen by
// the file extension. A record is an ordered list of (key, value); a value is an integer, a real
// number or a string. Every record starts with the run's constant fields (model, dataset, seed…),
// so files from many runs concatenate and plot directly.
//
// Values as written:
//   integers     decimal
//   reals        the shortest decimal that reads back as the same double (or, for a float, the
//                same float), always with a '.' or an exponent: 0.975, 3.0, 1e-05
//   non-finite   JSON: null. CSV: nan, inf, -inf (what Python's float() and pandas read)
//   strings      JSON: a string with ", \ and control characters escaped. CSV: quoted with ""
//                doubled when it holds a comma, quote, CR or LF
// In CSV the first record's keys are the header, and a later record with other keys (or another
// order) is refused. JSON Lines records may differ in their keys.
//
// The file (rnn/core/atomic_file.hpp, AppendFile): nothing at the path is created, emptied or
// replaced until the first record is complete; that record (with the CSV header) replaces any
// earlier file in one rename, so an earlier file survives a run that stops before its first
// record. Each later record is appended with one write and synced; a failed or short write (disk
// full) is rolled back, so the file only ever holds complete lines.
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "rnn/core/atomic_file.hpp"
#include "rnn/train/trainer.hpp"

namespace rnn {

using MetricValue = std::variant<std::int64_t, std::uint64_t, double, float, std::string>;

class MetricsRecord {
 public:
  using Field = std::pair<std::string, MetricValue>;

  // Each add throws rnn::Error for an empty key or one already in the record.
  template <std::integral T>
  requires(!std::same_as<T, bool>) MetricsRecord& add(std::string key, T value) {
    if constexpr (std::is_signed_v<T>) {
      return add_value(std::move(key), static_cast<std::int64_t>(value));
    } else {
      return add_value(std::move(key), static_cast<std::uint64_t>(value));
    }
  }
  MetricsRecord& add(std::string key, double value) { return add_value(std::move(key), value); }
  MetricsRecord& add(std::string key, float value) { return add_value(std::move(key), value); }
  MetricsRecord& add(std::string key, std::string value) { return add_value(std::move(key), std::move(value)); }
  MetricsRecord& add(std::string key, std::string_view value) { return add_value(std::move(key), std::string(value)); }
  MetricsRecord& add(std::string key, const char* value) { return add_value(std::move(key), std::string(value)); }
  // Adds every field of `other`, in order.
  MetricsRecord& add(const MetricsRecord& other);

  [[nodiscard]] const std::vector<Field>& fields() const { return fields_; }
  [[nodiscard]] bool empty() const { return fields_.empty(); }

 private:
  MetricsRecord& add_value(std::string key, MetricValue value);
  std::vector<Field> fields_;
};

// The synchronous trainer's record: epoch, lr, train_loss, train_acc, test_loss, test_acc,
// seconds, samples_per_s.
[[nodiscard]] MetricsRecord epoch_record(const EpochMetrics& m);

class MetricsWriter {
 public:
  enum class Format { jsonl, csv };

  // Throws rnn::Error for an unknown extension or a path that cannot be written (missing or
  // read-only folder, a directory at path); creates nothing.
  MetricsWriter(std::filesystem::path path, MetricsRecord run_fields);

  // Writes run_fields followed by `record` as one line.
  void write(const MetricsRecord& record);
  void write(const EpochMetrics& m) { write(epoch_record(m)); }

  [[nodiscard]] Format format() const { return format_; }
  [[nodiscard]] const std::filesystem::path& path() const { return file_.path(); }

 private:
  AppendFile file_;
  Format format_;
  MetricsRecord run_fields_;
  std::vector<std::string> csv_keys_;  // the header, once written
};

}  // namespace rnn
