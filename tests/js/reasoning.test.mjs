// reasoning.test.mjs - web/reasoning.js: a reply split into reasoning and answer, the same whether it arrives whole or in pieces of any size.
import { ReasoningSplitter, splitReasoning } from '../../web/reasoning.js';
import { suite } from '../e2e/lib/suite.mjs';

const t = suite('js-reasoning');
await t.run(async () => {
  // [reply, the template opened the block, reasoning, answer, had a block]
  const cases = [
    ['Plan it.\n</think>\n\nThe answer.', true, 'Plan it.', 'The answer.', true],           // Nemotron: template-opened
    ['<think>\nPlan.\n</think>\n\nAnswer', false, 'Plan.', 'Answer', true],                 // Qwen3: the model opens it
    ['\n<think>x</think>y', false, 'x', 'y', true],
    ['  Plain answer\n', false, '', '  Plain answer\n', false],                             // no block: unchanged
    ['<b>bold</b> and <thin', false, '', '<b>bold</b> and <thin', false],
    ['A <think> later is text', false, '', 'A <think> later is text', false],               // only a leading tag opens
    ['never closes \n', true, 'never closes', '', true],                                    // cut by max_tokens
    ['</think>answer only', true, '', 'answer only', true],
    ['a </thinking> b</think>c', true, 'a </thinking> b', 'c', true],
    ['', true, '', '', true],
  ];
  for (const [text, opened, reasoning, content, had] of cases) {
    const whole = splitReasoning(text, opened);
    t.check(`whole ${JSON.stringify(text)}`, whole.reasoning === reasoning && whole.content === content && whole.hadReasoning === had, JSON.stringify(whole));
    for (const step of [1, 2, 3, 7]) {
      const s = new ReasoningSplitter(opened);
      let r = '', c = '';
      for (let i = 0; i < text.length; i += step) {
        const o = s.push(text.slice(i, i + step));
        r += o.reasoning;
        c += o.content;
      }
      const o = s.end();
      t.check(`pieces of ${step}: ${JSON.stringify(text)}`, r + o.reasoning === reasoning && c + o.content === content, JSON.stringify([r + o.reasoning, c + o.content]));
    }
  }
});
