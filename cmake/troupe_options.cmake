# Warnings and sanitizers shared by every troupe target.
add_library(troupe_build_options INTERFACE)
target_compile_options(troupe_build_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  $<$<BOOL:${TROUPE_WERROR}>:-Werror>)

if(TROUPE_SANITIZE)
  # Line tables (-g1) are all a sanitizer's reports need; full debug info (-g) made the
  # libraries' -O1 compiles half as long again.
  add_compile_options(-fsanitize=${TROUPE_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${TROUPE_SANITIZE})
  if(TROUPE_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# clang 14 leaves sized deallocation off by default, and the core's envelopes call the sized
# aligned ::operator delete; the fuzz build (clang only) turns it on for everything it compiles.
if(TROUPE_BUILD_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fsized-deallocation)
endif()
