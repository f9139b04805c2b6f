# Where bnconform's run-time files live, installed (GNUInstallDirs) and in the build
# tree. cli/install_paths.cpp finds them relative to the bnconform executable: only
# the relative paths below are compiled in, so an installed tree can be moved or
# packaged, and the binary holds no path of the source or build tree.
#   installed:  bin/bnconform, share/bnconform/golden/{cases,specs}, lib/bnconform/*.so
#   build tree: bnconform, share/bnconform/golden/{cases,specs} (links into the source
#               tree, so that `golden regen` writes there), lib/bnconform/*.so
include(GNUInstallDirs)

set(BNCONFORM_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/bnconform)
set(BNCONFORM_INSTALL_PLUGINDIR ${CMAKE_INSTALL_LIBDIR}/bnconform)
set(BNCONFORM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/bnconform)
set(BNCONFORM_BUILD_DATADIR share/bnconform)
set(BNCONFORM_BUILD_PLUGINDIR lib/bnconform)

# From the executable's directory to the installed data and plugins (multiarch
# libdirs such as lib/x86_64-linux-gnu included).
file(RELATIVE_PATH BNCONFORM_INSTALLED_DATA_FROM_BIN
  ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_DATADIR}/bnconform)
file(RELATIVE_PATH BNCONFORM_INSTALLED_PLUGINS_FROM_BIN
  ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR}/bnconform)

# __FILE__ (RapidCheck's RC_FAIL, assert) relative to the source tree, so that no
# source path is compiled in either; debug information keeps its absolute paths.
add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=>)

# The build tree's data: links to the catalog in the source tree.
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/${BNCONFORM_BUILD_DATADIR}/golden)
foreach(part cases specs)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/golden/${part}
    ${PROJECT_BINARY_DIR}/${BNCONFORM_BUILD_DATADIR}/golden/${part} SYMBOLIC)
endforeach()

# bnconform_layout_definitions(SOURCE): the relative layout, for the one file that
# reads it.
function(bnconform_layout_definitions source)
  set_property(SOURCE ${source} APPEND PROPERTY COMPILE_DEFINITIONS
    BNCONFORM_INSTALLED_DATA="${BNCONFORM_INSTALLED_DATA_FROM_BIN}"
    BNCONFORM_INSTALLED_PLUGINS="${BNCONFORM_INSTALLED_PLUGINS_FROM_BIN}"
    BNCONFORM_BUILD_TREE_DATA="${BNCONFORM_BUILD_DATADIR}"
    BNCONFORM_BUILD_TREE_PLUGINS="${BNCONFORM_BUILD_PLUGINDIR}")
endfunction()

# bnconform_install_plugin(TARGET): a kernel plugin library, in the plugin directory
# of the build tree and of the install (where `--kernel NAME` finds peers by name).
function(bnconform_install_plugin target)
  # Installed, it keeps the link directories outside the system's (the CUDA
  # toolkit's) in its run path, as it had them in the build tree.
  set_target_properties(${target} PROPERTIES
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/${BNCONFORM_BUILD_PLUGINDIR}
    INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS ${target} LIBRARY DESTINATION ${BNCONFORM_INSTALL_PLUGINDIR})
endfunction()
