// Several network threads (--io-threads): each runs its own io_context and new connections go to
// them in turn, so clients on different threads must still reach each other, and the server must
// still end cleanly with connections open on every thread.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, connectLongPoll, joinOk, pushResult, EventLog,
  uniqueTopic, cast,
} from './harness.mjs'

const THREADS = 3

describe('several network threads', () => {
  let server
  before(async () => { server = await startServer(['--io-threads', String(THREADS), '--longpoll']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('says how many it runs', () => {
    assert.match(server.output, new RegExp(`${THREADS} network thread\\(s\\)`))
  })

  it('a broadcast reaches WebSocket and long-poll members on every thread, each reply its sender', async () => {
    const topic = uniqueTopic('bench')
    const channels = []
    // Four connections per thread, one of them a long-poll client.
    for (let i = 0; i < 4 * THREADS; i++) {
      const socket = i === 5 ? await connectLongPoll(server) : await connectPhx(server)
      channels.push(await joinOk(socket, topic))
    }
    for (const [i, channel] of channels.entries()) {
      const reply = await pushResult(channel, 'ping', { from: i })
      assert.equal(reply.status, 'ok')
      assert.deepEqual(reply.response, { from: i })
    }
    // Three senders: each member gets every shout once (in any order across senders).
    const logs = channels.map((channel) => new EventLog(channel, 'shout'))
    for (let n = 0; n < 3; n++) cast(channels[n * THREADS + n], 'shout', { n })
    for (const log of logs) {
      const got = (await log.waitFor(3)).map((payload) => payload.n).sort()
      assert.deepEqual(got, [0, 1, 2])
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (const log of logs) assert.equal(log.count, 3)
  })

  it('exits 0 on SIGTERM within the limit with clients on every thread', async () => {
    const own = await startServer(['--io-threads', String(THREADS)])
    const topic = uniqueTopic('bench')
    for (let i = 0; i < 2 * THREADS; i++) await joinOk(await connectPhx(own), topic)
    const exit = await own.stop()
    assert.equal(exit.killed, false)
    assert.equal(exit.code, 0)
  })
})
