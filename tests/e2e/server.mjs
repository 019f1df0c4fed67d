// Starts and stops the real beryl-server binary for the end-to-end tests.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { within, delay } from './timing.mjs'
import { httpRequest } from './http-client.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
export const repoRoot = path.resolve(here, '../..')

const LISTENING = /listening on http:\/\/[^:\s]+:(\d+)/
const READY_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

// Every server this process started and that has not exited yet.
const running = new Set()

export function serverBinary() {
  const fromEnv = process.env.BERYL_SERVER
  return fromEnv ? path.resolve(fromEnv) : path.join(repoRoot, 'build/app/beryl-server')
}

export class Server {
  constructor(child) {
    this.child = child
    this.host = '127.0.0.1'
    this.port = null
    this.output = ''
    this.stopping = false
    // A binary that cannot be spawned emits "error" and never "exit".
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }))
      child.once('error', (error) => resolve({ code: null, signal: null, error }))
    })
    this.exited.then(() => { this.done = true })
  }

  get alive() {
    return !this.done && this.child.exitCode === null && this.child.signalCode === null
  }

  httpUrl(pathname = '/') {
    return `http://${this.host}:${this.port}${pathname}`
  }

  // The endpoint phoenix.js expects: it appends "/websocket" itself.
  socketEndpoint(mount = '/socket') {
    return `ws://${this.host}:${this.port}${mount}`
  }

  // A raw WebSocket URL; query entries that are null or undefined are left out.
  wsUrl(query = { vsn: '2.0.0' }, socketPath = '/socket/websocket') {
    const search = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (value !== null && value !== undefined) search.append(key, String(value))
    }
    const qs = search.toString()
    return `ws://${this.host}:${this.port}${socketPath}${qs ? `?${qs}` : ''}`
  }

  logTail(lines = 60) {
    return this.output.split('\n').slice(-lines).join('\n')
  }

  // SIGTERM, then SIGKILL if the server has not exited within timeoutMs.
  async stop(timeoutMs = STOP_TIMEOUT_MS) {
    this.stopping = true
    const started = Date.now()
    if (!this.alive) return { ...(await this.exited), elapsedMs: 0, killed: false }
    this.child.kill('SIGTERM')
    let killed = false
    const result = await within(this.exited, timeoutMs, 'exit').catch(() => null)
    if (result === null) {
      killed = true
      process.stderr.write(`beryl-server ignored SIGTERM for ${timeoutMs} ms; killing it. Log tail:\n${this.logTail()}\n`)
      this.child.kill('SIGKILL')
    }
    const exit = await this.exited
    return { ...exit, elapsedMs: Date.now() - started, killed }
  }
}

// UBSan's vptr check cannot work in a process with no file descriptor left: its runtime tests
// that an object is readable by writing it into a pipe, and reports every object as invalid when
// it cannot make one. A server started at an open-files cap therefore gets
// tests/sanitizers/ubsan-fd-cap.supp (ubsan.supp plus `vptr`); binaries without UBSan ignore it.
const FD_CAP_UBSAN_SUPPRESSIONS = path.join(repoRoot, 'tests/sanitizers/ubsan-fd-cap.supp')

// Starts a server on 127.0.0.1 with a kernel-chosen port and waits until /healthz answers 200.
// `openFiles` caps the server's open files (soft and hard, through util-linux's prlimit, which
// execs the server: the pid stays the server's).
// `binary` runs another program built on the runtime (an example app) instead of beryl-server.
export async function startServer(args = [], { openFiles, binary = serverBinary() } = {}) {
  const finalArgs = [...args]
  if (!finalArgs.includes('--host')) finalArgs.unshift('--host', '127.0.0.1')
  if (!finalArgs.includes('--port')) finalArgs.unshift('--port', '0')
  const ubsanOptions = [process.env.UBSAN_OPTIONS, `suppressions=${FD_CAP_UBSAN_SUPPRESSIONS}`].filter(Boolean).join(':')
  const child = openFiles
    ? spawn('prlimit', [`--nofile=${openFiles}:${openFiles}`, '--', binary, ...finalArgs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UBSAN_OPTIONS: ubsanOptions } })
    : spawn(binary, finalArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
  const server = new Server(child)
  running.add(server)
  server.exited.then(({ code, signal }) => {
    running.delete(server)
    if (!server.stopping) {
      process.stderr.write(`beryl-server exited unexpectedly (code ${code}, signal ${signal}). Log tail:\n${server.logTail()}\n`)
    }
  })

  const port = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      server.output += chunk.toString()
      if (process.env.BERYL_E2E_SERVER_LOG) process.stderr.write(chunk)
      const match = server.port === null && LISTENING.exec(server.output)
      if (match) resolve(Number(match[1]))
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('error', (err) => reject(new Error(`cannot start ${binary} (set BERYL_SERVER): ${err.message}`)))
    server.exited.then(({ code, signal }) => reject(new Error(`beryl-server exited during startup (code ${code}, signal ${signal}):\n${server.output}`)))
  })
  try {
    server.port = await within(port, READY_TIMEOUT_MS, `"listening on" in the log of ${binary} ${finalArgs.join(' ')}`)
    await waitHealthy(server)
  } catch (err) {
    server.stopping = true
    child.kill('SIGKILL')
    throw err
  }
  return server
}

async function waitHealthy(server) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError = null
  while (Date.now() < deadline) {
    try {
      const res = await httpRequest(server.httpUrl('/healthz'), { timeoutMs: 1_000 })
      if (res.status === 200) return
      lastError = new Error(`GET /healthz answered ${res.status}`)
    } catch (err) {
      lastError = err
    }
    await delay(50)
  }
  throw new Error(`server on port ${server.port} never became healthy: ${lastError?.message}\n${server.output}`)
}

// Runs the binary to completion (for --help and other one-shot invocations).
export function runServerOnce(args, timeoutMs = 5_000) {
  const child = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => { stdout += chunk })
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const done = new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return within(done, timeoutMs, `beryl-server ${args.join(' ')} to exit`).finally(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
}

export async function stopAllServers() {
  await Promise.all([...running].map((server) => server.stop()))
}

export function runningServers() {
  return [...running]
}

// Last resort: never leave a server behind, even when the test process dies abruptly.
function killAllNow() {
  for (const server of running) server.child.kill('SIGKILL')
}
process.on('exit', killAllNow)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllNow()
    process.kill(process.pid, signal)
  })
}
