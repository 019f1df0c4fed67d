// Long-poll under the WebSocket limits: each message obeys --max-frame-size (a POST body may hold
// many of them up to the HTTP body cap), and a binary reply, which long-poll cannot carry, reaches
// the client as an error reply instead of vanishing.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawLongPoll, connectLongPoll, joinOk, pushResult,
  observeTopic, okReply, errorReply, uniqueTopic, v2, binaryPush,
} from './harness.mjs'

const MAX_FRAME = 1_048_576  // the default --max-frame-size
const NO_BINARY = { reason: 'long-poll carries no binary frames' }

describe('long-poll limits', () => {
  let server
  before(async () => { server = await startServer(['--longpoll']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  const open = () => RawLongPoll.open(server)
  // A V2 ping whose JSON text is exactly `size` bytes.
  const pingOfSize = (topic, ref, size) => {
    const empty = JSON.stringify(v2('1', ref, topic, 'ping', { pad: '' }))
    return JSON.stringify(v2('1', ref, topic, 'ping', { pad: 'x'.repeat(size - empty.length) }))
  }

  it('a 5 MB message answers HTTP 413 and ends the session, as 1009 closes a WebSocket', async () => {
    const topic = uniqueTopic()
    const obs = await observeTopic(server, topic)
    const client = await open()
    await client.join(topic, { user: 'big' })
    const res = await client.post([v2('1', '2', topic, 'shout', { before: true }), pingOfSize(topic, '3', 5_000_000)])
    assert.equal(res.status, 413, res.body)
    assert.match(res.body, /message too big/)
    assert.deepEqual(await obs.shouts.next(), { before: true }, 'the lines before it were delivered')
    assert.deepEqual(await obs.left.next(), { user: 'big', reason: 'closed' })
    assert.equal((await client.postBody(JSON.stringify(v2('1', '4', topic, 'ping', {})))).body, '{"status":410}')
  })

  it('the limit is per message: exactly --max-frame-size passes, one byte more does not', async () => {
    const topic = uniqueTopic()
    const client = await open()
    await client.join(topic, { user: 'edge' })
    await client.send(pingOfSize(topic, '2', MAX_FRAME))
    const [, ref] = await client.next(5_000)
    assert.equal(ref, '2')
    const res = await client.post([pingOfSize(topic, '3', MAX_FRAME + 1)])
    assert.equal(res.status, 413, res.body)
  })

  it('a body larger than --max-frame-size made of small messages is accepted', async () => {
    const topic = uniqueTopic()
    const client = await open()
    await client.join(topic, { user: 'many' })
    const lines = Array.from({ length: 3 }, (_, i) => pingOfSize(topic, `p${i}`, 500_000))
    const res = await client.post(lines)
    assert.equal(res.body, '{"status":200}')
    const replies = await client.until((m) => m[1] === 'p2', 5_000)
    assert.deepEqual(replies.map((m) => m[1]), ['p0', 'p1', 'p2'])
  })

  it('a base64 line is measured by the binary frame it carries', async () => {
    const topic = uniqueTopic()
    const client = await open()
    await client.join(topic, { user: 'bin' })
    const res = await client.post([binaryPush('1', '2', topic, 'shout', Buffer.alloc(MAX_FRAME, 7))])
    assert.equal(res.status, 413, res.body)
  })

  it('a binary reply reaches a raw session as an error reply to its push', async () => {
    const topic = uniqueTopic()
    const client = await open()
    await client.join(topic, { user: 'bin-ping' })
    await client.send(binaryPush('1', '2', topic, 'ping', Buffer.from([1, 2, 3])), v2('1', '3', topic, 'ping', { after: true }))
    assert.deepEqual(await client.until((m) => m[1] === '3'), [errorReply('1', '2', topic, NO_BINARY), okReply('1', '3', topic, { after: true })])
  })

  it('phoenix.js over long-poll: a binary push answered in binary gets the error, not a timeout', async () => {
    const channel = await joinOk(await connectLongPoll(server), uniqueTopic(), { user: 'lp-js' })
    assert.deepEqual(await pushResult(channel, 'ping', new Uint8Array([9, 8]).buffer), { status: 'error', response: NO_BINARY })
    assert.deepEqual(await pushResult(channel, 'ping', { still: 'served' }), { status: 'ok', response: { still: 'served' } })
  })
})
