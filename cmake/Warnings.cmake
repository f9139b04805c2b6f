# bnconform::warnings: the warning set every target of the project builds with.
add_library(bnconform_warnings INTERFACE)
add_library(bnconform::warnings ALIAS bnconform_warnings)
target_compile_options(bnconform_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wnull-dereference
    -Wimplicit-fallthrough>)
if(BNCONFORM_WERROR)
  target_compile_options(bnconform_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-Werror>)
endif()
