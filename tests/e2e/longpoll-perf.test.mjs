// Long-poll numbers, reported as test diagnostics: the ping → reply round trip through phoenix.js's
// LongPoll (with WebSocket alongside for reference) and the broadcasts one session receives per
// second. The assertions only check completeness, order and very loose bounds.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, connectLongPoll, connectPhx, joinOk, pushResult, cast,
  EventLog, RawClient, uniqueTopic, okReply, v2,
} from './harness.mjs'

const PINGS = 200
const BROADCASTS = 5_000

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

async function pingLatencies(channel) {
  const samples = []
  for (let i = 0; i < PINGS; i++) {
    const started = process.hrtime.bigint()
    const result = await pushResult(channel, 'ping', { i })
    samples.push(Number(process.hrtime.bigint() - started) / 1e6)
    assert.deepEqual(result, { status: 'ok', response: { i } })
  }
  samples.sort((a, b) => a - b)
  return { median: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1] }
}

const ms = (x) => `${x.toFixed(2)} ms`

describe('long-poll performance', () => {
  let server
  // A generous outbound limit, so a burst waiting for the next GET measures the transport, not the policy.
  before(async () => { server = await startServer(['--longpoll', '--outbound-queue-limit', '100000']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it(`echo round trip: ${PINGS} sequential pings (phoenix.js LongPoll, and WebSocket for reference)`, async (t) => {
    const lp = await pingLatencies(await joinOk(await connectLongPoll(server), uniqueTopic('bench')))
    const ws = await pingLatencies(await joinOk(await connectPhx(server), uniqueTopic('bench')))
    t.diagnostic(`long-poll ping→reply: median ${ms(lp.median)}, p99 ${ms(lp.p99)}, max ${ms(lp.max)}`)
    t.diagnostic(`websocket ping→reply: median ${ms(ws.median)}, p99 ${ms(ws.p99)}, max ${ms(ws.max)}`)
    assert.ok(lp.median < 100, `long-poll median ${ms(lp.median)}`)
  })

  it(`one long-poll session receives ${BROADCASTS} broadcasts from a WebSocket sender, complete and in order`, async (t) => {
    const topic = uniqueTopic('bench')
    const receiver = new EventLog(await joinOk(await connectLongPoll(server), topic), 'shout')
    const sender = await RawClient.connect(server.wsUrl())
    sender.send(v2('1', '1', topic, 'phx_join', {}))
    assert.deepEqual(await sender.nextJson(), okReply('1', '1', topic, {}))
    const started = process.hrtime.bigint()
    for (let seq = 0; seq < BROADCASTS; seq++) sender.send(v2('1', String(seq + 2), topic, 'shout', { seq }))
    await receiver.waitFor(BROADCASTS, 30_000)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    assert.deepEqual(receiver.payloads.map((p) => p.seq), Array.from({ length: BROADCASTS }, (_, i) => i))
    t.diagnostic(`long-poll receive: ${BROADCASTS} broadcasts in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(BROADCASTS / seconds)} msg/s`)
  })

  it('one long-poll session sends 2000 shouts to another long-poll session, complete and in order', async (t) => {
    const n = 2_000
    const topic = uniqueTopic('bench')
    const sender = await joinOk(await connectLongPoll(server), topic)
    const receiver = new EventLog(await joinOk(await connectLongPoll(server), topic), 'shout')
    const started = process.hrtime.bigint()
    for (let seq = 0; seq < n; seq++) cast(sender, 'shout', { seq })
    await receiver.waitFor(n, 30_000)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    assert.deepEqual(receiver.payloads.map((p) => p.seq), Array.from({ length: n }, (_, i) => i))
    t.diagnostic(`long-poll → long-poll: ${n} shouts in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(n / seconds)} msg/s`)
  })
})
