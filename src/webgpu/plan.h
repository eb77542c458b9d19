/* plan.h - the byte format in which the C planner tells the WebGPU host (web/gpu/host.js) what to do.
 *
 * The C side decides everything: which GPU buffers exist, which bytes of the model file go where,
 * which kernel runs with which bindings and parameters. The JS host only executes these blobs on
 * the standard WebGPU API, so it stays small and is the same file in Chromium, in a worker, and
 * in Node (Dawn). Two kinds of blob share one record format:
 *
 *   model plan  (once, at load):   SOURCE, KERNEL, BUFFER, UPLOAD_FILE, UPLOAD_FILE_PLANAR, UPLOAD_DATA
 *   step        (per "feed T tokens at position p, then maybe sample"): any of the above (new
 *               kernels are declared lazily, before first use), then WRITE, CLEAR, DISPATCH,
 *               COPY, READ in execution order. One step = one command buffer.
 *
 * Layout. Every value is little-endian; the blob is a sequence of 32-bit words:
 *
 *   header   u32 magic 'HGPL' (0x4c504748), u32 version (HG_PLAN_VERSION), u32 kind (hg_blob_kind),
 *            u32 n_records
 *   record   u32 tag (hg_rec), u32 n_words (payload length in words), payload[n_words]
 *
 * A u64 is two words, low then high (the host reads values < 2^53 exactly). A string is u32
 * n_bytes, then the bytes, zero-padded to a whole word. The host refuses a blob whose magic or
 * version differs, and an unknown tag (no silent skipping: a version bump adds tags).
 *
 * Records (payload, in words):
 *
 *   SOURCE       u32 source_id, string wgsl           WGSL text of one kernel file (with its library)
 *   KERNEL       u32 kernel_id, u32 source_id, string constants
 *                constants: "NAME=value,NAME=value" override constants for the pipeline ("" = none);
 *                entry point is always "main"; layout is 'auto'.
 *   BUFFER       u32 buffer_id, u32 flags (0), u64 size, string label
 *                a storage buffer (also COPY_SRC | COPY_DST), zero-filled on creation.
 *   UPLOAD_FILE  u32 buffer_id, u32 0, u64 buffer_offset, u64 file_offset, u64 n_bytes
 *                copy bytes of the model file straight into the buffer (never through the wasm heap);
 *                buffer_offset is a multiple of 4; the host zero-pads n_bytes up to a multiple of 4.
 *   UPLOAD_FILE_PLANAR  u32 buffer_id, u32 block_bytes, u64 quants_offset, u64 scales_offset,
 *                u64 file_offset, u64 n_blocks
 *                n_blocks (even) quantised blocks of block_bytes (34: Q8_0, 18: Q4_0) = a 2-byte f16
 *                scale + block_bytes - 2 bytes of quants, repacked on the way in: the quants of block
 *                k go to quants_offset + k * (block_bytes - 2), its scale to scales_offset + 2 k
 *                (wq.wgsl's planar layout). file_offset and both buffer offsets are multiples of 4.
 *   UPLOAD_DATA  u32 buffer_id, u32 0, u64 buffer_offset, u32 n_bytes, bytes (padded)
 *                small data the planner computed (f32 norm weights, RoPE tables, test inputs).
 *   WRITE        same payload as UPLOAD_DATA; in a step, written before the step's commands run
 *                (token ids of a prompt).
 *   CLEAR        u32 buffer_id, u32 0, u64 offset, u64 size      encoder.clearBuffer (state reset)
 *   DISPATCH     u32 kernel_id, u32 wg_x, u32 wg_y, u32 wg_z, u32 n_params, u32 n_bindings,
 *                u32 params[n_params], then n_bindings x { u32 buffer_id, u32 0, u64 offset, u64 size }
 *                Binding 0 of every kernel is `var<uniform>` params: the host copies params[] into
 *                slot i (256 bytes) of its params buffer for the i-th dispatch of the step. The listed
 *                bindings are @binding(1..n). n_params <= HG_MAX_PARAMS; offsets are multiples of
 *                HG_BIND_ALIGN; a buffer bound writable is bound once per dispatch.
 *   COPY         u32 src_buffer, u32 dst_buffer, u64 src_offset, u64 dst_offset, u64 size
 *   READ         u32 buffer_id, u32 what (hg_read_what), u64 offset, u64 size
 *                after the step's commands, copy the range back to the CPU; the host returns reads
 *                in record order.
 *
 * Stability: bump HG_PLAN_VERSION on any change to this list or to a payload.
 */
#ifndef HEARTH_WEBGPU_PLAN_H
#define HEARTH_WEBGPU_PLAN_H

#include <stdint.h>

#define HG_PLAN_MAGIC 0x4c504748u /* "HGPL" */
#define HG_PLAN_VERSION 2u

#define HG_MAX_PARAMS 48u        /* u32 words of a dispatch's uniform params (slot = 256 bytes) */
#define HG_PARAM_SLOT 256u       /* bytes between two dispatches' params (minUniformBufferOffsetAlignment) */
#define HG_BIND_ALIGN 256u       /* storage binding offsets (minStorageBufferOffsetAlignment) */

typedef enum {
    HG_BLOB_MODEL = 1, /* buffer plan: created once */
    HG_BLOB_STEP = 2,  /* one command buffer */
} hg_blob_kind;

typedef enum {
    HG_REC_SOURCE = 1,
    HG_REC_KERNEL = 2,
    HG_REC_BUFFER = 3,
    HG_REC_UPLOAD_FILE = 4,
    HG_REC_UPLOAD_DATA = 5,
    HG_REC_UPLOAD_FILE_PLANAR = 6,
    HG_REC_WRITE = 16,
    HG_REC_CLEAR = 17,
    HG_REC_DISPATCH = 18,
    HG_REC_COPY = 19,
    HG_REC_READ = 20,
} hg_rec;

typedef enum {
    HG_READ_TOKEN = 0,  /* 4 bytes: the sampled token id (u32) */
    HG_READ_LOGITS = 1, /* f32 [rows][n_vocab] */
    HG_READ_DATA = 2,   /* anything else (op tests, debugging) */
} hg_read_what;

#endif
