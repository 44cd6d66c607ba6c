# Compiler warnings and sanitizers, applied through one INTERFACE target.
add_library(frost_warnings INTERFACE)
target_compile_options(frost_warnings INTERFACE -Wall -Wextra -Wshadow=local)
if(FROST_WARNINGS_AS_ERRORS)
  target_compile_options(frost_warnings INTERFACE -Werror)
endif()
if(FROST_ENABLE_SANITIZERS)
  target_compile_options(frost_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                  -fno-sanitize-recover=undefined)
  target_link_options(frost_warnings INTERFACE -fsanitize=address,undefined)
  # GCC 12 reports maybe-uninitialized false positives inside <regex> and <functional> once the
  # sanitizers instrument them; the Release build keeps the warning.
  target_compile_options(frost_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
