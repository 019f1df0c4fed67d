// SIGTERM: open sockets are closed with 1001 and the process exits with status 0, inside the
// supervisors' limits even while a presence room churns at full speed.
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, RawClient, connectPhx, joinOk, nextClose, okReply, v2, delay,
} from './harness.mjs'

describe('graceful shutdown', () => {
  after(cleanupAll)

  it('closes every socket with 1001 and exits 0', { timeout: 20_000 }, async () => {
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
    assert.deepEqual(await Promise.all(closes), [1001, 1001, 1001])
    for (const client of [rawV2, rawV1, idle]) assert.equal((await client.waitClose()).code, 1001)
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
