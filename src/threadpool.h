/* threadpool.h - a persistent pool of compute threads (pthreads natively and in emscripten's -pthread build).
 *
 *     htp_pool *p = htp_new(4);                 // 4 threads in all: the caller plus 3 workers
 *     htp_run(p, fn, &args);                    // fn(&args, ith, nth) on every thread, ith = 0..nth-1
 *     htp_free(p);
 *
 * htp_run returns when every thread has returned from fn; the caller runs ith = 0 itself. Between
 * runs the workers spin briefly (a forward pass issues hundreds of runs back to back) and then
 * sleep on a condition variable, so an idle pool costs no CPU. One run at a time per pool: a pool
 * belongs to one session, and a session is used by one thread at a time.
 * Without threads (a wasm build without -pthread, or pthread_create failing) the pool has fewer
 * threads, down to the caller alone, and everything still runs.
 */
#ifndef HEARTH_THREADPOOL_H
#define HEARTH_THREADPOOL_H

typedef struct htp_pool htp_pool;

/* Work of one run: called once per thread with its index ith in [0, nth). */
typedef void (*htp_fn)(void *arg, int ith, int nth);

/* A pool of n_threads threads in all (n_threads <= 0: one per online CPU, at most 64). Returns
 * NULL only when out of memory. Caller frees with htp_free. */
htp_pool *htp_new(int n_threads);
void htp_free(htp_pool *p); /* NULL is fine */

/* Threads of the pool, caller included (>= 1). A NULL pool counts as 1. */
int htp_threads(const htp_pool *p);

/* Runs fn on every thread of the pool and waits for all of them. A NULL pool runs fn(arg, 0, 1). */
void htp_run(htp_pool *p, htp_fn fn, void *arg);

/* Threads this machine offers (online CPUs; in the browser, navigator.hardwareConcurrency capped at 8). */
int htp_cpu_count(void);

#endif
