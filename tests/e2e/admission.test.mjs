// Connection caps: --max-connections (503 before the upgrade), --max-connections-per-ip (429),
// and the default cap below the open-files limit, so that /healthz and refusals are answered at
// once instead of connections hanging in the backlog.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, cleanupAll, httpRequest, until, RawLongPoll, longpollUrl } from './harness.mjs'
import { rawWebSocket } from './raw-socket.mjs'

// Opens `count` raw WebSocket connections at once; resolves with the open sockets and the
// statuses of the refused ones, and how long the slowest answer took.
async function openMany(server, count, options = {}) {
  const started = Date.now()
  let slowestMs = 0
  const outcomes = await Promise.all(Array.from({ length: count }, () =>
    rawWebSocket(server, options).then(
      ({ socket }) => ({ socket }),
      (err) => ({ status: err.status ?? err.message }),
    ).finally(() => { slowestMs = Math.max(slowestMs, Date.now() - started) })))
  return {
    open: outcomes.filter((o) => o.socket).map((o) => o.socket),
    refused: outcomes.filter((o) => !o.socket).map((o) => o.status),
    slowestMs,
  }
}

function closeAll(sockets) {
  for (const socket of sockets) socket.destroy()
}

async function healthz(server) {
  return (await httpRequest(server.httpUrl('/healthz'), { timeoutMs: 2_000 })).status
}

describe('--max-connections 200', () => {
  let server
  const sockets = []
  before(async () => { server = await startServer(['--max-connections', '200']) })
  afterEach(() => closeAll(sockets.splice(0)))
  after(cleanupAll)

  it('260 connections: 200 are upgraded, 60 get 503 at once, /healthz answers, and room made is used again', { timeout: 60_000 }, async (t) => {
    const first = await openMany(server, 260)
    sockets.push(...first.open)
    t.diagnostic(`open ${first.open.length}, refused ${first.refused.length}, slowest answer ${first.slowestMs} ms`)
    assert.equal(first.open.length, 200)
    assert.deepEqual(first.refused, Array(60).fill(503))
    assert.ok(first.slowestMs < 5_000, `the slowest answer took ${first.slowestMs} ms`)
    assert.equal(await healthz(server), 200)

    // Ten leave: as the server sees each go, its place is given again (all ten come back; the
    // closes are seen one by one, so a retry may find only some of them free), then the next is refused.
    closeAll(sockets.splice(0, 10))
    let regained = 0
    await until(async () => {
      const retry = await openMany(server, 10 - regained)
      sockets.push(...retry.open)
      regained += retry.open.length
      return regained === 10
    }, 5_000, 'ten places to be freed')
    const over = await openMany(server, 1)
    assert.deepEqual(over.refused, [503])
  })
})

describe('--max-connections-per-ip 5', () => {
  let server
  const sockets = []
  before(async () => { server = await startServer(['--max-connections-per-ip', '5']) })
  afterEach(() => closeAll(sockets.splice(0)))
  after(cleanupAll)

  it('the sixth from one address gets 429; another address has its own five', async () => {
    const one = await openMany(server, 6, { localAddress: '127.0.0.1' })
    sockets.push(...one.open)
    assert.equal(one.open.length, 5)
    assert.deepEqual(one.refused, [429])
    const two = await openMany(server, 6, { localAddress: '127.0.0.2' })
    sockets.push(...two.open)
    assert.equal(two.open.length, 5)
    assert.deepEqual(two.refused, [429])
    assert.equal(await healthz(server), 200)
    // A place freed is a place for that address again.
    one.open[0].destroy()
    await until(async () => {
      const retry = await openMany(server, 1, { localAddress: '127.0.0.1' })
      sockets.push(...retry.open)
      return retry.open.length === 1
    }, 5_000, 'the address to get a place back')
  })
})

describe('default cap under an open-files limit of 64', () => {
  let server
  const sockets = []
  before(async () => { server = await startServer([], { openFiles: 64 }) })
  afterEach(() => closeAll(sockets.splice(0)))
  after(cleanupAll)

  it('connections beyond the default cap get 503 at once and /healthz keeps answering', { timeout: 30_000 }, async (t) => {
    const attempt = await openMany(server, 40)
    sockets.push(...attempt.open)
    t.diagnostic(`open ${attempt.open.length}, refused ${attempt.refused.length}, slowest answer ${attempt.slowestMs} ms`)
    assert.ok(attempt.open.length >= 20, `only ${attempt.open.length} connections`)
    assert.ok(attempt.refused.length > 0 && attempt.refused.every((s) => s === 503), `refusals: ${attempt.refused}`)
    assert.ok(attempt.slowestMs < 3_000, `the slowest answer took ${attempt.slowestMs} ms`)
    assert.equal(await healthz(server), 200)
    assert.doesNotMatch(server.output, /accept failed/)
  })
})

describe('long-poll sessions count as connections', () => {
  let server
  const sockets = []
  before(async () => { server = await startServer(['--longpoll', '--max-connections', '3']) })
  afterEach(() => closeAll(sockets.splice(0)))
  after(cleanupAll)

  it('a session beyond the cap gets HTTP 503; a WebSocket too, while the sessions live', async () => {
    const two = await openMany(server, 2)
    sockets.push(...two.open)
    await RawLongPoll.open(server)
    const refused = await httpRequest(longpollUrl(server), { timeoutMs: 2_000 })
    assert.equal(refused.status, 503)
    assert.deepEqual((await openMany(server, 1)).refused, [503])
    // A WebSocket leaving makes room for a session.
    sockets.pop().destroy()
    await until(async () => (await httpRequest(longpollUrl(server), { timeoutMs: 2_000 })).status === 200,
      5_000, 'a place for a long-poll session')
  })
})
