// Catch2 main for the whole suite: one executable, one test file per unit.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
