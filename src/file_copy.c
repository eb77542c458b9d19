/* file_copy.c - reads a whole file into private anonymous memory on transparent huge pages (weights read every token), read-only but for a load-time rewrite. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef __EMSCRIPTEN__
#include <sys/mman.h>
#endif

uint64_t hu_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

uint64_t hu_mem_available(void) {
    uint64_t kib = 0;
    FILE *fp = fopen("/proc/meminfo", "r");
    if (fp) {
        char line[128];
        unsigned long long v;
        while (fgets(line, sizeof line, fp))
            if (sscanf(line, "MemAvailable: %llu kB", &v) == 1) {
                kib = v;
                break;
            }
        fclose(fp);
        if (kib) return kib * 1024;
    }
#if defined(_SC_AVPHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) return (uint64_t)pages * (uint64_t)page;
#endif
    return 0;
}

bool hu_huge_pages_available(void) {
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
    char mode[96] = "";
    FILE *fp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r"); /* e.g. "always [madvise] never" */
    if (!fp) return false;
    const bool got = fgets(mode, sizeof mode, fp) != NULL;
    fclose(fp);
    return got && (strstr(mode, "[always]") || strstr(mode, "[madvise]"));
#else
    return false;
#endif
}

#if defined(__linux__) && !defined(__EMSCRIPTEN__)

#include <pthread.h>

enum {
    HUGE_PAGE = 2u << 20,
    READ_PIECE = 8u << 20,
    /* readers: each blocks in page faults most of the time, and faults run in parallel (on the
     * 2-core work machine, a VM, 8 readers copied the 2.4 GB file in 0.7-1.4 s, 4 in 1.0-2.9 s) */
    COPY_THREADS = 8
};

typedef struct {
    int fd;
    uint8_t *dst;
    size_t off, len;
    int err; /* errno, or -1 when the file shrank */
} copy_part;

static void *copy_main(void *v) {
    copy_part *c = v;
    size_t got = 0;
    while (got < c->len) {
        const size_t want = c->len - got < READ_PIECE ? c->len - got : READ_PIECE;
        ssize_t r = pread(c->fd, c->dst + c->off + got, want, (off_t)(c->off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            c->err = r < 0 ? errno : -1;
            break;
        }
        got += (size_t)r;
    }
    return NULL;
}

hearth_status hu_file_copy(const char *path, hu_file *out, hearth_err *e) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return herr(e, HEARTH_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return herr(e, HEARTH_ERR_IO, "%s is not a regular, non-empty file", path);
    }
    const size_t size = (size_t)st.st_size;
    /* one huge page of slack to start the data on a huge-page boundary */
    const size_t span = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1), len = span + HUGE_PAGE;
    uint8_t *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        close(fd);
        return herr(e, HEARTH_ERR_NOMEM, "cannot reserve %zu bytes for %s: %s", size, path, strerror(errno));
    }
    uint8_t *data = (uint8_t *)(((uintptr_t)base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    (void)madvise(data, span, MADV_HUGEPAGE); /* best effort: without it the copy works on small pages */
    /* whole huge pages per reader, so no page is faulted in by two threads */
    copy_part parts[COPY_THREADS];
    pthread_t tids[COPY_THREADS];
    bool started[COPY_THREADS] = {false};
    const size_t per = ((size / COPY_THREADS) + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    for (int i = 0; i < COPY_THREADS; i++) {
        const size_t off = per * (size_t)i < size ? per * (size_t)i : size;
        parts[i] = (copy_part){fd, data, off, size - off < per ? size - off : per, 0};
        if (i > 0 && parts[i].len) started[i] = pthread_create(&tids[i], NULL, copy_main, &parts[i]) == 0;
    }
    copy_main(&parts[0]);
    for (int i = 1; i < COPY_THREADS; i++) {
        if (started[i]) pthread_join(tids[i], NULL);
        else if (parts[i].len) copy_main(&parts[i]); /* no thread: read it here */
    }
    close(fd);
    for (int i = 0; i < COPY_THREADS; i++)
        if (parts[i].err) {
            munmap(base, len);
            return herr(e, HEARTH_ERR_IO, "cannot read %s: %s", path, parts[i].err > 0 ? strerror(parts[i].err) : "file shrank");
        }
    (void)mprotect(base, len, PROT_READ); /* weights are immutable from here on, but for hu_file_writable */
    out->data = data;
    out->size = size;
    out->map_base_ = base;
    out->map_len_ = len;
    out->mapped_ = true;
    return HEARTH_OK;
}

uint8_t *hu_file_writable(hu_file *f, bool writable) {
    if (!f->map_base_) return NULL; /* not a copy: a file mapping stays read-only */
    if (mprotect(f->map_base_, f->map_len_, writable ? PROT_READ | PROT_WRITE : PROT_READ) != 0) return NULL;
    return (uint8_t *)f->data;
}

#else

hearth_status hu_file_copy(const char *path, hu_file *out, hearth_err *e) {
    return hu_file_map(path, out, e); /* wasm reads into the heap anyway; other systems keep the mapping */
}

uint8_t *hu_file_writable(hu_file *f, bool writable) {
    (void)f, (void)writable;
    return NULL; /* hu_file_copy made no private copy here */
}

#endif
