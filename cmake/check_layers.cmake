# Checks that each folder includes only what its README says it may depend on:
#   app/demo -> app/runtime -> transport -> actors -> core; supervision beside (actors use it),
#   on core alone.
# Run by the build (target `layers`, part of `all`): cmake -DROOT=<repo> -P cmake/check_layers.cmake
cmake_minimum_required(VERSION 3.25)
if(NOT ROOT)
  get_filename_component(ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()

# folder | project folders it may include | system headers it may not include
set(layers
  "core|core|caf/,boost/asio,boost/beast,boost/url,spdlog/"
  "supervision|supervision,core|boost/asio,boost/beast,boost/url"
  "actors|actors,core,supervision|boost/asio,boost/beast,boost/url"
  "transport|transport,actors,core,supervision|"
  "app/runtime|app/runtime,transport,actors,core,supervision|"
  "app/testing|app/testing,actors,core,supervision|boost/asio,boost/beast,boost/url"
  "app/demo|app/demo,app/runtime,transport,actors,core,supervision|"
  "app/examples|app/examples,app/runtime,transport,actors,core,supervision|"
  "bench/loadgen|bench/loadgen|caf/")

set(violations "")
foreach(layer IN LISTS layers)
  string(REPLACE "|" ";" parts "${layer}")
  list(GET parts 0 folder)
  list(GET parts 1 allowed)
  string(REPLACE "," ";" allowed "${allowed}")
  list(GET parts 2 forbidden)
  string(REPLACE "," ";" forbidden "${forbidden}")
  file(GLOB_RECURSE sources "${ROOT}/${folder}/*.cpp" "${ROOT}/${folder}/*.hpp")
  list(FILTER sources EXCLUDE REGEX "/node_modules/")
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" includes REGEX "^#include [\"<]")
    file(RELATIVE_PATH rel "${ROOT}" "${source}")
    foreach(line IN LISTS includes)
      if(NOT line MATCHES "^#include [\"<]([^\">]+)[\">]")
        continue()
      endif()
      set(header "${CMAKE_MATCH_1}")
      if(header MATCHES "^(core|actors|transport|app|supervision|bench|tests)/")
        set(ok FALSE)
        foreach(prefix IN LISTS allowed)
          string(FIND "${header}" "${prefix}/" at)
          if(at EQUAL 0)
            set(ok TRUE)
          endif()
        endforeach()
        if(NOT ok)
          list(APPEND violations "${rel}: ${line} (${folder} may include: ${allowed})")
        endif()
      else()
        foreach(prefix IN LISTS forbidden)
          string(FIND "${header}" "${prefix}" at)
          if(at EQUAL 0)
            list(APPEND violations "${rel}: ${line} (${folder} may not use ${prefix})")
          endif()
        endforeach()
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layering: includes against the dependency direction:\n  ${text}")
endif()
