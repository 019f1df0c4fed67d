// Presence under churn and at size, with the numbers reported as test diagnostics (ℹ lines with
// --test-reporter=spec): 20 clients joining and leaving one topic back to back, then a topic with
// 2,000 members. BERYL_E2E_PRESENCE_MEMBERS overrides the member count for a manual measurement
// (10,000 belongs to the benchmark suite).
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, pushResult, httpRequest, uniqueTopic,
  delay, until, joinWithPresence, presenceProbe, expectConverged, metaCounts, countsOf,
} from './harness.mjs'

const CHURNERS = 20
const CHURN_MS = 3_000
const MEMBERS = Number(process.env.BERYL_E2E_PRESENCE_MEMBERS || 2_000)
const BATCH = 100

// Sends a join or leave and waits for its ok reply (other frames, such as "left", are skipped).
async function call(client, message) {
  client.send(message)
  const taken = await client.until((m) => m[1] === message[1] && m[3] === 'phx_reply', 5_000)
  const reply = taken[taken.length - 1]
  if (reply[4]?.status !== 'ok') throw new Error(`${message[3]} of ${message[2]}: ${JSON.stringify(reply)}`)
}

// Joins and leaves `topic` back to back until `deadline`, ending joined or not as asked.
async function churn(client, topic, user, deadline, endJoined, stats) {
  let n = 0
  let joinRef = null
  const toggle = async () => {
    const ref = String(++n)
    if (joinRef === null) {
      await call(client, [ref, ref, topic, 'phx_join', { user }])
      joinRef = ref
      stats.joins += 1
    } else {
      await call(client, [joinRef, ref, topic, 'phx_leave', {}])
      joinRef = null
      stats.leaves += 1
    }
    stats.lastChangeAt = Math.max(stats.lastChangeAt, Date.now())
  }
  while (Date.now() < deadline) await toggle()
  if ((joinRef !== null) !== endJoined) await toggle()
}

describe('presence under churn', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it(`${CHURNERS} clients joining and leaving for ${CHURN_MS / 1000} s: the observer ends with exactly the members still joined`, { timeout: 30_000 }, async (t) => {
    const topic = uniqueTopic()
    const socket = await connectPhx(server)
    const { channel, view } = await joinWithPresence(socket, topic, { user: 'observer' })
    const clients = await Promise.all(Array.from({ length: CHURNERS }, () => RawClient.connect(server.wsUrl())))
    const stats = { joins: 0, leaves: 0, lastChangeAt: 0 }
    const started = Date.now()
    await Promise.all(clients.map((client, i) => churn(client, topic, `churn-${i}`, started + CHURN_MS, i % 2 === 0, stats)))
    const seconds = (stats.lastChangeAt - started) / 1000

    const stillJoined = ['observer', ...clients.map((_, i) => `churn-${i}`).filter((_, i) => i % 2 === 0)]
    const want = countsOf(stillJoined)
    const syncedAt = await view.waitFor((v) => isDeepStrictEqual(v.counts(), want), `exactly ${JSON.stringify(want)}`, 5_000)
    const lagMs = Math.max(0, syncedAt - stats.lastChangeAt)
    // Stays so: nothing stale arrives late.
    await delay(300)
    assert.deepEqual(view.counts(), want, 'the list changed after it had converged')
    const { probe } = await expectConverged(server, topic, [view])
    assert.deepEqual(metaCounts(probe.state), want, 'the server\'s presence_state')

    assert.equal(server.alive, true)
    assert.equal((await httpRequest(server.httpUrl('/healthz'))).status, 200)
    assert.deepEqual(await pushResult(channel, 'ping', { after: 'churn' }), { status: 'ok', response: { after: 'churn' } })
    assert.deepEqual(socket.closeCodes, [])
    assert.ok(clients.every((c) => c.isOpen), 'every churning connection is still open')
    t.diagnostic(`churn: ${CHURNERS} clients, ${stats.joins} joins + ${stats.leaves} leaves in ${seconds.toFixed(2)} s = ` +
      `${Math.round(stats.joins / seconds)} joins/s (${Math.round((stats.joins + stats.leaves) / seconds)} changes/s); ` +
      `observer in sync ${lagMs} ms after the last change (${view.syncs} syncs)`)
    assert.ok(stats.joins >= CHURNERS * 5, `only ${stats.joins} joins in ${CHURN_MS} ms`)
  })
})

describe('presence at size', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it(`a topic with ${MEMBERS} members: a new joiner's presence_state lists every one of them`, { timeout: 120_000 }, async (t) => {
    const topic = uniqueTopic()
    const members = []
    const started = Date.now()
    for (let first = 0; first < MEMBERS; first += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, MEMBERS - first) }, (_, k) => first + k)
      members.push(...await Promise.all(batch.map(async (i) => {
        const client = await RawClient.connect(server.wsUrl(), { dropPresence: true, timeoutMs: 10_000 })
        await client.join(topic, { user: `m${i}` }, '1', 10_000)
        return client
      })))
    }
    const setupMs = Date.now() - started

    // Right after the last join, while the last diffs still go out to every member; then once
    // the members have received nothing for a while.
    const busy = await presenceProbe(server, topic, { timeoutMs: 10_000 })
    const received = () => members.reduce((sum, c) => sum + c.presenceDropped, 0)
    let seen = -1
    await until(() => {
      const now = received()
      const quiet = now === seen
      seen = now
      return quiet
    }, 10_000, 'the members to stop receiving presence frames', 300)
    const quiet = await presenceProbe(server, topic, { timeoutMs: 10_000 })

    const names = members.map((_, i) => `m${i}`)
    for (const probe of [busy, quiet]) {
      assert.deepEqual(metaCounts(probe.state), countsOf(names))
      assert.deepEqual(probe.message.slice(0, 4), ['1', null, topic, 'presence_state'])
      const refs = new Set(Object.values(probe.state).map((p) => p.metas[0].phx_ref))
      assert.equal(refs.size, MEMBERS, 'phx_refs are unique')
    }
    assert.ok(members.every((c) => c.isOpen), 'every member is still connected')
    assert.equal((await httpRequest(server.httpUrl('/healthz'))).status, 200)
    t.diagnostic(`${MEMBERS} members joined in ${setupMs} ms (batches of ${BATCH}; they received ${seen} presence frames)`)
    t.diagnostic(`presence_state for a new joiner: ${MEMBERS + 1} keys, ${Buffer.byteLength(quiet.text)} bytes; ` +
      `join→state ${quiet.ms.toFixed(1)} ms on a quiet topic, ${busy.ms.toFixed(1)} ms right after the last join`)
    assert.ok(quiet.ms < 2_000, `join→state took ${quiet.ms.toFixed(1)} ms on a quiet topic of ${MEMBERS} members`)
  })
})
