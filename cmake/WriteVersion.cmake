# Script mode (cmake -P), run at every build: writes generated/core/version.hpp from
# version.hpp.in with the commit the tree is at now, rewriting the file only when its content
# changes, so a commit between builds reaches the binary's provenance without a reconfigure.
# Inputs: SRC, DST, ROOT, PROJECT_VERSION, GIT_EXECUTABLE.
set(FROST_GIT_COMMIT "unknown")
if(GIT_EXECUTABLE AND EXISTS ${ROOT}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${ROOT} OUTPUT_VARIABLE FROST_GIT_COMMIT
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
configure_file(${SRC} ${DST} @ONLY)
