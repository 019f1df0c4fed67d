// GET /metrics as Prometheus reads it (issue 15): parsed with a Prometheus text-format parser,
// the per-message counters and the latency histograms move by what the clients did; with
// --no-metrics they are not there at all.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, joinOk, joinResult, pushResult, EventLog,
  httpRequest, uniqueTopic, until,
} from './harness.mjs'

async function scrape(server) {
  const res = await httpRequest(server.httpUrl('/metrics'))
  assert.equal(res.status, 200)
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  return new Map(parsePrometheusTextFormat(res.body).map((family) => [family.name, family]))
}

// The value of a counter family's sample whose labels include `labels`.
function value(families, name, labels = {}) {
  const family = families.get(name)
  assert.ok(family, `${name} in /metrics`)
  const sample = family.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  assert.ok(sample, `${name} ${JSON.stringify(labels)} in /metrics`)
  return Number(sample.value)
}

function histogram(families, name) {
  const family = families.get(name)
  assert.ok(family, `${name} in /metrics`)
  assert.equal(family.type, 'HISTOGRAM')
  const [h] = family.metrics
  return { count: Number(h.count), sum: Number(h.sum), buckets: h.buckets }
}

describe('/metrics counters', () => {
  let server
  before(async () => { server = await startServer() })
  after(cleanupAll)
  afterEach(cleanupClients)

  it('counts messages, bytes, joins, leaves, broadcasts, deliveries and errors by kind', async () => {
    const before = await scrape(server)
    const a = await connectPhx(server)
    const b = await connectPhx(server)
    const topic = uniqueTopic()
    const chA = a.channel(topic, { user: 'ann' })
    const states = new EventLog(chA, 'presence_state')
    const diffs = new EventLog(chA, 'presence_diff')
    assert.equal((await joinResult(chA)).status, 'ok')
    // The demo rooms track their members. Once ann has her presence_state, her own join has gone
    // out as a diff, so bob's join comes to her as a presence_diff of its own.
    await states.next()
    const chB = await joinOk(b, topic, { user: 'bob' })
    await diffs.next()
    const shouts = new EventLog(chB, 'shout')
    for (let i = 0; i < 10; i++) assert.equal((await pushResult(chA, 'ping', { i })).status, 'ok')
    chA.push('shout', { text: 'hi' })
    await shouts.next()
    assert.equal((await joinResult(a.channel('nomatch:1', {}))).status, 'error')
    await new Promise((resolve) => chB.leave().receive('ok', resolve))

    await until(async () => value(await scrape(server), 'beryl_leaves_total') >
      value(before, 'beryl_leaves_total'), 3_000, 'the leave to be counted')
    const after = await scrape(server)
    const grew = (name, labels) => value(after, name, labels) - value(before, name, labels)
    // 2 joins + 10 pings + 1 shout + 1 unmatched join + 1 leave, and heartbeats perhaps.
    assert.ok(grew('beryl_messages_in_total') >= 15, `messages in: ${grew('beryl_messages_in_total')}`)
    assert.ok(grew('beryl_received_bytes_total') > 15 * 20)
    // 2 join replies, 10 ping replies, the shout to both, the unmatched error, the leave reply.
    assert.ok(grew('beryl_messages_out_total') >= 16, `messages out: ${grew('beryl_messages_out_total')}`)
    assert.ok(grew('beryl_sent_bytes_total') > 16 * 20)
    assert.equal(grew('beryl_joins_total'), 2)
    assert.equal(grew('beryl_leaves_total'), 1)
    // The shout; presence_diffs are counted apart.
    assert.ok(grew('beryl_broadcasts_total') >= 1)
    assert.ok(grew('beryl_presence_diffs_total') >= 1)
    assert.ok(grew('beryl_deliveries_total') >= 2)
    assert.equal(grew('beryl_errors_total', { kind: 'unmatched_topic' }), 1)
    assert.equal(grew('beryl_errors_total', { kind: 'join_refused' }), 0)
  })

  it('a refused join and a crashed channel are errors of their kind', async () => {
    const before = await scrape(server)
    const socket = await connectPhx(server)
    assert.equal((await joinResult(socket.channel('room:forbidden', {}))).status, 'error')
    const ch = await joinOk(socket, uniqueTopic(), { user: 'cat' })
    const errored = new Promise((resolve) => ch.onError(resolve))
    ch.push('crash', {})
    await errored
    await until(async () => value(await scrape(server), 'beryl_errors_total', { kind: 'channel_crashed' }) >
      value(before, 'beryl_errors_total', { kind: 'channel_crashed' }), 3_000, 'the crash to be counted')
    const after = await scrape(server)
    const grew = (kind) => value(after, 'beryl_errors_total', { kind }) - value(before, 'beryl_errors_total', { kind })
    assert.equal(grew('join_refused'), 1)
    assert.equal(grew('channel_crashed'), 1)
  })

  it('join latency and handle_in duration are histograms with cumulative buckets', async () => {
    const before = await scrape(server)
    const socket = await connectPhx(server)
    const ch = await joinOk(socket, uniqueTopic(), { user: 'dan' })
    for (let i = 0; i < 5; i++) assert.equal((await pushResult(ch, 'ping', {})).status, 'ok')
    const after = await scrape(server)
    const joins = histogram(after, 'beryl_join_duration_seconds')
    const handled = histogram(after, 'beryl_handle_in_duration_seconds')
    assert.equal(joins.count - histogram(before, 'beryl_join_duration_seconds').count, 1)
    assert.equal(handled.count - histogram(before, 'beryl_handle_in_duration_seconds').count, 5)
    for (const h of [joins, handled]) {
      assert.equal(Number(h.buckets['+Inf']), h.count)
      assert.ok(h.sum > 0 && h.sum < h.count * 10, `sum ${h.sum} s for ${h.count}`)
      // In `le` order (a JS object lists integer-like keys such as "1" first).
      const counts = Object.entries(h.buckets)
        .sort(([a], [b]) => Number(a === '+Inf' ? Infinity : a) - Number(b === '+Inf' ? Infinity : b))
        .map(([, count]) => Number(count))
      assert.deepEqual(counts, [...counts].sort((x, y) => x - y), 'cumulative buckets')
    }
  })
})

describe('/metrics with --no-metrics', () => {
  let server
  before(async () => { server = await startServer(['--no-metrics']) })
  after(cleanupAll)
  afterEach(cleanupClients)

  it('has the tree and the connections, and no message counters or histograms', async () => {
    const socket = await connectPhx(server)
    await joinOk(socket, uniqueTopic(), { user: 'eve' })
    const families = await scrape(server)
    assert.equal(value(families, 'beryl_up'), 1)
    assert.ok(value(families, 'beryl_connections') >= 1)
    for (const name of ['beryl_messages_in_total', 'beryl_joins_total', 'beryl_errors_total',
      'beryl_join_duration_seconds', 'beryl_handle_in_duration_seconds']) {
      assert.ok(!families.has(name), `${name} with --no-metrics`)
    }
  })
})
