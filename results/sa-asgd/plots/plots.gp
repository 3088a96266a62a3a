# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.
set grid
set key bottom right
set ylabel 'test accuracy (%)'

reset session
set grid
set key bottom right
set title 'sa-asgd'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'accuracy_vs_bytes.png'
plot 'SA-ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.dat' using 2:4 with linespoints pointsize 0.5 title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'accuracy_vs_bytes.svg'
plot 'SA-ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.dat' using 2:4 with linespoints pointsize 0.5 title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output

reset session
set grid
set key bottom right
set title 'sa-asgd'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'accuracy_vs_time.png'
plot 'SA-ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.dat' using 3:4 with linespoints pointsize 0.5 title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'accuracy_vs_time.svg'
plot 'SA-ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.dat' using 3:4 with linespoints pointsize 0.5 title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output

reset session
set grid
set key bottom right
set title 'sa-asgd'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'accuracy_vs_updates.png'
plot 'SA-ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.dat' using 1:4 with linespoints pointsize 0.5 title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'accuracy_vs_updates.svg'
plot 'SA-ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.dat' using 1:4 with linespoints pointsize 0.5 title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output

reset session
set grid
set key bottom right
set title 'sa-asgd'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'staleness.png'
plot 'SA-ASGD.staleness.dat' using 1:2 with boxes title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.staleness.dat' using 1:2 with boxes title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'staleness.svg'
plot 'SA-ASGD.staleness.dat' using 1:2 with boxes title 'SA-ASGD (SA-ASGD_lr=0.1)', \
     'SA-ASGD-clip.staleness.dat' using 1:2 with boxes title 'SA-ASGD-clip (SA-ASGD-clip_lr=3)'
unset output
