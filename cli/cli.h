/* cli.h - the subcommands of the `hearth` command and the helpers they share. */
#ifndef HEARTH_CLI_H
#define HEARTH_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "hearth.h"

int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Parses "5,17,42" (commas and/or spaces) into a malloc'ed array; false on a malformed list. */
bool cli_parse_ids(const char *s, int32_t **ids, int *n);
/* Loads a model (n_threads 0 = all cores) or prints the error and returns NULL. */
hearth_model *cli_load_model(const char *path, int n_threads);
/* Reports an error as "hearth <cmd>: message" on stderr; returns 1 for `return cli_fail(...)`. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
