#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/train/metrics_writer.hpp"
#include "support/file_limits.hpp"
#include "support/temp_dir.hpp"

namespace rnn {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string contents_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

MetricsRecord run_fields(const char* model) {
  MetricsRecord r;
  r.add("model", model);
  return r;
}

}  // namespace

TEST_CASE("metrics as JSON Lines and CSV, one record per epoch") {
  const test::TempDir dir("rnnl-test-metrics");
  EpochMetrics m;
  m.epoch = 1;
  m.learning_rate = static_cast<double>(1e-3F);
  m.test_accuracy = 0.975;
  const auto jsonl = dir / "rnnl_metrics_test.jsonl";
  {
    MetricsRecord fields;
    fields.add("model", "rnl_deep").add("note", "a \"quoted\" value");
    MetricsWriter w(jsonl, fields);
    w.write(m);
    m.epoch = 2;
    w.write(m);
  }
  auto lines = lines_of(jsonl);
  REQUIRE(lines.size() == 2);
  CHECK(contains(lines[0], "{\"model\":\"rnl_deep\","));
  CHECK(contains(lines[0], "\\\"quoted\\\""));
  CHECK(contains(lines[1], "\"epoch\":2,"));
  // The keys studies and scripts read, as the optimizer's float and the exact double.
  CHECK(contains(lines[1], "\"lr\":0.001,"));
  CHECK(contains(lines[1], "\"test_acc\":0.975,"));
  CHECK(test::entries_of(dir.path()).size() == 1);

  const auto csv = dir / "rnnl_metrics_test.csv";
  {
    MetricsWriter w(csv, run_fields("mlp"));
    w.write(m);
  }
  lines = lines_of(csv);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "model,epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,samples_per_s");
  CHECK(lines[1].rfind("mlp,2,0.001,0.0,0.0,0.0,0.975,", 0) == 0);
}

TEST_CASE("metrics writer refuses unknown extensions and unwritable paths, creating nothing") {
  const test::TempDir dir("rnnl-test-metrics");
  CHECK_THROWS_AS(MetricsWriter(dir / "metrics.txt", {}), Error);
  CHECK_THROWS_AS(MetricsWriter(dir / "missing" / "metrics.jsonl", {}), Error);
  fs::create_directory(dir / "folder.jsonl");
  CHECK_THROWS_AS(MetricsWriter(dir / "folder.jsonl", {}), Error);
  CHECK(test::entries_of(dir.path()) == std::set<std::string>{"folder.jsonl"});
}

TEST_CASE("an earlier metrics file stays intact until the first record replaces it") {
  const test::TempDir dir("rnnl-test-metrics");
  const auto path = dir / "m.jsonl";
  write_text(path, "earlier run\n");
  {
    MetricsWriter w(path, run_fields("mlp"));
    CHECK(contents_of(path) == "earlier run\n");
  }
  // A run that stops before its first record leaves the earlier file as it was.
  CHECK(contents_of(path) == "earlier run\n");

  MetricsWriter w(path, run_fields("mlp"));
  EpochMetrics m;
  m.epoch = 1;
  w.write(m);
  const auto lines = lines_of(path);
  REQUIRE(lines.size() == 1);
  CHECK(contains(lines[0], "\"epoch\":1"));
}

TEST_CASE("later records are appended to the file, not written as a new file") {
  const test::TempDir dir("rnnl-test-metrics");
  const auto path = dir / "m.csv";
  MetricsWriter w(path, run_fields("mlp"));
  EpochMetrics m;
  m.epoch = 1;
  w.write(m);
  // A second name for the same file sees later records only if they are written into it.
  fs::create_hard_link(path, dir / "link.csv");
  m.epoch = 2;
  w.write(m);
  m.epoch = 3;
  w.write(m);
  CHECK(lines_of(path).size() == 4);
  CHECK(lines_of(dir / "link.csv").size() == 4);
}

