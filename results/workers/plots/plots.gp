# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.
set grid
set key bottom right
set ylabel 'test accuracy (%)'

reset session
set grid
set key bottom right
set title 'workers: workers=10'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'workers=10_accuracy_vs_bytes.png'
plot 'workers=10_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=10_accuracy_vs_bytes.svg'
plot 'workers=10_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=10'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'workers=10_accuracy_vs_time.png'
plot 'workers=10_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=10_accuracy_vs_time.svg'
plot 'workers=10_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=10'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'workers=10_accuracy_vs_updates.png'
plot 'workers=10_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=10_accuracy_vs_updates.svg'
plot 'workers=10_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=10'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:9.5]
set terminal pngcairo noenhanced size 960,600
set output 'workers=10_staleness.png'
plot 'workers=10_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=10_staleness.svg'
plot 'workers=10_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_workers=10_lr=0.1)', \
     'workers=10_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_workers=10_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=100'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'workers=100_accuracy_vs_bytes.png'
plot 'workers=100_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=100_accuracy_vs_bytes.svg'
plot 'workers=100_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=100'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'workers=100_accuracy_vs_time.png'
plot 'workers=100_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=100_accuracy_vs_time.svg'
plot 'workers=100_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=100'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'workers=100_accuracy_vs_updates.png'
plot 'workers=100_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=100_accuracy_vs_updates.svg'
plot 'workers=100_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=100'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'workers=100_staleness.png'
plot 'workers=100_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=100_staleness.svg'
plot 'workers=100_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_workers=100_lr=0.03)', \
     'workers=100_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_workers=100_lr=0.05)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=1000'
set ylabel 'test accuracy (%)'
set yrange [30:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'workers=1000_accuracy_vs_bytes.png'
plot 'workers=1000_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=1000_accuracy_vs_bytes.svg'
plot 'workers=1000_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=1000'
set ylabel 'test accuracy (%)'
set yrange [30:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'workers=1000_accuracy_vs_time.png'
plot 'workers=1000_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=1000_accuracy_vs_time.svg'
plot 'workers=1000_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=1000'
set ylabel 'test accuracy (%)'
set yrange [30:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'workers=1000_accuracy_vs_updates.png'
plot 'workers=1000_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=1000_accuracy_vs_updates.svg'
plot 'workers=1000_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output

reset session
set grid
set key bottom right
set title 'workers: workers=1000'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:999.5]
set terminal pngcairo noenhanced size 960,600
set output 'workers=1000_staleness.png'
plot 'workers=1000_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'workers=1000_staleness.svg'
plot 'workers=1000_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_workers=1000_lr=0.003)', \
     'workers=1000_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_workers=1000_lr=0.01)'
unset output
