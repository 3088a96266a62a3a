# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.
set grid
set key bottom right
set ylabel 'test accuracy (%)'

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'speed=1_accuracy_vs_bytes.png'
plot 'speed=1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=1_accuracy_vs_bytes.svg'
plot 'speed=1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'speed=1_accuracy_vs_time.png'
plot 'speed=1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=1_accuracy_vs_time.svg'
plot 'speed=1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'speed=1_accuracy_vs_updates.png'
plot 'speed=1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=1_accuracy_vs_updates.svg'
plot 'speed=1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'speed=1_staleness.png'
plot 'speed=1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=1_staleness.svg'
plot 'speed=1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=1)', \
     'speed=1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.2,4'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.2+4_accuracy_vs_bytes.png'
plot 'speed=two-class+0.2+4_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.2+4_accuracy_vs_bytes.svg'
plot 'speed=two-class+0.2+4_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.2,4'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.2+4_accuracy_vs_time.png'
plot 'speed=two-class+0.2+4_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.2+4_accuracy_vs_time.svg'
plot 'speed=two-class+0.2+4_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.2,4'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.2+4_accuracy_vs_updates.png'
plot 'speed=two-class+0.2+4_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.2+4_accuracy_vs_updates.svg'
plot 'speed=two-class+0.2+4_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.2,4'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:179.5]
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.2+4_staleness.png'
plot 'speed=two-class+0.2+4_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.2+4_staleness.svg'
plot 'speed=two-class+0.2+4_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=two-class+0.2+4)', \
     'speed=two-class+0.2+4_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=two-class+0.2+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.5,4'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.5+4_accuracy_vs_bytes.png'
plot 'speed=two-class+0.5+4_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.5+4_accuracy_vs_bytes.svg'
plot 'speed=two-class+0.5+4_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.5,4'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.5+4_accuracy_vs_time.png'
plot 'speed=two-class+0.5+4_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.5+4_accuracy_vs_time.svg'
plot 'speed=two-class+0.5+4_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.5,4'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.5+4_accuracy_vs_updates.png'
plot 'speed=two-class+0.5+4_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.5+4_accuracy_vs_updates.svg'
plot 'speed=two-class+0.5+4_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=two-class:0.5,4'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:149.5]
set terminal pngcairo noenhanced size 960,600
set output 'speed=two-class+0.5+4_staleness.png'
plot 'speed=two-class+0.5+4_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=two-class+0.5+4_staleness.svg'
plot 'speed=two-class+0.5+4_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=two-class+0.5+4)', \
     'speed=two-class+0.5+4_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=two-class+0.5+4)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,0.5'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+0.5_accuracy_vs_bytes.png'
plot 'speed=lognormal+0+0.5_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+0.5_accuracy_vs_bytes.svg'
plot 'speed=lognormal+0+0.5_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,0.5'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+0.5_accuracy_vs_time.png'
plot 'speed=lognormal+0+0.5_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+0.5_accuracy_vs_time.svg'
plot 'speed=lognormal+0+0.5_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,0.5'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+0.5_accuracy_vs_updates.png'
plot 'speed=lognormal+0+0.5_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+0.5_accuracy_vs_updates.svg'
plot 'speed=lognormal+0+0.5_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,0.5'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:115.5]
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+0.5_staleness.png'
plot 'speed=lognormal+0+0.5_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+0.5_staleness.svg'
plot 'speed=lognormal+0+0.5_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=lognormal+0+0.5)', \
     'speed=lognormal+0+0.5_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=lognormal+0+0.5)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+1_accuracy_vs_bytes.png'
plot 'speed=lognormal+0+1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+1_accuracy_vs_bytes.svg'
plot 'speed=lognormal+0+1_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+1_accuracy_vs_time.png'
plot 'speed=lognormal+0+1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+1_accuracy_vs_time.svg'
plot 'speed=lognormal+0+1_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,1'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+1_accuracy_vs_updates.png'
plot 'speed=lognormal+0+1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+1_accuracy_vs_updates.svg'
plot 'speed=lognormal+0+1_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output

reset session
set grid
set key bottom right
set title 'heterogeneity: speed=lognormal:0,1'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:178.5]
set terminal pngcairo noenhanced size 960,600
set output 'speed=lognormal+0+1_staleness.png'
plot 'speed=lognormal+0+1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'speed=lognormal+0+1_staleness.svg'
plot 'speed=lognormal+0+1_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_speed=lognormal+0+1)', \
     'speed=lognormal+0+1_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_speed=lognormal+0+1)'
unset output
