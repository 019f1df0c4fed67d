// Many phoenix.js clients in one topic: every client receives every broadcast, in order.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, cleanupAll, connectPhx, joinOk, EventLog, cast } from './harness.mjs'

const CLIENTS = 200
const MESSAGES = 100

describe('many clients', () => {
  let server
  before(async () => { server = await startServer() })
  after(cleanupAll)

  it(`${CLIENTS} clients each receive all ${MESSAGES} shouts in order`, { timeout: 60_000 }, async () => {
    const channels = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      const socket = await connectPhx(server, { openTimeoutMs: 10_000, timeout: 10_000 })
      return joinOk(socket, 'room:load', { user: `load-${i}` }, 10_000)
    }))
    const logs = channels.map((channel) => new EventLog(channel, 'shout'))
    for (let seq = 0; seq < MESSAGES; seq++) cast(channels[0], 'shout', { seq })
    const expected = Array.from({ length: MESSAGES }, (_, seq) => seq)
    for (const [i, log] of logs.entries()) {
      const payloads = await log.waitFor(MESSAGES, 20_000)
      assert.deepEqual(payloads.map((p) => p.seq), expected, `client ${i}`)
    }
  })
})
