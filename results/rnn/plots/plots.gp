# Written by rnnl-study; run `gnuplot plots.gp` in this folder to redraw the figures.
set grid
set key bottom right
set ylabel 'test accuracy (%)'

reset session
set grid
set key bottom right
set title 'rnn: model=cnn_rnl'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'model=cnn_rnl_accuracy_vs_bytes.png'
plot 'model=cnn_rnl_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=cnn_rnl_accuracy_vs_bytes.svg'
plot 'model=cnn_rnl_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=cnn_rnl'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'model=cnn_rnl_accuracy_vs_time.png'
plot 'model=cnn_rnl_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=cnn_rnl_accuracy_vs_time.svg'
plot 'model=cnn_rnl_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=cnn_rnl'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'model=cnn_rnl_accuracy_vs_updates.png'
plot 'model=cnn_rnl_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=cnn_rnl_accuracy_vs_updates.svg'
plot 'model=cnn_rnl_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=cnn_rnl'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'model=cnn_rnl_staleness.png'
plot 'model=cnn_rnl_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=cnn_rnl_staleness.svg'
plot 'model=cnn_rnl_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_model=cnn_rnl)', \
     'model=cnn_rnl_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_model=cnn_rnl)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=gelenbe_ff'
set ylabel 'test accuracy (%)'
set yrange [70:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'model=gelenbe_ff_accuracy_vs_bytes.png'
plot 'model=gelenbe_ff_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=gelenbe_ff_accuracy_vs_bytes.svg'
plot 'model=gelenbe_ff_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=gelenbe_ff'
set ylabel 'test accuracy (%)'
set yrange [70:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'model=gelenbe_ff_accuracy_vs_time.png'
plot 'model=gelenbe_ff_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=gelenbe_ff_accuracy_vs_time.svg'
plot 'model=gelenbe_ff_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=gelenbe_ff'
set ylabel 'test accuracy (%)'
set yrange [70:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'model=gelenbe_ff_accuracy_vs_updates.png'
plot 'model=gelenbe_ff_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=gelenbe_ff_accuracy_vs_updates.svg'
plot 'model=gelenbe_ff_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=gelenbe_ff'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'model=gelenbe_ff_staleness.png'
plot 'model=gelenbe_ff_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=gelenbe_ff_staleness.svg'
plot 'model=gelenbe_ff_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_model=gelenbe_ff)', \
     'model=gelenbe_ff_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_model=gelenbe_ff)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=mlp'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set logscale x
set xlabel 'MB sent to the server (log scale)'
set terminal pngcairo noenhanced size 960,600
set output 'model=mlp_accuracy_vs_bytes.png'
plot 'model=mlp_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=mlp)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=mlp_accuracy_vs_bytes.svg'
plot 'model=mlp_ASGD.dat' using 2:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.dat' using 2:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=mlp)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=mlp'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'virtual seconds'
set terminal pngcairo noenhanced size 960,600
set output 'model=mlp_accuracy_vs_time.png'
plot 'model=mlp_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=mlp)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=mlp_accuracy_vs_time.svg'
plot 'model=mlp_ASGD.dat' using 3:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.dat' using 3:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=mlp)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=mlp'
set ylabel 'test accuracy (%)'
set yrange [80:100]
set xlabel 'server updates'
set terminal pngcairo noenhanced size 960,600
set output 'model=mlp_accuracy_vs_updates.png'
plot 'model=mlp_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=mlp)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=mlp_accuracy_vs_updates.svg'
plot 'model=mlp_ASGD.dat' using 1:4 with linespoints pointsize 0.5 title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.dat' using 1:4 with linespoints pointsize 0.5 title 'AdaComp (AdaComp_model=mlp)'
unset output

reset session
set grid
set key bottom right
set title 'rnn: model=mlp'
set key top right
set ylabel 'share of applied pushes'
set xlabel 'delay (server updates between fetch and apply)'
set style fill transparent solid 0.4 noborder
set boxwidth 1
set xrange [-0.5:99.5]
set terminal pngcairo noenhanced size 960,600
set output 'model=mlp_staleness.png'
plot 'model=mlp_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_model=mlp)'
unset output
set terminal svg noenhanced size 960,600 dynamic
set output 'model=mlp_staleness.svg'
plot 'model=mlp_ASGD.staleness.dat' using 1:2 with boxes title 'ASGD (ASGD_model=mlp)', \
     'model=mlp_AdaComp.staleness.dat' using 1:2 with boxes title 'AdaComp (AdaComp_model=mlp)'
unset output
