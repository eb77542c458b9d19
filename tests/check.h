/* check.h - the tiny assertion kit shared by the C tests: counts checks, prints failures and a summary line. */
#ifndef HEARTH_CHECK_H
#define HEARTH_CHECK_H

#include <stdio.h>

static int check_passed_, check_failed_;

/* Records one check. On failure prints where and the formatted reason. */
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            check_passed_++;                                                    \
        } else {                                                                \
            check_failed_++;                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Prints the line tests/run.sh adds up, and returns the exit code for main(). */
static inline int check_summary(const char *name) {
    printf("## %s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
