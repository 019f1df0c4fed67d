# Fails when the README's example differs from the files the build compiles.
file(READ "${README}" readme)
string(REPLACE "," ";" examples "${EXAMPLES}")  # a comma list: one -D value
foreach(example IN LISTS examples)
  file(READ "${SOURCE_DIR}/${example}" text)
  string(FIND "${readme}" "<!-- example: ${example} -->\n```cpp\n${text}```" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "README.md's example is not ${example} verbatim")
  endif()
endforeach()
