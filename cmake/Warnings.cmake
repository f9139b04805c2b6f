# bnconform::warnings: the warning set every target of the project builds with.
# -Wnull-dereference is left out: GCC 12 at -O3 reports it inside libstdc++'s
# vector construction (false positives), which -Werror would turn into build breaks.
add_library(bnconform_warnings INTERFACE)
add_library(bnconform::warnings ALIAS bnconform_warnings)
target_compile_options(bnconform_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough>
  # C (examples/c_kernel): the same set less the C++-only options GCC warns about.
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wcast-align -Wimplicit-fallthrough>)
if(BNCONFORM_WERROR)
  target_compile_options(bnconform_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-Werror>)
endif()
# GCC 12 at -O3 (the release preset) reports -Wrestrict inside libstdc++'s
# `"literal" + std::string&&` (GCC bug 105329, fixed in GCC 13): a false positive in
# the standard library, not in our code. Off for GCC 12 only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(bnconform_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
