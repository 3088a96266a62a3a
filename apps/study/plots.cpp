#include "plots.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawnp

namespace rnn::study {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// A file-name prefix for a group's files: "model=cnn workers=100" → "model=cnn_workers=100_" (other
// characters become '+', as in run ids, so two groups' labels cannot meet).
std::string slug(const std::string& label) {
  if (label.empty()) return "";
  std::string s = label;
  for (char& c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && std::string_view(".=-+_").find(c) == std::string_view::npos)
      c = c == ' ' ? '_' : '+';
  }
  return s + "_";
}

// gnuplot's string literal: single quotes, a quote doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// The share of pushes per delay, summed over a configuration's runs' staleness.csv files.
std::vector<double> delay_shares(const Summary& summary, std::size_t configuration, const std::filesystem::path& runs) {
  std::vector<double> counts;
  for (const RunResult& r : summary.runs) {
    if (r.configuration != configuration || !r.finished) continue;
    std::ifstream in(runs / r.id / "staleness.csv");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::size_t delay = 0;
      double pushes = 0.0;
      if (std::sscanf(line.c_str(), "%zu,%lf", &delay, &pushes) != 2) break;
      if (delay >= counts.size()) counts.resize(delay + 1, 0.0);
      counts[delay] += pushes;
    }
  }
  double total = 0.0;
  for (const double c : counts) total += c;
  if (total > 0.0) {
    for (double& c : counts) c /= total;
  }
  return counts;
}

void run_gnuplot(const std::filesystem::path& script) {
  const std::string exe = "gnuplot";
  std::vector<char*> argv{const_cast<char*>(exe.c_str()), const_cast<char*>(script.c_str()),  // NOLINT
                          nullptr};
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ);
  if (error != 0)
    throw Error(fmt::format("cannot run gnuplot ({}); install it (Debian: gnuplot-nox) or pass --no-plots",
                            std::strerror(error)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(fmt::format("waiting for gnuplot: {}", std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error(fmt::format("gnuplot failed on {}", script.string()));
}

}  // namespace

std::vector<std::filesystem::path> write_plots(const Study& study, const Expansion& expansion, const Summary& summary,
                                               const std::filesystem::path& dir) {
  const std::filesystem::path plots = dir / "plots";
  const std::filesystem::path runs = dir / "runs";
  std::filesystem::create_directories(plots);
  std::vector<std::filesystem::path> images;
  std::string render;  // as `script`, writing each image to a temporary name first
  std::string script =
      "# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.\n"
      "set grid\nset key bottom right\nset ylabel 'test accuracy (%)'\n";
  for (const Group& g : summary.groups) {
    const std::string prefix = slug(g.label);
    struct Curve {
      std::string method;
      std::string file;
      std::string staleness_file;
    };
    std::vector<Curve> curves;
    double lowest_final = 100.0;
    std::size_t longest_delay = 0;
    for (std::size_t m = 0; m < study.methods.size(); ++m) {
      const std::size_t c = g.best[m];
      if (c == npos) continue;
      const std::vector<Point> curve = mean_curve(summary.runs, c);
      if (curve.empty()) continue;
      Curve out{study.methods[m].name + " (" + expansion.configurations[c].id + ")",
                prefix + study.methods[m].name + ".dat", ""};
      std::string data = "# updates MB virtual_seconds accuracy_percent\n";
      for (const Point& p : curve) {
        data += fmt::format("{} {} {} {}\n", p.updates, p.ingress_bytes / 1e6, p.virtual_seconds, 100.0 * p.accuracy);
      }
      write_file_atomically(plots / out.file, data);
      lowest_final = std::min(lowest_final, 100.0 * curve.back().accuracy);
      const std::vector<double> shares = delay_shares(summary, c, runs);
      if (!shares.empty()) {
        std::string hist = "# delay share_of_pushes\n";
        for (std::size_t d = 0; d < shares.size(); ++d) hist += fmt::format("{} {}\n", d, shares[d]);
        out.staleness_file = prefix + study.methods[m].name + ".staleness.dat";
        longest_delay = std::max(longest_delay, shares.size() - 1);
        write_file_atomically(plots / out.staleness_file, hist);
      }
      curves.push_back(std::move(out));
    }
    if (curves.empty()) continue;
    // Start the accuracy axis 10 points below the lowest final accuracy, so the curves' ends are apart.
    const double low = std::max(0.0, std::floor(lowest_final / 10.0) * 10.0 - 10.0);
    const auto figure = [&](const std::string& name, const std::string& setup, const std::string& columns,
                            const std::string& style, bool staleness) {
      std::string plot;
      for (const Curve& c : curves) {
        const std::string& file = staleness ? c.staleness_file : c.file;
        if (file.empty()) continue;
        plot += fmt::format("{}{} using {} with {} title {}", plot.empty() ? "plot " : ", \\\n     ", quoted(file),
                            columns, style, quoted(c.method));
      }
      if (plot.empty()) return;
      const std::string title = g.label.empty() ? study.name : study.name + ": " + g.label;
      const std::string head =
          fmt::format("\nreset session\nset grid\nset key bottom right\nset title {}\n{}\n", quoted(title), setup);
      script += head;
      render += head;
      for (const auto& [terminal, extension] : {std::pair{"pngcairo noenhanced size 960,600", "png"},
                                                std::pair{"svg noenhanced size 960,600 dynamic", "svg"}}) {
        const std::string image = prefix + name + "." + extension;
        script += fmt::format("set terminal {}\nset output {}\n{}\nunset output\n", terminal, quoted(image), plot);
        render +=
            fmt::format("set terminal {}\nset output {}\n{}\nunset output\n", terminal, quoted(".tmp." + image), plot);
        images.push_back(plots / image);
      }
    };
    const std::string accuracy = fmt::format("set ylabel 'test accuracy (%)'\nset yrange [{}:100]", low);
    figure("accuracy_vs_bytes", accuracy + "\nset logscale x\nset xlabel 'MB sent to the server (log scale)'", "2:4",
           "linespoints pointsize 0.5", false);
    figure("accuracy_vs_time", accuracy + "\nset xlabel 'virtual seconds'", "3:4", "linespoints pointsize 0.5", false);
    figure("accuracy_vs_updates", accuracy + "\nset xlabel 'server updates'", "1:4", "linespoints pointsize 0.5",
           false);
    figure("staleness",
           "set key top right\nset ylabel 'share of applied pushes'\nset xlabel 'delay (server updates between fetch "
           "and apply)'\nset style fill transparent solid 0.4 noborder\nset boxwidth 1\nset xrange [-0.5:" +
               std::to_string(longest_delay) + ".5]",
           "1:2", "boxes", true);
  }
  write_file_atomically(plots / "plots.gp", script);
  write_file_atomically(plots / ".render.gp", render);
  // gnuplot resolves the data files and writes the images relative to its working folder; each
  // image replaces the previous one only once it is complete.
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(plots);
  try {
    run_gnuplot(".render.gp");
  } catch (...) {
    std::filesystem::current_path(previous);
    throw;
  }
  std::filesystem::current_path(previous);
  std::filesystem::remove(plots / ".render.gp");
  for (const std::filesystem::path& image : images) {
    const std::filesystem::path rendered = image.parent_path() / (".tmp." + image.filename().string());
    std::error_code ec;
    const auto size = std::filesystem::file_size(rendered, ec);
    if (ec || size == 0) throw Error(fmt::format("gnuplot left {} missing or empty", image.string()));
    std::filesystem::rename(rendered, image);
  }
  return images;
}

}  // namespace rnn::study
