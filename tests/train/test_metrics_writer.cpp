#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/train/metrics_writer.hpp"
#include "support/temp_dir.hpp"

namespace rnn {
namespace {

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("metrics as JSON Lines and CSV, one record per epoch") {
  const test::TempDir dir("rnnl-test-metrics");
  EpochMetrics m;
  m.epoch = 1;
  m.test_accuracy = 0.975;
  const auto jsonl = dir / "rnnl_metrics_test.jsonl";
  {
    MetricsWriter w(jsonl, {{"model", "rnl_deep"}, {"note", "a \"quoted\" value"}});
    w.write(m);
    m.epoch = 2;
    w.write(m);
  }
  auto lines = lines_of(jsonl);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("\"model\":\"rnl_deep\"") != std::string::npos);
  CHECK(lines[0].find("\\\"quoted\\\"") != std::string::npos);
  CHECK(lines[1].find("\"epoch\":2") != std::string::npos);
  CHECK(lines[1].find("\"test_acc\":0.975000") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(jsonl.string() + ".tmp"));

  const auto csv = dir / "rnnl_metrics_test.csv";
  {
    MetricsWriter w(csv, {{"model", "mlp"}});
    w.write(m);
  }
  lines = lines_of(csv);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].rfind("model,epoch,lr,", 0) == 0);
  CHECK(lines[1].rfind("mlp,2,", 0) == 0);
}

TEST_CASE("metrics writer refuses unknown extensions and unwritable paths") {
  CHECK_THROWS_AS(MetricsWriter("metrics.txt", {}), Error);
  CHECK_THROWS_AS(MetricsWriter("/nonexistent-dir/metrics.jsonl", {}), Error);
}

}  // namespace rnn
