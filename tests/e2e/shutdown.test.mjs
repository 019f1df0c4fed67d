// SIGTERM: open sockets are drained (closed with 1012, in batches, while /healthz says 503 and new
// connections are refused) and the process exits with status 0, inside the supervisors' limits
// even while a presence room churns at full speed.
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, RawClient, connectPhx, joinOk, nextClose, okReply, v2, delay, until,
  httpRequest, upgradeStatus, RawLongPoll,
} from './harness.mjs'

describe('graceful shutdown', () => {
  after(cleanupAll)

  it('drains every socket with 1012 and exits 0', { timeout: 20_000 }, async () => {
    const server = await startServer()
    const sockets = []
    for (let i = 0; i < 3; i++) {
      const socket = await connectPhx(server)
      await joinOk(socket, 'room:shutdown', { user: `member-${i}` })
      sockets.push(socket)
    }
    const rawV2 = await RawClient.connect(server.wsUrl())
    rawV2.send(v2('1', '1', 'bench:shutdown', 'phx_join', {}))
    assert.deepEqual(await rawV2.nextJson(), okReply('1', '1', 'bench:shutdown', {}))
    const rawV1 = await RawClient.connect(server.wsUrl({ vsn: '1.0.0' }))
    const idle = await RawClient.connect(server.wsUrl())
    const closes = sockets.map((socket) => nextClose(socket, 5_000))

    const exit = await server.stop(5_000)
    assert.equal(exit.killed, false, 'the server did not exit within 5 s of SIGTERM')
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null })
    assert.deepEqual(await Promise.all(closes), [1012, 1012, 1012])
    for (const client of [rawV2, rawV1, idle]) assert.equal((await client.waitClose()).code, 1012)
    // Every actor of the server's own ended with its tree: none was left behind at exit.
    assert.doesNotMatch(server.output, /outside the supervision tree/)
  })

  it('drains in batches: /healthz 503, new sockets refused, one batch per interval', { timeout: 20_000 }, async () => {
    const server = await startServer(['--drain-batch-size', '2', '--drain-batch-interval-ms', '500'])
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(server.wsUrl())))
    const closes = clients.map((c) => c.waitClose(10_000).then((info) => ({ code: info.code, at: Date.now() })))
    const exited = server.stop(10_000)
    await until(async () => (await httpRequest(server.httpUrl('/healthz'))).status === 503, 1_000,
      '/healthz to answer 503 while draining')
    assert.equal((await upgradeStatus(server.wsUrl())).status, 503, 'a new WebSocket during the drain')
    const closed = await Promise.all(closes)
    assert.deepEqual(closed.map((c) => c.code), [1012, 1012, 1012, 1012, 1012])
    const at = closed.map((c) => c.at).sort((a, b) => a - b)
    // Batches of 2, 2 and 1, 500 ms apart (a busy machine only makes the gaps longer).
    assert.ok(at[2] - at[0] >= 400, `the second batch ${at[2] - at[0]} ms after the first`)
    assert.ok(at[4] - at[2] >= 400, `the third batch ${at[4] - at[2]} ms after the second`)
    const exit = await exited
    assert.equal(exit.killed, false)
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null })
    assert.match(server.output, /draining: closed 2 connection\(s\) with 1012, 3 left/)
  })

  it('long-poll sessions drain in the same batches, after the WebSockets: a GET then gets {"status":410}', { timeout: 20_000 }, async () => {
    const server = await startServer(['--longpoll', '--longpoll-window-ms', '1000',
      '--drain-batch-size', '1', '--drain-batch-interval-ms', '500'])
    const ws = await RawClient.connect(server.wsUrl())
    const sessions = await Promise.all([RawLongPoll.open(server), RawLongPoll.open(server)])
    for (const [i, session] of sessions.entries()) await session.join(`bench:drain-lp-${i}`)
    const wsClosed = ws.waitClose(10_000).then((info) => ({ code: info.code, at: Date.now() }))
    // Each session keeps a GET waiting, as phoenix.js does, until one answers 410.
    const ended = sessions.map(async (session) => {
      for (;;) {
        const res = await session.request('GET', { timeoutMs: 5_000 })
        if (res.json?.status === 410) return Date.now()
      }
    })
    const exited = server.stop(10_000)
    const first = await wsClosed
    assert.equal(first.code, 1012)
    const at = (await Promise.all(ended)).sort((a, b) => a - b)
    // Batches of 1: the WebSocket, then one session, then the other, 500 ms apart.
    assert.ok(at[0] - first.at >= 400, `the first session ${at[0] - first.at} ms after the WebSocket`)
    assert.ok(at[1] - at[0] >= 400, `the second session ${at[1] - at[0]} ms after the first`)
    const exit = await exited
    assert.deepEqual({ code: exit.code, signal: exit.signal, killed: exit.killed }, { code: 0, signal: null, killed: false })
    assert.match(server.output, /draining: ended 1 long-poll session\(s\), 1 left/)
  })

  it('--drain-timeout-ms bounds the drain: what is left closes with 1001', { timeout: 20_000 }, async () => {
    const server = await startServer(['--drain-batch-size', '1', '--drain-batch-interval-ms', '5000',
      '--drain-timeout-ms', '300'])
    const clients = await Promise.all(Array.from({ length: 3 }, () => RawClient.connect(server.wsUrl())))
    const started = Date.now()
    const exit = await server.stop(10_000)
    const codes = (await Promise.all(clients.map((c) => c.waitClose()))).map((info) => info.code).sort()
    assert.deepEqual(codes, [1001, 1001, 1012])
    assert.ok(Date.now() - started < 4_000, 'the drain did not wait for its 5 s interval')
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null })
    assert.match(server.output, /2 connection\(s\) left at the drain timeout/)
  })

  it('exits 0 on SIGTERM with no clients', async () => {
    const server = await startServer()
    const exit = await server.stop(5_000)
    assert.equal(exit.killed, false)
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null })
  })

  it('exits 0 within the shutdown limit while 200 clients churn one presence room', { timeout: 30_000 }, async (t) => {
    const server = await startServer()
    const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(server.wsUrl())))
    let stopping = false
    let joins = 0
    // Each client joins and leaves as fast as the server answers, until the server goes away.
    const churning = clients.map(async (client, i) => {
      try {
        for (let round = 1; !stopping; round++) {
          client.send(v2(String(round), String(round), 'room:shutdown-churn', 'phx_join', { user: `c${i}` }))
          await client.until((m) => m[1] === String(round) && m[3] === 'phx_reply')
          joins += 1
          client.send(v2(String(round), `${round}l`, 'room:shutdown-churn', 'phx_leave', {}))
          await client.until((m) => m[1] === `${round}l` && m[3] === 'phx_reply')
        }
      } catch { /* the server closed the connection */ }
    })
    await delay(2_000)
    const started = Date.now()
    const exit = await server.stop(10_000)
    stopping = true
    t.diagnostic(`${joins} joins in 2 s of churn; stopped in ${Date.now() - started} ms`)
    await Promise.all(churning)
    assert.ok(joins > 500, `the room churned (${joins} joins)`)
    assert.equal(exit.killed, false, 'the server did not exit within 10 s of SIGTERM')
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null })
    assert.doesNotMatch(server.output, /did not stop within|killed \d+ children/)
  })
})
