// --max-presence-meta (issue 11, item 1): a presence whose key plus meta exceed the cap is
// refused, so one client cannot park megabytes in the tracker of every room it joins. Through the
// demo: a join whose user name (the presence key) is too large is refused with "meta too large",
// and so is a "status" update with a too large status; the server's memory stays flat and the
// connection stays usable.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import {
  startServer, cleanupAll, cleanupClients, RawClient, errorReply, okReply, uniqueTopic, v2, delay,
} from './harness.mjs'

const TOO_LARGE = { reason: 'meta too large' }
const ROOMS = 100  // the default --max-channels
const BIG = 1_000_000  // just under the default --max-frame-size

function rssBytes(server) {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024
}

const mb = (bytes) => (bytes / 1_048_576).toFixed(1)

describe('--max-presence-meta (default 4096)', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a join whose presence is too large is refused; the connection goes on', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const topic = uniqueTopic()
    // The demo's meta is {"online_at":<13 digits>}, 27 bytes: a 4,070-byte name is one byte over.
    client.send(v2('1', '1', topic, 'phx_join', { user: 'n'.repeat(4096 - 26) }))
    assert.deepEqual(await client.nextJson(), errorReply('1', '1', topic, TOO_LARGE))
    client.send(v2('2', '2', topic, 'phx_join', { user: 'n'.repeat(4096 - 27) }))
    assert.deepEqual(await client.nextJson(), okReply('2', '2', topic, { joined: topic }))
    client.send(v2('2', '3', topic, 'ping', { still: 'here' }))
    assert.deepEqual(await client.nextJson(), okReply('2', '3', topic, { still: 'here' }))
  })

  it(`${ROOMS} rooms of 1 MB presences: every one refused, memory stays flat, the connection stays usable`, async () => {
    const observer = await RawClient.connect(server.wsUrl(), { keepPresence: true })
    const watched = uniqueTopic()
    await observer.join(watched, { user: 'observer' })
    const rssBefore = rssBytes(server)

    const client = await RawClient.connect(server.wsUrl())
    const topics = Array.from({ length: ROOMS }, (_, n) => (n === 0 ? watched : uniqueTopic()))
    const hugeName = 'u'.repeat(BIG)
    // Joins whose presence key is 1 MB.
    for (const [n, topic] of topics.entries()) {
      const ref = `j${n}`
      client.send(v2(ref, ref, topic, 'phx_join', { user: hugeName }))
      assert.deepEqual(await client.nextJson(10_000), errorReply(ref, ref, topic, TOO_LARGE))
    }
    // Joins with a small name, then a 1 MB status for each: the update is refused, the meta stays.
    for (const [n, topic] of topics.entries()) {
      const ref = `k${n}`
      client.send(v2(ref, ref, topic, 'phx_join', { user: 'big' }))
      assert.deepEqual(await client.nextJson(10_000), okReply(ref, ref, topic, { joined: topic }))
    }
    for (const [n, topic] of topics.entries()) {
      client.send(v2(`k${n}`, `s${n}`, topic, 'status', { status: 's'.repeat(BIG) }))
      assert.deepEqual(await client.nextJson(10_000), errorReply(`k${n}`, `s${n}`, topic, TOO_LARGE))
    }

    // Still usable: a ping in every room, and a heartbeat.
    for (const [n, topic] of topics.entries()) {
      client.send(v2(`k${n}`, `p${n}`, topic, 'ping', { n }))
      assert.deepEqual(await client.nextJson(), okReply(`k${n}`, `p${n}`, topic, { n }))
    }
    client.send(v2(null, 'hb', 'phoenix', 'heartbeat', {}))
    assert.deepEqual(await client.nextJson(), okReply(null, 'hb', 'phoenix', {}))

    // The observer saw "big" join with its small meta only, never a 1 MB one.
    await delay(200)
    const metas = observer.presence.flatMap(([, , , , body]) =>
      Object.values(body.joins ?? body).flatMap((entry) => entry.metas))
    assert.ok(metas.every((meta) => JSON.stringify(meta).length < 200), 'a large meta reached the observer')

    const rssAfter = rssBytes(server)
    const growth = rssAfter - rssBefore
    console.log(`ℹ server RSS ${mb(rssBefore)} MB before, ${mb(rssAfter)} MB after ` +
      `${ROOMS} refused 1 MB joins and ${ROOMS} refused 1 MB status updates (growth ${mb(growth)} MB)`)
    assert.ok(growth < 40 * 1_048_576, `server RSS grew by ${mb(growth)} MB`)
  })
})
