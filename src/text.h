/* text.h - the model's text side: vocabulary and chat template moved from HF files into GGUF and back out. */
#ifndef HEARTH_TEXT_H
#define HEARTH_TEXT_H

#include "gguf.h"
#include "json.h"

/* Writes the tokenizer (tokenizer.json), chat template (chat_template.jinja or
 * tokenizer_config.json) and end-of-generation ids (generation_config.json) of the checkpoint
 * in `hf_dir` into `out`. A folder without tokenizer.json gets a placeholder vocabulary of
 * `n_vocab` tokens named "<tok_N>" so that the file still loads in llama.cpp. */
hearth_status htext_convert_vocab(const char *hf_dir, const json_value *config, int n_vocab, gguf_ctx *out, hearth_err *e);

#endif
