/* chat.h - chat templates: a Jinja2 interpreter for what Hugging Face chat templates use, and prompt rendering.
 *
 * Usage:
 *
 *     hearth_err e;
 *     hc_template *t = hc_template_parse(src, strlen(src), &e);   // NULL + line/column on a syntax error
 *     json_value *ctx = json_parse("{\"messages\": [...], \"add_generation_prompt\": true}", n, &e);
 *     char *prompt; size_t len;
 *     if (hc_render(t, ctx, &prompt, &len, &e) == HEARTH_OK) { ...; free(prompt); }
 *     json_free(ctx);
 *     hc_template_free(t);
 *
 * or, for plain role/content conversations, hc_render_messages() does all of it.
 *
 * The language is Jinja2 as transformers' apply_chat_template configures it: trim_blocks and
 * lstrip_blocks on, break/continue, lenient undefined values, tojson without HTML escaping, and
 * the globals raise_exception(msg) (fails the render with exactly msg) and strftime_now(fmt).
 * Renders are bounded: output and any string at most 64 MiB, 256 MiB of values, 10^7 loop
 * iterations, macro calls nested at most 256 deep; past a bound the render fails cleanly with
 * HEARTH_ERR_TEMPLATE. Nothing is global: a parsed template is immutable and may be rendered from
 * several threads at once.
 */
#ifndef HEARTH_CHAT_H
#define HEARTH_CHAT_H

#include "json.h"
#include "util.h"

typedef struct hc_template hc_template;

/* Parses template source (UTF-8, `len` bytes, need not be NUL-terminated). Returns NULL with
 * HEARTH_ERR_TEMPLATE ("template syntax error at line L, column C: ...") on a syntax error.
 * Caller frees with hc_template_free. */
hc_template *hc_template_parse(const char *src, size_t len, hearth_err *e);
void hc_template_free(hc_template *t); /* NULL is fine */

/* Renders with the variables of `context` (a JSON object, or NULL for none): typically messages
 * (an array of objects with role, content and optionally reasoning_content, tool_calls),
 * add_generation_prompt, enable_thinking, bos_token, eos_token, tools. `context` is borrowed for
 * the call. *out is a NUL-terminated string of *out_len bytes; caller frees with free(). */
hearth_status hc_render(const hc_template *t, const json_value *context, char **out, size_t *out_len, hearth_err *e);

/* Parses `template_src` (NUL-terminated) and renders `msgs` with it. Variables, as transformers'
 * apply_chat_template sets them: messages, tools and documents (None), add_generation_prompt,
 * enable_thinking (only when opts->enable_thinking is 0 or 1; absent otherwise, so the
 * template's default applies), bos_token and eos_token (when not NULL).
 * opts may be NULL (hearth_chat_default_options()). A NULL content renders as "".
 * *out: caller frees with free(). */
hearth_status hc_render_messages(const char *template_src, const hearth_message *msgs, size_t n,
                                 const hearth_chat_options *opts, const char *bos_token, const char *eos_token,
                                 char **out, size_t *out_len, hearth_err *e);

#endif
