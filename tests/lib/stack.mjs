// stack.mjs -- a whole Shorewatch stack for one test file: a private PostGIS cluster (server/scripts/pg.sh,
// unix socket only), `shorewatch migrate` (+ `demo-seed`), and `shorewatch serve` on free loopback ports.
//
//   const stack = await startStack({ demo: false, env: {} });
//   stack.http / httpPort / jt808Port / nmeaPort / aisPort / adminPassword / db (libpq conninfo)
//   await stack.sql('SELECT ...', [params])      -> rows
//   stack.startSim(['--count', '3'])             -> ChildProcess of build/shorewatch-sim (killed by stop)
//   await stack.login('admin', password)         -> token
//   await stack.api('GET', '/api/vessels', body, token) -> { status, json, text }
//   stack.serverLog()                            -> the server's stdout+stderr so far
//   await stack.stop()                           -> SIGTERM the server, wait; stack.serverExitCode
// and, beyond that: stack.cli(args) runs another `shorewatch` command with the stack's environment;
// stack.stopServer() / stack.startServer() stop and restart only the server; stack.ws(token) opens the
// live feed ({ events, next(pred, ms), close }). waitUntil(fn) and logOnFailure(getStack, fn) help tests.
//
// Only processes started here are ever signalled, by PID. An 'exit' (and SIGINT/SIGTERM) handler tears
// down whatever a failed test left running, so no cluster outlives the test process.
// SHOREWATCH_TEST_KEEP=1 keeps the temporary directory (logs, cluster) for a post-mortem.

import { spawn, spawnSync, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import WebSocket from 'ws';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
// SW_BUILD: another build directory (parallel work trees share the sources)
const BUILD_DIR = process.env.SW_BUILD ? path.resolve(ROOT, process.env.SW_BUILD) : path.join(ROOT, 'build');
export const BIN = path.join(BUILD_DIR, 'shorewatch');
export const SIM = path.join(BUILD_DIR, 'shorewatch-sim');
const PGSH = path.join(ROOT, 'server', 'scripts', 'pg.sh');

const live = new Set(); // stacks not yet stopped, for the exit handler

function cleanupSync() {
  for (const s of live) {
    try { s._killAllSync(); } catch { /* best effort */ }
  }
  live.clear();
}
let handlersInstalled = false;
function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      cleanupSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to :0 and release). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function distinctPorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

async function run(cmd, args, opts) {
  try {
    return await execFileP(cmd, args, { maxBuffer: 64 << 20, ...opts });
  } catch (e) {
    const err = new Error(`${path.basename(cmd)} ${args.join(' ')} failed (exit ${e.code}):\n${e.stdout || ''}${e.stderr || ''}`);
    err.stdout = e.stdout;
    err.stderr = e.stderr;
    err.code = e.code;
    throw err;
  }
}

