// Screenshots a page of Zipkin's UI with headless Chromium, driven over the DevTools protocol
// (no npm packages: Node 20's experimental WebSocket, or Node 22+'s built-in one).
//
//   node --experimental-websocket scripts/screenshot.js <chromium> <url> <out.png> \
//        [--size 1500x860] [--wait-text TEXT] [--click TEXT] [--click-button TEXT]
//
// Zipkin's UI is a JavaScript app, so after loading the page this waits (bounded) until
// --wait-text appears, then optionally clicks the element whose text starts with --click
// (e.g. a span row of the trace page, which opens its tags on the right) or the button labelled
// --click-button (e.g. "Run query" on the dependency page), waits for the UI to settle, and
// writes the PNG. Used by scripts/screenshot.sh.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TIMEOUT_MS = 30000;

function parseArgs(argv) {
  const [chromium, url, out, ...rest] = argv;
  if (!chromium || !url || !out) {
    throw new Error('usage: screenshot.js <chromium> <url> <out.png> [--size WxH] [--wait-text T] [--click T] [--click-button T]');
  }
  const opts = { chromium, url, out, width: 1500, height: 860 };
  for (let i = 0; i < rest.length; i += 2) {
    const [key, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--size') [opts.width, opts.height] = value.split(/[x,]/).map(Number);
    else if (key === '--wait-text') opts.waitText = value;
    else if (key === '--click') opts.click = value;
    else if (key === '--click-button') opts.clickButton = value;
    else throw new Error(`unknown option ${key}`);
  }
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Starts Chromium and resolves with its DevTools port once it listens.
function launch(chromium, profile) {
  const child = spawn(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars',
    '--no-first-run', '--no-default-browser-check', '--remote-debugging-port=0',
    '--remote-debugging-address=127.0.0.1', `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), TIMEOUT_MS);
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`chromium exited (${code}):\n${err}`)); });
  });
}

/// A minimal DevTools protocol client over one page's WebSocket.
async function connect(port) {
  const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = pages.find((p) => p.type === 'page');
  if (!page) throw new Error('no page target');
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let next = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error))); else resolve(msg.result);
    }
  };
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
  const evaluate = async (expression) => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    return r.result.value;
  };
  return { ws, send, evaluate };
}

/// Waits until `expression` is truthy in the page (bounded).
async function until(cdp, expression, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await cdp.evaluate(expression)) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/// Clicks the innermost element whose own text starts with `text` (a span row's label).
function clickText(text, selector = '*') {
  return `(() => {
    const want = ${JSON.stringify(text)}.toLowerCase();
    const all = [...document.querySelectorAll(${JSON.stringify(selector)})].filter((e) =>
      (e.innerText || '').trim().toLowerCase().startsWith(want));
    const el = all.find((e) => ![...e.children].some((c) => all.includes(c))) || all[0];
    if (!el) return false;
    el.scrollIntoView({ block: 'center' });
    for (const type of ['mousedown', 'mouseup', 'click']) {
      el.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, view: window }));
    }
    return true;
  })()`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fusebox-chromium-'));
  const { child, port } = await launch(opts.chromium, profile);
  try {
    const cdp = await connect(port);
    await cdp.send('Page.enable');
    await cdp.send('Emulation.setDeviceMetricsOverride', {
      width: opts.width, height: opts.height, deviceScaleFactor: 1, mobile: false,
    });
    await cdp.send('Page.navigate', { url: opts.url });
    await until(cdp, 'document.readyState === "complete"', 'the page to load');
    if (opts.waitText) {
      await until(cdp, `document.body && document.body.innerText.toLowerCase().includes(${JSON.stringify(opts.waitText.toLowerCase())})`, `"${opts.waitText}"`);
    }
    if (opts.click && !(await cdp.evaluate(clickText(opts.click)))) throw new Error(`nothing to click labelled "${opts.click}"`);
    if (opts.clickButton && !(await cdp.evaluate(clickText(opts.clickButton, 'button')))) throw new Error(`no button "${opts.clickButton}"`);
    await sleep(1500); // let the UI render what the click asked for
    const shot = await cdp.send('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(opts.out, Buffer.from(shot.data, 'base64'));
    await cdp.send('Browser.close').catch(() => {});
    cdp.ws.close();
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await Promise.race([exited, sleep(5000)]);
    }
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch (e) {
      console.error(`screenshot.js: could not remove ${profile}: ${e.message}`);
    }
  }
}

main().then(() => process.exit(0), (e) => { console.error(`screenshot.js: ${e.message}`); process.exit(1); });
