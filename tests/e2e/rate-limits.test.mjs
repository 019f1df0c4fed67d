// Rate limits (--message-rate/--message-burst per connection, --channel-rate/--channel-burst per
// connection and topic), as beryl's with_message_rate and with_channel_rate: over the limit a join
// gets error rate_limited and any other message is dropped without a reply; heartbeats and leaves
// always pass.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, pushResult, uniqueTopic,
  okReply, errorReply, v2, delay,
} from './harness.mjs'

// The replies (their refs, in arrival order) that come within `ms`.
async function repliesWithin(client, ms) {
  const refs = []
  for (;;) {
    let frame
    try { frame = await client.nextJson(ms) } catch { return refs }
    if (frame[3] === 'phx_reply') refs.push(frame[1])
  }
}

function sendPings(client, topic, firstRef, count) {
  const refs = []
  for (let i = 0; i < count; i++) {
    const ref = String(firstRef + i)
    refs.push(ref)
    client.send(v2('1', ref, topic, 'ping', { i }))
  }
  return refs
}

describe('--message-rate 20 --message-burst 10', () => {
  let server
  before(async () => { server = await startServer(['--message-rate', '20', '--message-burst', '10']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a burst passes, the rest is dropped without a reply, and the rate refills the bucket', async () => {
    const topic = uniqueTopic('bench')
    const client = await RawClient.connect(server.wsUrl())
    await client.join(topic) // one token
    const sent = sendPings(client, topic, 2, 40)
    const replied = await repliesWithin(client, 400)
    assert.deepEqual(replied.slice(0, 9), sent.slice(0, 9), 'the rest of the burst, in order')
    assert.ok(replied.length <= 12, `${replied.length} of 40 replied: the limit let too many through`)
    assert.deepEqual(replied, [...replied].sort((a, b) => a - b), 'replies in order')

    await delay(600) // 20/s: the bucket is full again (10)
    const again = sendPings(client, topic, 100, 10)
    assert.deepEqual(await repliesWithin(client, 400), again)
    assert.match(server.output, /over its rate limit/)
  })

  it('heartbeats and leaves are never limited; a join over the limit gets error rate_limited', async () => {
    const topic = uniqueTopic('bench')
    const client = await RawClient.connect(server.wsUrl())
    await client.join(topic)
    sendPings(client, topic, 2, 30)
    await repliesWithin(client, 200)
    for (let i = 0; i < 30; i++) client.send(v2(null, `h${i}`, 'phoenix', 'heartbeat', {}))
    assert.equal((await repliesWithin(client, 300)).length, 30, 'every heartbeat answered')

    // Empty the bucket again, and at once join another topic and leave this one.
    sendPings(client, topic, 40, 30)
    const other = uniqueTopic('bench')
    client.send(v2('70', '70', other, 'phx_join', {}))
    client.send(v2('1', '71', topic, 'phx_leave', {}))
    const frames = await client.until(([, , t, event]) => t === topic && event === 'phx_close')
    const byRef = (ref) => frames.find(([, r]) => r === ref)
    assert.deepEqual(byRef('70'), errorReply('70', '70', other, { reason: 'rate_limited' }))
    assert.deepEqual(byRef('71'), okReply('1', '71', topic))
  })

  it('phoenix.js: a push over the limit times out at the client, the next one after a pause works', async () => {
    const socket = await connectPhx(server)
    const channel = await joinOk(socket, uniqueTopic('bench'))
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => pushResult(channel, 'ping', { i }, 500)))
    const statuses = results.map((r) => r.status)
    assert.deepEqual(statuses.slice(0, 9), Array(9).fill('ok'))
    assert.ok(statuses.includes('timeout'), `statuses: ${statuses}`)
    await delay(600)
    assert.equal((await pushResult(channel, 'ping', { after: 'pause' })).status, 'ok')
  })
})

describe('--channel-rate 5 (per topic)', () => {
  let server
  before(async () => { server = await startServer(['--channel-rate', '5']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('flooding one topic does not limit the connection\'s other topics', async () => {
    const busy = uniqueTopic('bench')
    const quiet = uniqueTopic('bench')
    const client = await RawClient.connect(server.wsUrl())
    await client.join(busy)
    await client.join(quiet)
    const flood = sendPings(client, busy, 10, 30)
    const replied = await repliesWithin(client, 300)
    assert.deepEqual(replied.slice(0, 5), flood.slice(0, 5))
    assert.ok(replied.length <= 7, `${replied.length} of 30 replied on the flooded topic`)
    const calm = []
    for (let i = 0; i < 5; i++) {
      calm.push(String(100 + i))
      client.send(v2('1', String(100 + i), quiet, 'ping', {}))
    }
    assert.deepEqual(await repliesWithin(client, 300), calm)
  })
})
