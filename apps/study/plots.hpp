#pragma once
// Plots of a study, rendered by gnuplot to PNG and SVG in <dir>/plots/: for each group of the
// summary, one curve per method (its best configuration, the mean over its seeds at each
// evaluation point):
//   <group>accuracy_vs_bytes     test accuracy against MB sent to the server, log x
//   <group>accuracy_vs_time      against virtual seconds
//   <group>accuracy_vs_updates   against server updates
//   <group>staleness             the distribution of push delays over the whole run (share of
//                                pushes per delay), from each run's staleness.csv
// The data files (.dat, whitespace-separated columns named in their first line) and the gnuplot
// script stay beside the images, so a figure can be restyled without rerunning the study.
#include <filesystem>
#include <string>
#include <vector>

#include "summary.hpp"

namespace rnn::study {

// Writes the data and script, runs `gnuplot` (found on PATH), and returns the image files written.
// Throws rnn::Error if gnuplot fails or leaves an image missing or empty.
std::vector<std::filesystem::path> write_plots(const Study& study, const Expansion& expansion, const Summary& summary,
                                               const std::filesystem::path& dir);

}  // namespace rnn::study
