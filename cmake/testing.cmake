# add_unit_test(NAME src... LIBS lib...): a GoogleTest binary registered in ctest with label "unit".
include(GoogleTest)
function(add_unit_test name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# add_functional_test(NAME script.py [LABELS ...] [TIMEOUT s]): a pytest file run against the built binaries.
function(add_functional_test name script)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS functional)
  endif()
  add_test(NAME ${name}
           COMMAND python3 -m pytest -x -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/tests/functional/${script}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/functional)
  # 77: every test of the file was skipped (tests/functional/conftest.py), which ctest then reports as Skipped.
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} SKIP_RETURN_CODE 77
                       ENVIRONMENT "INFERENCE_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1")
endfunction()
