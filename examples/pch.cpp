// The translation unit that carries the examples' precompiled header (see examples/CMakeLists.txt).
