/* clock.c - the one variable behind clock.h: the test kit's fixed clock. */
#include "clock.h"

int64_t sh_test_clock_ms;
