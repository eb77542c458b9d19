// chat-view.js - the conversation's DOM: user and assistant messages, streamed Markdown, the collapsible reasoning block.
import { renderMarkdown, splitThink } from './markdown.js';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

// One assistant message. update() may be called per token: rendering waits for the next frame.
class AssistantItem {
  constructor(li, scroller) {
    this.li = li;
    this.scroller = scroller;
    this.think = el('details', 'think');
    this.summary = el('summary', null, 'Reasoning');
    this.thinkBody = el('div', 'think-body');
    this.think.append(this.summary, this.thinkBody);
    this.think.hidden = true;
    this.answer = el('div', 'answer');
    this.stats = el('div', 'stats');
    li.append(this.think, this.answer, this.stats);
    this.text = '';
    this.pending = false;
    this.userToggled = false;
    this.think.addEventListener('toggle', () => { if (this.autoToggling) this.autoToggling = false; else this.userToggled = true; });
  }

  update(text, streaming = true) {
    this.text = text;
    this.streaming = streaming;
    this.li.classList.toggle('streaming', streaming);
    if (!streaming) { this.render(); return; }
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.render(); });
  }

  render() {
    const stick = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 40;
    const { reasoning, answer, thinking } = splitThink(this.text);
    this.think.hidden = !reasoning && !thinking;
    if (!this.think.hidden) {
      // a reply that ended inside its reasoning (a length limit, or the model stopped) has no answer:
      // its reasoning stays open and says so, rather than leaving an empty-looking reply
      const unanswered = thinking && !this.streaming && !answer.trim();
      this.summary.textContent = thinking && this.streaming ? 'Thinking…' : unanswered ? 'Reasoning (stopped before an answer)' : 'Reasoning';
      this.thinkBody.replaceChildren(renderMarkdown(reasoning));
      const open = (thinking && this.streaming) || unanswered; // open while thinking, folded once the answer starts
      if (!this.userToggled && this.think.open !== open) { this.autoToggling = true; this.think.open = open; }
    }
    this.answer.replaceChildren(renderMarkdown(answer));
    if (stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  finish(text, statsText) {
    this.update(text, false);
    this.stats.textContent = statsText || '';
  }
}

export class ChatView {
  constructor(list, empty, scroller) {
    this.list = list;
    this.empty = empty;
    this.scroller = scroller;
  }

  clear() { this.list.replaceChildren(); this.empty.hidden = false; }

  addUser(text) {
    this.empty.hidden = true;
    const li = el('li', 'user', text);
    this.list.append(li);
    this.scroller.scrollTop = this.scroller.scrollHeight;
    return li;
  }

  addAssistant(text = '', statsText = '') {
    this.empty.hidden = true;
    const li = el('li', 'assistant');
    this.list.append(li);
    const item = new AssistantItem(li, this.scroller);
    if (text) item.finish(text, statsText);
    return item;
  }

  // Shows a saved conversation (system messages are not shown).
  renderAll(messages) {
    this.clear();
    for (const m of messages) {
      if (m.role === 'user') this.addUser(m.content);
      else if (m.role === 'assistant') this.addAssistant(m.content, m.stats || '');
    }
  }
}
