# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.
set grid
set key bottom right
set ylabel 'test accuracy (%)'

reset session
set grid
set key bottom right
set title 'noniid: shards=iid'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'shards=iid_accuracy_vs_bytes.png'
plot 'shards=iid_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=iid_accuracy_vs_bytes.svg'
plot 'shards=iid_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=iid'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'shards=iid_accuracy_vs_time.png'
plot 'shards=iid_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=iid_accuracy_vs_time.svg'
plot 'shards=iid_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=iid'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'shards=iid_accuracy_vs_updates.png'
plot 'shards=iid_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=iid_accuracy_vs_updates.svg'
plot 'shards=iid_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=iid'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'shards=iid_staleness.png'
plot 'shards=iid_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=iid_staleness.svg'
plot 'shards=iid_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=iid)', \
     'shards=iid_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_shards=iid)', \
     'shards=iid_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=iid)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=classes:2'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'shards=classes+2_accuracy_vs_bytes.png'
plot 'shards=classes+2_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=classes+2_accuracy_vs_bytes.svg'
plot 'shards=classes+2_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=classes:2'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'shards=classes+2_accuracy_vs_time.png'
plot 'shards=classes+2_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=classes+2_accuracy_vs_time.svg'
plot 'shards=classes+2_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=classes:2'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'shards=classes+2_accuracy_vs_updates.png'
plot 'shards=classes+2_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=classes+2_accuracy_vs_updates.svg'
plot 'shards=classes+2_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=classes:2'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'shards=classes+2_staleness.png'
plot 'shards=classes+2_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=classes+2_staleness.svg'
plot 'shards=classes+2_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=classes+2)', \
     'shards=classes+2_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=classes+2)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+0.1_accuracy_vs_bytes.png'
plot 'shards=dirichlet+0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+0.1_accuracy_vs_bytes.svg'
plot 'shards=dirichlet+0.1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+0.1_accuracy_vs_time.png'
plot 'shards=dirichlet+0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+0.1_accuracy_vs_time.svg'
plot 'shards=dirichlet+0.1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:0.1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+0.1_accuracy_vs_updates.png'
plot 'shards=dirichlet+0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+0.1_accuracy_vs_updates.svg'
plot 'shards=dirichlet+0.1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:0.1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+0.1_staleness.png'
plot 'shards=dirichlet+0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+0.1_staleness.svg'
plot 'shards=dirichlet+0.1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=dirichlet+0.1)', \
     'shards=dirichlet+0.1_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+0.1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+1_accuracy_vs_bytes.png'
plot 'shards=dirichlet+1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+1_accuracy_vs_bytes.svg'
plot 'shards=dirichlet+1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+1_accuracy_vs_time.png'
plot 'shards=dirichlet+1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+1_accuracy_vs_time.svg'
plot 'shards=dirichlet+1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+1_accuracy_vs_updates.png'
plot 'shards=dirichlet+1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+1_accuracy_vs_updates.svg'
plot 'shards=dirichlet+1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output

reset session
set grid
set key bottom right
set title 'noniid: shards=dirichlet:1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'shards=dirichlet+1_staleness.png'
plot 'shards=dirichlet+1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'shards=dirichlet+1_staleness.svg'
plot 'shards=dirichlet+1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_shards=dirichlet+1)', \
     'shards=dirichlet+1_AdaComp-0.03.staleness.dat' using 1:2 with boxes title 'AdaComp-0.03 (AdaComp-0.03_shards=dirichlet+1)'
unset output