export async function startStack({ demo = false, env = {} } = {}) {
  installHandlers();
  for (const f of [BIN, SIM]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: run 'make' first`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shorewatch-test-'));
  fs.chmodSync(tmp, 0o755); // the postgres OS user must reach tmp/pg
  const pgDir = path.join(tmp, 'pg');
  const [pgPort, httpPort, jt808Port, nmeaPort, aisPort] = await distinctPorts(5);
  const adminPassword = crypto.randomBytes(12).toString('base64url');
  const logFile = path.join(tmp, 'server.log');

  const stack = {
    tmp, pgDir, pgPort, httpPort, jt808Port, nmeaPort, aisPort, adminPassword, logFile,
    http: `http://127.0.0.1:${httpPort}`,
    db: `host=${pgDir}/run port=${pgPort} dbname=shorewatch user=postgres`,
    server: null,
    serverExitCode: null,
    serverSignal: null,
    sims: [],
    client: null,
    pgStarted: false,
    stopped: false,
  };
  live.add(stack);

  const pgEnv = { ...process.env, SW_PG_FAST: '1' };
  const swEnv = {
    ...process.env,
    SHOREWATCH_DB: stack.db,
    SHOREWATCH_ADMIN_PASSWORD: adminPassword,
    SHOREWATCH_HTTP: `127.0.0.1:${httpPort}`,
    SHOREWATCH_JT808: `127.0.0.1:${jt808Port}`,
    SHOREWATCH_NMEA: `127.0.0.1:${nmeaPort}`,
    SHOREWATCH_AIS: `127.0.0.1:${aisPort}`,
    ...env,
  };
  stack.env = swEnv;

  stack._killAllSync = () => {
    for (const c of [...stack.sims, stack.server]) {
      if (c && c.exitCode === null && c.signalCode === null) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    if (stack.pgStarted) spawnSync(PGSH, [pgDir, String(pgPort), 'stop'], { stdio: 'ignore' });
    stack.pgStarted = false;
    if (!process.env.SHOREWATCH_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  };

  stack.serverLog = () => {
    try { return fs.readFileSync(logFile, 'utf8'); } catch { return stack._finalLog || ''; }
  };

  /** Runs a `shorewatch` subcommand to completion with the stack's environment; returns {stdout, stderr}. */
  stack.cli = (args, opts = {}) => run(BIN, args, { cwd: ROOT, env: { ...swEnv, ...(opts.env || {}) } });

  stack.sql = async (text, params = []) => {
    if (!stack.client) {
      const c = new pg.Client({ host: `${pgDir}/run`, port: pgPort, user: 'postgres', database: 'shorewatch' });
      await c.connect();
      c.on('error', () => {}); // the cluster going away at stop() is not a test failure
      stack.client = c;
    }
    return (await stack.client.query(text, params)).rows;
  };

  stack.api = async (method, p, body, token) => {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined && body !== null) {
      if (typeof body === 'string' || body instanceof Uint8Array) payload = body;
      else {
        payload = JSON.stringify(body);
        headers['Content-Type'] = 'application/json';
      }
    }
    const res = await fetch(stack.http + p, { method, headers, body: payload });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, json, text, headers: res.headers };
  };

  stack.login = async (user = 'admin', password = adminPassword) => {
    const r = await stack.api('POST', '/api/login', { user, password });
    if (r.status !== 200 || !r.json?.token) throw new Error(`login as ${user} failed: ${r.status} ${r.text}`);
    return r.json.token;
  };

  stack.startSim = (args = []) => {
    const out = fs.openSync(path.join(tmp, `sim-${stack.sims.length}.log`), 'a');
    const child = spawn(SIM, ['--server', `127.0.0.1:${jt808Port}`, ...args], { cwd: ROOT, env: swEnv, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    stack.sims.push(child);
    return child;
  };

  stack.stop = async () => {
    if (stack.stopped) return;
    stack.stopped = true;
    for (const c of stack.sims) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        if (!(await waitExit(c, 5000))) c.kill('SIGKILL');
      }
    }
    if (stack.server) {
      if (stack.server.exitCode === null && stack.server.signalCode === null) {
        stack.server.kill('SIGTERM');
        if (!(await waitExit(stack.server, 30000))) {
          stack.server.kill('SIGKILL');
          await waitExit(stack.server, 5000);
        }
      }
      stack.serverExitCode = stack.server.exitCode;
      stack.serverSignal = stack.server.signalCode;
    }
    if (stack.client) {
      await stack.client.end().catch(() => {});
      stack.client = null;
    }
    if (stack.pgStarted) {
      await run(PGSH, [pgDir, String(pgPort), 'stop'], { env: pgEnv }).catch(() => {});
      stack.pgStarted = false;
    }
    live.delete(stack);
    stack._finalLog = stack.serverLog();
    if (!process.env.SHOREWATCH_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  };

  /** A WebSocket client on /ws?token=: { ws, events, next(pred, ms) -> event, close() }. */
  stack.ws = (token) => openWs(`ws://127.0.0.1:${httpPort}/ws?token=${encodeURIComponent(token)}`);

  /** Starts `shorewatch serve` (again, e.g. after a stop test) and waits for /api/health. */
  stack.startServer = async () => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(BIN, ['serve'], { cwd: ROOT, env: swEnv, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    stack.server = child;
    stack.serverExitCode = null;
    child.on('exit', (code, signal) => {
      stack.serverExitCode = code;
      stack.serverSignal = signal;
    });
    const deadline = Date.now() + 30000;
    let last = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`shorewatch serve exited (${child.exitCode ?? child.signalCode}) before it was healthy; log:\n${stack.serverLog()}`);
      }
      try {
        const r = await fetch(`${stack.http}/api/health`);
        last = `${r.status} ${await r.text()}`;
        if (r.status === 200) return;
      } catch (e) {
        last = String(e.cause?.code || e.message);
      }
      await sleep(100);
    }
    throw new Error(`shorewatch serve not healthy after 30 s (last: ${last}); log:\n${stack.serverLog()}`);
  };

  /** Sends SIGTERM to the server only and waits for it to exit; returns the exit code. */
  stack.stopServer = async (ms = 30000) => {
    const c = stack.server;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      if (!(await waitExit(c, ms))) throw new Error(`shorewatch serve still running ${ms} ms after SIGTERM; log:\n${stack.serverLog()}`);
    }
    stack.serverExitCode = c.exitCode;
    stack.serverSignal = c.signalCode;
    return c.exitCode;
  };

  try {
    await run(PGSH, [pgDir, String(pgPort), 'init'], { env: pgEnv });
    stack.pgStarted = true; // from here on, stop() must stop the cluster
    await run(PGSH, [pgDir, String(pgPort), 'start'], { env: pgEnv });
    stack.migrateOutput = await stack.cli(['migrate']);
    if (demo) stack.demoSeedOutput = await stack.cli(['demo-seed']);
    await stack.startServer();
  } catch (e) {
    await stack.stop().catch(() => {});
    throw e;
  }
  return stack;
}

