// bench_exit: the smallest C++ program of this project, an empty main (linked so that it loads
// libstdc++ like the others: bench/CMakeLists.txt). bench_processes starts it with posix_spawn and
// waits for it, as the floor of what starting a C++ process costs here.

int main() {
    return 0;
}
