// suite.mjs - checks that end in one "## name: N passed, M failed" line (tests/run.sh adds them up) and a matching exit code.

export function suite(name) {
  let passed = 0, failed = 0;
  const cleanups = [];
  const s = {
    check(label, ok, detail = '') {
      if (ok) { passed++; console.log(`ok   ${label}`); } else { failed++; console.log(`FAIL ${label}${detail ? `: ${detail}` : ''}`); }
      return !!ok;
    },
    onCleanup(fn) { cleanups.push(fn); },
    // Runs the body; an exception counts as one failure. Prints the summary and exits.
    async run(body) {
      const timer = setTimeout(() => { s.check('finished within the time limit', false); finish(); }, +(process.env.HEARTH_E2E_TIMEOUT_MS || 240000));
      try { await body(s); } catch (e) { s.check('no exception', false, e && e.stack || String(e)); }
      clearTimeout(timer);
      await finish();
    },
  };
  async function finish() {
    for (const fn of cleanups.reverse()) { try { await fn(); } catch {} }
    console.log(`## ${name}: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }
  return s;
}

