// markdown.js - model text to safe DOM: <think> split, Markdown through marked, sanitised by DOMPurify (model HTML never runs).
import { marked } from '../../build/vendor/marked.esm.js';
import DOMPurify from '../../build/vendor/purify.es.mjs';

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const escapeAttr = (s) => escapeHtml(s).replace(/"/g, '&quot;');

// HTML the model writes is shown as text, never parsed; DOMPurify is the second line of defence.
// Images become links: the page loads nothing the model names (no request leaves the tab for
// a reply, and none can carry the conversation off in an image URL).
marked.use({
  gfm: true, breaks: false,
  renderer: {
    html: (token) => escapeHtml(token.text),
    image: (token) => `<a href="${escapeAttr(token.href || '')}" rel="noopener noreferrer">${escapeHtml(token.text || token.href || 'image')}</a>`,
  },
});

// Splits a reply into its reasoning and its answer. The reasoning is what lies inside
// <think>…</think>; a reply may also start inside it (the template opened it) and only close it.
export function splitThink(text) {
  const open = text.indexOf('<think>');
  const close = text.indexOf('</think>');
  if (open >= 0 && (close < 0 || open < close)) {
    const end = close < 0 ? text.length : close;
    return { reasoning: text.slice(open + 7, end).trim(), answer: (text.slice(0, open) + (close < 0 ? '' : text.slice(close + 8))).trim(), thinking: close < 0 };
  }
  if (close >= 0) return { reasoning: text.slice(0, close).trim(), answer: text.slice(close + 8).trim(), thinking: false };
  return { reasoning: '', answer: text, thinking: false };
}

// Markdown -> sanitised DocumentFragment. No scripts, handlers, styles or forms survive.
export function renderMarkdown(md) {
  const html = marked.parse(md, { async: false });
  return DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'img', 'svg', 'math', 'video', 'audio', 'source', 'picture', 'link', 'meta', 'base'],
    FORBID_ATTR: ['style'],
  });
}
