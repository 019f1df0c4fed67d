# Fails when the README's example differs from the file the build compiles.
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "<!-- example: app/examples/clock_server.cpp -->\n```cpp\n${example}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md's example is not app/examples/clock_server.cpp verbatim")
endif()