TEST_CASE("generic records: integers, exact reals, strings, non-finite values") {
  const test::TempDir dir("rnnl-test-metrics");
  const double third = 1.0 / 3.0;
  MetricsRecord r;
  r.add("updates", std::uint64_t{18446744073709551615U})
      .add("delta", -5)
      .add("virtual_seconds", third)
      .add("ingress_bytes", std::size_t{123456789})
      .add("whole", 3.0)
      .add("tiny", 1e-300)
      .add("nan", std::nan(""))
      .add("inf", std::numeric_limits<double>::infinity())
      .add("minus_inf", -std::numeric_limits<float>::infinity())
      .add("setting", "a,b \"c\"\nd");

  SUBCASE("JSON Lines") {
    const auto path = dir / "r.jsonl";
    MetricsWriter w(path, {});
    w.write(r);
    const auto lines = lines_of(path);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] ==
          "{\"updates\":18446744073709551615,\"delta\":-5,\"virtual_seconds\":0.3333333333333333,"
          "\"ingress_bytes\":123456789,\"whole\":3.0,\"tiny\":1e-300,\"nan\":null,\"inf\":null,\"minus_inf\":null,"
          "\"setting\":\"a,b \\\"c\\\"\\nd\"}");
    CHECK(std::strtod("0.3333333333333333", nullptr) == third);
  }
  SUBCASE("CSV") {
    const auto path = dir / "r.csv";
    MetricsWriter w(path, {});
    w.write(r);
    CHECK(contents_of(path) ==
          "updates,delta,virtual_seconds,ingress_bytes,whole,tiny,nan,inf,minus_inf,setting\n"
          "18446744073709551615,-5,0.3333333333333333,123456789,3.0,1e-300,nan,inf,-inf,\"a,b \"\"c\"\"\nd\"\n");
  }
}

TEST_CASE("every double reads back exactly") {
  const test::TempDir dir("rnnl-test-metrics");
  const auto path = dir / "exact.csv";
  MetricsWriter w(path, {});
  std::vector<double> values;
  double x = 0.1;
  for (int i = 0; i < 200; ++i) {
    x = std::fmod(x * 7919.123456789 + 0.000123, 1000.0) / (1.0 + i);
    values.push_back(x);
    MetricsRecord r;
    r.add("x", x);
    w.write(r);
  }
  const auto lines = lines_of(path);
  REQUIRE(lines.size() == values.size() + 1);
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(std::strtod(lines[i + 1].c_str(), nullptr) == values[i]);
}

TEST_CASE("metrics records: bad keys and CSV records that do not fit the header are refused") {
  MetricsRecord r;
  r.add("a", 1);
  CHECK_THROWS_AS(r.add("a", 2), Error);
  CHECK_THROWS_AS(r.add("", 2), Error);
  MetricsRecord strings;
  strings.add("view", std::string_view("v")).add("owned", std::string("o")).add("literal", "l");
  CHECK(std::get<std::string>(strings.fields()[0].second) == "v");
  CHECK(strings.fields().size() == 3);

  const test::TempDir dir("rnnl-test-metrics");
  MetricsRecord other;
  other.add("b", 1);
  MetricsWriter csv(dir / "k.csv", {});
  csv.write(r);
  CHECK_THROWS_AS(csv.write(other), Error);
  CHECK(lines_of(dir / "k.csv").size() == 2);

  // JSON Lines records describe themselves: their keys may differ.
  MetricsWriter jsonl(dir / "k.jsonl", {});
  jsonl.write(r);
  jsonl.write(other);
  CHECK(lines_of(dir / "k.jsonl").size() == 2);

  // A run field repeated in the record is refused.
  MetricsWriter clash(dir / "c.jsonl", r);
  CHECK_THROWS_AS(clash.write(r), Error);
  CHECK_FALSE(fs::exists(dir / "c.jsonl"));
}

TEST_CASE("a record that does not fit on the disk is rolled back: the file holds complete lines only") {
  const test::TempDir dir("rnnl-test-metrics");
  const auto path = dir / "full.jsonl";
  MetricsWriter w(path, {});
  MetricsRecord small;
  small.add("x", 1);
  w.write(small);
  const auto size = fs::file_size(path);
  MetricsRecord big;
  big.add("x", std::string(4000, 'y'));
  {
    const test::FileSizeLimit limit(size + 100);
    CHECK_THROWS_AS(w.write(big), Error);
  }
  CHECK(fs::file_size(path) == size);
  w.write(small);
  CHECK(lines_of(path) == std::vector<std::string>{"{\"x\":1}", "{\"x\":1}"});
}

}  // namespace rnn
