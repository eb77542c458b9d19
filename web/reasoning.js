// reasoning.js - splits a streamed reply into its reasoning (inside <think>…</think>) and its answer, as the OpenAI-style API reports them.
//
// A reasoning model writes "reasoning</think>answer" when its chat template opened the block in
// the prompt (Nemotron-3-Nano with reasoning on: the engine says so at the start of the reply), or
// "<think>reasoning</think>answer" when it opens the block itself (Qwen3). The splitter turns the
// pieces into {reasoning, content} pieces: the tags are dropped, as is the whitespace around the
// reasoning and at the start of an answer that follows it. A reply without reasoning passes through
// unchanged. A tag split across pieces is held back until it is whole; so is whitespace at the end of
// the reasoning, which is dropped if the block closes after it.

const OPEN = '<think>';
const CLOSE = '</think>';

// Length of the longest suffix of s that is a proper prefix of tag (a tag that may still arrive).
function partialTag(s, tag) {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) if (tag.startsWith(s.slice(s.length - n))) return n;
  return 0;
}

export class ReasoningSplitter {
  // inReasoning: the reply starts inside the block (the template opened it).
  constructor(inReasoning = false) {
    this.state = inReasoning ? 'reasoning' : 'start';
    this.buf = '';
    this.fresh = true;        // nothing of the current part emitted yet: its leading whitespace goes
    this.hadReasoning = inReasoning;
  }

  // One piece of generated text -> {reasoning, content} (either may be '').
  push(text) {
    this.buf += text;
    const out = { reasoning: '', content: '' };
    for (;;) {
      if (this.state === 'start') { // before any answer text: the model may open the block itself
        const lead = this.buf.trimStart();
        if (lead.startsWith(OPEN)) {
          this.buf = lead.slice(OPEN.length);
          this.state = 'reasoning';
          this.hadReasoning = true;
          continue;
        }
        if (lead === '' || OPEN.startsWith(lead)) return out; // maybe the tag, still arriving
        this.state = 'answer';
        this.fresh = false; // no reasoning before it: the answer is passed through as it is
      }
      if (this.state === 'reasoning') {
        const at = this.buf.indexOf(CLOSE);
        if (at >= 0) {
          out.reasoning += this.take(this.buf.slice(0, at).trimEnd());
          this.buf = this.buf.slice(at + CLOSE.length);
          this.state = 'answer';
          this.fresh = true;
          continue;
        }
        const rest = this.buf.slice(0, this.buf.length - partialTag(this.buf, CLOSE));
        const keep = rest.trimEnd().length; // a part of the tag, and the whitespace before it, wait
        out.reasoning += this.take(this.buf.slice(0, keep));
        this.buf = this.buf.slice(keep);
        return out;
      }
      out.content += this.take(this.buf);
      this.buf = '';
      return out;
    }
  }

  // The end of the reply: what was held back.
  end() {
    const out = { reasoning: '', content: '' };
    if (this.state === 'reasoning') out.reasoning = this.take(this.buf.trimEnd());
    else out.content = this.state === 'start' ? this.buf : this.take(this.buf);
    this.buf = '';
    return out;
  }

  // Emits s as the next text of the current part, without its leading whitespace if it is the part's start.
  take(s) {
    if (this.fresh) {
      s = s.trimStart();
      if (s) this.fresh = false;
    }
    return s;
  }
}

// A whole reply at once: {reasoning, content, hadReasoning}.
export function splitReasoning(text, inReasoning = false) {
  const s = new ReasoningSplitter(inReasoning);
  const a = s.push(text), b = s.end();
  return { reasoning: a.reasoning + b.reasoning, content: a.content + b.content, hadReasoning: s.hadReasoning };
}
