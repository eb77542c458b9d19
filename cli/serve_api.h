/* serve_api.h - `hearth serve -m MODEL`: the OpenAI-style API (POST /v1/chat/completions, GET /v1/models) beside the file server. */
#ifndef HEARTH_CLI_SERVE_API_H
#define HEARTH_CLI_SERVE_API_H

#include <microhttpd.h>

/* One model and one session behind the API (owned). Requests take turns on the session; a
 * conversation that continues the previous one reuses its state (only the new text is prefilled). */
typedef struct serve_api serve_api;

/* Loads the model; NULL after printing the reason. n_ctx 0: the session's default. */
serve_api *serve_api_new(const char *model_path, int n_ctx, int n_threads);
void serve_api_free(serve_api *a); /* NULL is fine */

/* True for the URLs serve_api_request answers (everything under /v1/). */
int serve_api_owns(const char *url);

/* The MHD access handler for those URLs (a NULL api answers 404 "no model"). *req_cls holds the
 * request body being read; serve_api_completed frees it. */
enum MHD_Result serve_api_request(serve_api *a, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *upload_data, size_t *upload_size, void **req_cls);
void serve_api_completed(void *req_cls);

#endif
