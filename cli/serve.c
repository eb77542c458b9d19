/* serve.c - `hearth serve`: serves the repo layout (web app, wasm, models) on libmicrohttpd with Range and isolation headers; with -m, the chat API too (serve_api.c). */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include <microhttpd.h>

#include "serve_api.h"

/* Strict policy for the app: no inline script, no eval (WebAssembly compilation is allowed),
 * workers and scripts from this origin only. Model URLs on other https origins may be fetched. */
static const char CSP[] =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self' https:; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

typedef struct {
    char root[PATH_MAX]; /* realpath of --root, no trailing slash */
    size_t root_len;
    int quiet;
    serve_api *api; /* -m MODEL: the chat API under /v1/; NULL without a model */
} serve_ctx;

/* *req_cls of a file request after its first call (an API request holds its body there instead) */
static char FILE_REQUEST;

typedef struct {
    const char *ext;
    const char *type;
} mime_entry;

static const mime_entry MIME[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".wasm", "application/wasm"},
    {".gguf", "application/octet-stream"},
    {".bin", "application/octet-stream"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".md", "text/markdown; charset=utf-8"},
    {".map", "application/json"},
    {".ts", "text/plain; charset=utf-8"},
};

static const char *mime_type(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash)) {
        for (size_t i = 0; i < sizeof MIME / sizeof MIME[0]; i++)
            if (strcasecmp(dot, MIME[i].ext) == 0) return MIME[i].type;
    }
    return "application/octet-stream";
}

/* A URL path is acceptable when it is absolute and has no empty-dot, "..", hidden (".x") or
 * backslash segments. MHD has already percent-decoded it, so "%2e%2e" arrives here as "..". */
static int path_is_safe(const char *url) {
    if (url[0] != '/') return 0;
    if (strchr(url, '\\')) return 0;
    for (const char *p = url; *p;) {
        while (*p == '/') p++;
        if (*p == '.') return 0; /* ".", "..", ".git", ".env", ... */
        while (*p && *p != '/') p++;
    }
    return 1;
}

/* Parses a single "bytes=" range against `size`. Returns 1 with [*first, *last] set, 0 when the
 * header should be ignored (absent, malformed or several ranges: serve the whole file), -1 when
 * it cannot be satisfied (416). */
static int parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last) {
    if (!h || strncmp(h, "bytes=", 6) != 0) return 0;
    h += 6;
    if (strchr(h, ',')) return 0;
    char *end;
    if (*h == '-') { /* suffix: the last n bytes */
        errno = 0;
        unsigned long long n = strtoull(h + 1, &end, 10);
        if (errno || end == h + 1 || *end) return 0;
        if (n == 0 || size == 0) return -1;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return 1;
    }
    if (*h < '0' || *h > '9') return 0;
    errno = 0;
    unsigned long long a = strtoull(h, &end, 10);
    if (errno || *end != '-') return 0;
    const char *b = end + 1;
    unsigned long long z = size ? size - 1 : 0;
    if (*b) {
        if (*b < '0' || *b > '9') return 0;
        z = strtoull(b, &end, 10);
        if (errno || *end) return 0;
        if (z < a) return 0;
        if (z >= size) z = size - 1;
    }
    if (a >= size) return -1;
    *first = a;
    *last = z;
    return 1;
}

static void add_common_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *text) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    add_common_headers(r);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_redirect(struct MHD_Connection *c, const char *location) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    add_common_headers(r);
    MHD_add_response_header(r, "Location", location);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_FOUND, r);
    MHD_destroy_response(r);
    return ret;
}

/* Resolves `url` under the root. Returns an open read-only fd of a regular file inside the root,
 * -1 when not found (or escaping the root through a symlink), -2 when it is a directory. */
