# Configures, builds and runs one consumer project in a fresh directory (cmake -P script).
#   MODE                find_package | add_subdirectory | fetch_content
#   IFT_SOURCE_DIR      this repository
#   CONSUMER_SOURCE_DIR the consumer project
#   WORK_DIR            scratch directory, emptied first
#   GENERATOR, CXX_COMPILER  the same toolchain as the enclosing build
foreach(var MODE IFT_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "consumer ${MODE}: command failed (${result}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
# No optimization: these programs check that ift can be found and used, quickly.
set(toolchain -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=)
set(consumer_args)

if(MODE STREQUAL "find_package")
  # Install ift into a private prefix, exactly as a user would: configure, then cmake --install.
  run(${CMAKE_COMMAND} -S ${IFT_SOURCE_DIR} -B ${WORK_DIR}/ift-build ${toolchain}
      -DIFT_BUILD_TESTS=OFF -DIFT_BUILD_EXAMPLES=OFF -DIFT_BUILD_BENCHMARKS=OFF)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/ift-build --prefix ${WORK_DIR}/prefix)
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND consumer_args -DIFT_PATH=${IFT_SOURCE_DIR})
elseif(MODE STREQUAL "fetch_content")
  # FetchContent's documented override: use this checkout instead of downloading the repository.
  list(APPEND consumer_args -DFETCHCONTENT_SOURCE_DIR_IFT=${IFT_SOURCE_DIR})
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE ${MODE}")
endif()

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build ${toolchain} ${consumer_args})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
