/* serve.h - `hearth serve`: a static file server for the web app and model files (Range, COOP/COEP, CSP), and with -m the OpenAI-style chat API. */
#ifndef HEARTH_CLI_SERVE_H
#define HEARTH_CLI_SERVE_H

/* Runs `hearth serve [--port P] [--root DIR] [--host ADDR] [-m MODEL]` until SIGINT or SIGTERM.
 * argv[0] is "serve". Returns a process exit status (0 on a clean stop). */
int hearth_cmd_serve(int argc, char **argv);

#endif
