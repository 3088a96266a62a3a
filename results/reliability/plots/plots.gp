# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.
set grid
set key bottom right
set ylabel 'test accuracy (%)'

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0_accuracy_vs_bytes.png'
plot 'crash-prob=0_loss-prob=0_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0_accuracy_vs_bytes.svg'
plot 'crash-prob=0_loss-prob=0_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0_accuracy_vs_time.png'
plot 'crash-prob=0_loss-prob=0_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0_accuracy_vs_time.svg'
plot 'crash-prob=0_loss-prob=0_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0_accuracy_vs_updates.png'
plot 'crash-prob=0_loss-prob=0_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0_accuracy_vs_updates.svg'
plot 'crash-prob=0_loss-prob=0_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0_staleness.png'
plot 'crash-prob=0_loss-prob=0_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0_staleness.svg'
plot 'crash-prob=0_loss-prob=0_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0_loss-prob=0)', \
     'crash-prob=0_loss-prob=0_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.1_accuracy_vs_bytes.png'
plot 'crash-prob=0_loss-prob=0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.1_accuracy_vs_bytes.svg'
plot 'crash-prob=0_loss-prob=0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.1_accuracy_vs_time.png'
plot 'crash-prob=0_loss-prob=0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.1_accuracy_vs_time.svg'
plot 'crash-prob=0_loss-prob=0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.1_accuracy_vs_updates.png'
plot 'crash-prob=0_loss-prob=0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.1_accuracy_vs_updates.svg'
plot 'crash-prob=0_loss-prob=0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:98.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.1_staleness.png'
plot 'crash-prob=0_loss-prob=0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.1_staleness.svg'
plot 'crash-prob=0_loss-prob=0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0_loss-prob=0.1)', \
     'crash-prob=0_loss-prob=0.1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.3_accuracy_vs_bytes.png'
plot 'crash-prob=0_loss-prob=0.3_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.3_accuracy_vs_bytes.svg'
plot 'crash-prob=0_loss-prob=0.3_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.3_accuracy_vs_time.png'
plot 'crash-prob=0_loss-prob=0.3_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.3_accuracy_vs_time.svg'
plot 'crash-prob=0_loss-prob=0.3_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.3_accuracy_vs_updates.png'
plot 'crash-prob=0_loss-prob=0.3_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.3_accuracy_vs_updates.svg'
plot 'crash-prob=0_loss-prob=0.3_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0 loss-prob=0.3'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:85.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0_loss-prob=0.3_staleness.png'
plot 'crash-prob=0_loss-prob=0.3_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0_loss-prob=0.3_staleness.svg'
plot 'crash-prob=0_loss-prob=0.3_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0_loss-prob=0.3)', \
     'crash-prob=0_loss-prob=0.3_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0_accuracy_vs_bytes.png'
plot 'crash-prob=0.01_loss-prob=0_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0_accuracy_vs_bytes.svg'
plot 'crash-prob=0.01_loss-prob=0_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0_accuracy_vs_time.png'
plot 'crash-prob=0.01_loss-prob=0_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0_accuracy_vs_time.svg'
plot 'crash-prob=0.01_loss-prob=0_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0_accuracy_vs_updates.png'
plot 'crash-prob=0.01_loss-prob=0_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0_accuracy_vs_updates.svg'
plot 'crash-prob=0.01_loss-prob=0_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0_staleness.png'
plot 'crash-prob=0.01_loss-prob=0_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0_staleness.svg'
plot 'crash-prob=0.01_loss-prob=0_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0)', \
     'crash-prob=0.01_loss-prob=0_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.1_accuracy_vs_bytes.png'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.1_accuracy_vs_bytes.svg'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.1_accuracy_vs_time.png'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.1_accuracy_vs_time.svg'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.1_accuracy_vs_updates.png'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.1_accuracy_vs_updates.svg'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:92.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.1_staleness.png'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.1_staleness.svg'
plot 'crash-prob=0.01_loss-prob=0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.1)', \
     'crash-prob=0.01_loss-prob=0.1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.3_accuracy_vs_bytes.png'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.3_accuracy_vs_bytes.svg'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.3_accuracy_vs_time.png'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.3_accuracy_vs_time.svg'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.3_accuracy_vs_updates.png'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.3_accuracy_vs_updates.svg'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.01 loss-prob=0.3'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:78.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.01_loss-prob=0.3_staleness.png'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.01_loss-prob=0.3_staleness.svg'
plot 'crash-prob=0.01_loss-prob=0.3_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.01_loss-prob=0.3)', \
     'crash-prob=0.01_loss-prob=0.3_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.01_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0_accuracy_vs_bytes.png'
plot 'crash-prob=0.1_loss-prob=0_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0_accuracy_vs_bytes.svg'
plot 'crash-prob=0.1_loss-prob=0_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0_accuracy_vs_time.png'
plot 'crash-prob=0.1_loss-prob=0_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0_accuracy_vs_time.svg'
plot 'crash-prob=0.1_loss-prob=0_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0_accuracy_vs_updates.png'
plot 'crash-prob=0.1_loss-prob=0_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0_accuracy_vs_updates.svg'
plot 'crash-prob=0.1_loss-prob=0_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:92.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0_staleness.png'
plot 'crash-prob=0.1_loss-prob=0_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0_staleness.svg'
plot 'crash-prob=0.1_loss-prob=0_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0)', \
     'crash-prob=0.1_loss-prob=0_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.1_accuracy_vs_bytes.png'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.1_accuracy_vs_bytes.svg'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.1_accuracy_vs_time.png'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.1_accuracy_vs_time.svg'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.1_accuracy_vs_updates.png'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.1_accuracy_vs_updates.svg'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:85.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.1_staleness.png'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.1_staleness.svg'
plot 'crash-prob=0.1_loss-prob=0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.1)', \
     'crash-prob=0.1_loss-prob=0.1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.1)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.3_accuracy_vs_bytes.png'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.3_accuracy_vs_bytes.svg'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.3_accuracy_vs_time.png'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.3_accuracy_vs_time.svg'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.3'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.3_accuracy_vs_updates.png'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.3_accuracy_vs_updates.svg'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output

reset session
set grid
set key bottom right
set title 'reliability: crash-prob=0.1 loss-prob=0.3'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:68.5]
set terminal pngcairo noenhanced size 960,600
set output 'crash-prob=0.1_loss-prob=0.3_staleness.png'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'crash-prob=0.1_loss-prob=0.3_staleness.svg'
plot 'crash-prob=0.1_loss-prob=0.3_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_crash-prob=0.1_loss-prob=0.3)', \
     'crash-prob=0.1_loss-prob=0.3_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_crash-prob=0.1_loss-prob=0.3)'
unset output