static int open_under_root(const serve_ctx *ctx, const char *url, char *resolved) {
    char joined[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s", ctx->root, url);
    if (n < 0 || (size_t)n >= sizeof joined) return -1;
    if (!realpath(joined, resolved)) return -1;
    if (strncmp(resolved, ctx->root, ctx->root_len) != 0 ||
        (resolved[ctx->root_len] != '/' && resolved[ctx->root_len] != 0))
        return -1;
    struct stat st;
    if (stat(resolved, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) return -2;
    if (!S_ISREG(st.st_mode)) return -1;
    return open(resolved, O_RDONLY | O_CLOEXEC);
}

static enum MHD_Result serve_file(struct MHD_Connection *c, int fd, const char *path, int is_service_worker) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "stat failed\n");
    }
    uint64_t size = (uint64_t)st.st_size;
    char etag[64], lastmod[64];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"", size,
             (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
    struct tm tmv;
    gmtime_r(&st.st_mtim.tv_sec, &tmv);
    strftime(lastmod, sizeof lastmod, "%a, %d %b %Y %H:%M:%S GMT", &tmv);

    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        add_common_headers(r);
        MHD_add_response_header(r, "ETag", etag);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, r);
        MHD_destroy_response(r);
        return ret;
    }

    uint64_t first = 0, last = size ? size - 1 : 0;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
    if (if_range && strcmp(if_range, etag) != 0 && strcmp(if_range, lastmod) != 0) range = NULL;
    int pr = parse_range(range, size, &first, &last);
    if (pr < 0) {
        close(fd);
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        add_common_headers(r);
        MHD_add_response_header(r, "Content-Range", cr);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
        MHD_destroy_response(r);
        return ret;
    }
    uint64_t len = size ? last - first + 1 : 0;
    /* MHD owns fd from here: it closes it when the response is destroyed. */
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, first);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    add_common_headers(r);
    MHD_add_response_header(r, "Content-Type", mime_type(path));
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Last-Modified", lastmod);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    /* The app's service worker lives in /web/ but must control the whole site: the engine's worker
     * and its wasm threads (/build/wasm/) are controlled by the worker whose scope holds their URL. */
    if (is_service_worker) MHD_add_response_header(r, "Service-Worker-Allowed", "/");
    unsigned code = MHD_HTTP_OK;
    if (pr > 0) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
        MHD_add_response_header(r, "Content-Range", cr);
        code = MHD_HTTP_PARTIAL_CONTENT;
    }
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **req_cls) {
    const serve_ctx *ctx = cls;
    (void)version;
    if (serve_api_owns(url)) {
        if (*req_cls == NULL && !ctx->quiet) fprintf(stderr, "%s %s\n", method, url);
        return serve_api_request(ctx->api, c, url, method, upload_data, upload_size, req_cls);
    }
    /* Anything but GET and HEAD is refused at once, before a body is read. */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (*req_cls == NULL) { /* first call: headers only; answer on the second */
        *req_cls = &FILE_REQUEST;
        return MHD_YES;
    }
    if (*upload_size) return send_text(c, MHD_HTTP_BAD_REQUEST, "no request bodies\n");
    if (!ctx->quiet) fprintf(stderr, "%s %s\n", method, url);
    if (strcmp(url, "/") == 0) return send_redirect(c, "/web/app/");
    if (!path_is_safe(url)) return send_text(c, MHD_HTTP_BAD_REQUEST, "bad path\n");

    char resolved[PATH_MAX];
    int fd = open_under_root(ctx, url, resolved);
    if (fd == -2) {
        size_t n = strlen(url);
        if (n == 0 || url[n - 1] != '/') {
            char loc[PATH_MAX + 2];
            snprintf(loc, sizeof loc, "%s/", url);
            return send_redirect(c, loc);
        }
        char index[PATH_MAX];
        if ((size_t)snprintf(index, sizeof index, "%sindex.html", url) >= sizeof index)
            return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
        fd = open_under_root(ctx, index, resolved);
    }
    if (fd < 0) return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    return serve_file(c, fd, resolved, strcmp(url, "/web/sw.js") == 0);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    if (*req_cls && *req_cls != &FILE_REQUEST) serve_api_completed(*req_cls);
    *req_cls = NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: hearth serve [--port P] [--root DIR] [--host ADDR] [-m MODEL [-c CTX] [-t THREADS]] [--quiet]\n"
                    "  serves DIR (default .) at http://ADDR:P/ (default 127.0.0.1:8080; port 0 picks one);\n"
                    "  with -m, also an OpenAI-style API on that model: POST /v1/chat/completions, GET /v1/models\n");
}

/* Parses a non-negative int option value; false (after saying so) when it is not one. */
static bool int_arg(const char *name, const char *v, long max, long *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || end == v || x < 0 || x > max) {
        fprintf(stderr, "hearth serve: bad %s '%s'\n", name, v);
        return false;
    }
    *out = x;
    return true;
}

int hearth_cmd_serve(int argc, char **argv) {
    serve_ctx ctx = {0};
    const char *root = ".", *host = "127.0.0.1", *model = NULL;
    long port = 8080, n_ctx = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--port") == 0 && v) {
            if (!int_arg("port", v, 65535, &port)) return 2;
            i++;
        } else if ((strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) && v) {
            model = v;
            i++;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--ctx") == 0) && v) {
            if (!int_arg("context", v, 1 << 24, &n_ctx)) return 2;
            i++;
        } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) && v) {
            if (!int_arg("thread count", v, 1024, &threads)) return 2;
            i++;
        } else if (strcmp(a, "--root") == 0 && v) {
            root = v;
            i++;
        } else if (strcmp(a, "--host") == 0 && v) {
            host = v;
            i++;
        } else if (strcmp(a, "--quiet") == 0) {
            ctx.quiet = 1;
        } else {
            usage();
            return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ? 0 : 2;
        }
    }
    if (!realpath(root, ctx.root)) {
        fprintf(stderr, "hearth serve: cannot open root '%s': %s\n", root, strerror(errno));
        return 1;
    }
    ctx.root_len = strlen(ctx.root);
    if (ctx.root_len == 1) ctx.root_len = 0; /* root is "/": every path is inside */

    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "hearth serve: bad IPv4 address '%s'\n", host);
        return 2;
    }

    if (model && !(ctx.api = serve_api_new(model, (int)n_ctx, (int)threads))) return 1;

    /* Block the stop signals before MHD starts its threads, so only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, on_request, &ctx, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hearth serve: cannot listen on %s:%ld\n", host, port);
        serve_api_free(ctx.api);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : (unsigned)port;
    printf("hearth serve: http://%s:%u/web/app/ (root %s)\n", host, bound, ctx.root);
    if (ctx.api) printf("hearth serve: http://%s:%u/v1/chat/completions (model %s)\n", host, bound, model);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    serve_api_free(ctx.api);
    fprintf(stderr, "hearth serve: stopped\n");
    return 0;
}