/** Polls FN (async) until it returns a truthy value; returns it, or throws WHAT after MS. */
export async function waitUntil(fn, { ms = 10000, every = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** Opens a WebSocket and collects its JSON messages; next(pred) waits for the first (new or past) match. */
export function openWs(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const events = [];
    const waiters = [];
    ws.on('message', (data) => {
      let ev;
      try { ev = JSON.parse(String(data)); } catch { ev = { type: '(not JSON)', data: String(data) }; }
      events.push(ev);
      for (const w of [...waiters]) {
        if (w.pred(ev)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(ev);
        }
      }
    });
    ws.once('open', () => resolve({
      ws,
      events,
      next(pred = () => true, ms = 10000) {
        const hit = events.find(pred);
        if (hit) return Promise.resolve(hit);
        return new Promise((res, rej) => {
          const w = { pred, resolve: (e) => { clearTimeout(t); res(e); } };
          const t = setTimeout(() => {
            waiters.splice(waiters.indexOf(w), 1);
            rej(new Error(`no matching WebSocket event within ${ms} ms; got: ${JSON.stringify(events).slice(0, 2000)}`));
          }, ms);
          waiters.push(w);
        });
      },
      close() { ws.terminate(); },
    }));
    ws.once('unexpected-response', (req, res) => reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Wraps a test body so that a failure carries the tail of the server log. */
export function logOnFailure(getStack, fn) {
  return async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      const s = typeof getStack === 'function' ? getStack() : getStack;
      const tail = s ? s.serverLog().split('\n').slice(-80).join('\n') : '(no stack)';
      try { e.message += `\n--- server log (last 80 lines) ---\n${tail}`; } catch { /* frozen */ }
      console.error(`--- server log (last 80 lines) ---\n${tail}`);
      throw e;
    }
  };
}
