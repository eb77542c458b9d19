/* util.c - errors as values, capped allocation, half-float conversion, file mapping, clock. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#else
#include <sys/mman.h>
#endif

hearth_status herr(hearth_err *e, hearth_status code, const char *fmt, ...) {
    if (e) {
        e->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *hearth_status_name(hearth_status s) {
    static const char *const names[] = {
        "ok", "invalid argument", "i/o error", "bad format", "unsupported", "out of memory",
        "too large", "context full", "template error", "interrupted", "backend error",
    };
    if ((unsigned)s < sizeof names / sizeof names[0]) return names[s];
    return "unknown status";
}

void *hu_malloc(uint64_t size, hearth_err *e) {
    if (size > HU_ALLOC_CAP) {
        herr(e, HEARTH_ERR_TOO_LARGE, "refusing to allocate %llu bytes", (unsigned long long)size);
        return NULL;
    }
    void *p = malloc(size ? (size_t)size : 1);
    if (!p) herr(e, HEARTH_ERR_NOMEM, "out of memory allocating %llu bytes", (unsigned long long)size);
    return p;
}

void *hu_calloc(uint64_t n, uint64_t size, hearth_err *e) {
    uint64_t total;
    if (!hu_mul(n, size, &total) || total > HU_ALLOC_CAP) {
        herr(e, HEARTH_ERR_TOO_LARGE, "refusing to allocate %llu x %llu bytes", (unsigned long long)n,
             (unsigned long long)size);
        return NULL;
    }
    void *p = calloc(total ? (size_t)total : 1, 1);
    if (!p) herr(e, HEARTH_ERR_NOMEM, "out of memory allocating %llu bytes", (unsigned long long)total);
    return p;
}

bool hu_grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap : 256;
    while (nc < need) nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb) return false;
    *buf = nb;
    *cap = nc;
    return true;
}

uint64_t hu_mem_total(void) {
#ifdef __EMSCRIPTEN__
    return (uint64_t)emscripten_get_heap_max();
#else
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
#endif
}

char *hu_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

float hu_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: value = man * 2^-24 */
            float f = (float)man * (1.0f / 16777216.0f);
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t hu_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return sign | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0); /* inf / nan */
    if (a >= 0x477ff000u) return sign | 0x7c00;                                    /* overflow -> inf */
    if (a < 0x38800000u) {                                                          /* subnormal or zero */
        float af;
        memcpy(&af, &a, 4);
        /* round(af * 2^24) with ties to even, done in float: exact because af < 2^-14 */
        float r = af * 16777216.0f;
        uint32_t m = (uint32_t)r;
        float frac = r - (float)m;
        if (frac > 0.5f || (frac == 0.5f && (m & 1))) m++;
        return sign | (uint16_t)m;
    }
    uint32_t mant = a & 0x7fffffu;
    uint32_t exp = (a >> 23) - 112;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; /* may carry into the exponent: correct */
    return sign | (uint16_t)h;
}

uint16_t hu_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet nan */
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

hearth_status hu_file_map(const char *path, hu_file *out, hearth_err *e) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return herr(e, HEARTH_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return herr(e, HEARTH_ERR_IO, "%s is not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) {
        close(fd);
        out->data = (const uint8_t *)"";
        return HEARTH_OK;
    }
#ifndef __EMSCRIPTEN__
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return herr(e, HEARTH_ERR_IO, "cannot map %s: %s", path, strerror(errno));
    out->data = p;
    out->size = size;
    out->mapped_ = true;
    return HEARTH_OK;
#else
    uint8_t *buf = hu_malloc(size, e);
    if (!buf) {
        close(fd);
        return e ? e->code : HEARTH_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r <= 0) {
            free(buf);
            close(fd);
            return herr(e, HEARTH_ERR_IO, "cannot read %s", path);
        }
        got += (size_t)r;
    }
    close(fd);
    out->data = buf;
    out->size = size;
    out->priv_ = buf;
    return HEARTH_OK;
#endif
}

void hu_file_unmap(hu_file *f) {
    if (!f) return;
#ifndef __EMSCRIPTEN__
    if (f->mapped_) {
        if (f->map_base_) munmap(f->map_base_, f->map_len_);
        else munmap((void *)f->data, f->size);
    }
#endif
    free(f->priv_);
    memset(f, 0, sizeof *f);
}

hearth_status hu_read_text(const char *path, char **out, size_t *len, hearth_err *e) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return herr(e, HEARTH_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(fp);
            return herr(e, HEARTH_ERR_NOMEM, "out of memory reading %s", path);
        }
        n += fread(buf + n, 1, cap - n - 1, fp);
        if (n < cap - 1) break;
        if (cap > HU_ALLOC_CAP / 2) {
            free(buf);
            fclose(fp);
            return herr(e, HEARTH_ERR_TOO_LARGE, "%s is too large", path);
        }
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return herr(e, HEARTH_ERR_IO, "error reading %s", path);
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return HEARTH_OK;
}

double hu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
