# bnconform::warnings: the warning set every target of the project builds with.
# -Wnull-dereference is left out: GCC 12 at -O3 reports it inside libstdc++'s
# vector construction (false positives), which -Werror would turn into build breaks.
add_library(bnconform_warnings INTERFACE)
add_library(bnconform::warnings ALIAS bnconform_warnings)
target_compile_options(bnconform_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough>)
if(BNCONFORM_WERROR)
  target_compile_options(bnconform_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-Werror>)
endif()
