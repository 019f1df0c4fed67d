// V2 binary frames (docs/protocol.md §3): exact layouts on the wire and binary payloads through phoenix.js.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, pushResult, EventLog,
  uniqueTopic, okReply, errorReply, v2, cast,
} from './harness.mjs'

const utf8 = (s) => Buffer.from(s, 'utf8')

// Client→server push: kind 0 with a 5-byte header.
function pushFrame(joinRef, ref, topic, event, payload) {
  const fields = [joinRef, ref, topic, event].map(utf8)
  return Buffer.concat([Buffer.from([0, ...fields.map((f) => f.length)]), ...fields, payload])
}

// Server→client reply: kind 1 with a 5-byte header.
function replyFrame(joinRef, ref, topic, status, payload) {
  const fields = [joinRef, ref, topic, status].map(utf8)
  return Buffer.concat([Buffer.from([1, ...fields.map((f) => f.length)]), ...fields, payload])
}

// Server→client broadcast: kind 2 with a 3-byte header and no refs.
function broadcastFrame(topic, event, payload) {
  const fields = [topic, event].map(utf8)
  return Buffer.concat([Buffer.from([2, ...fields.map((f) => f.length)]), ...fields, payload])
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const toBuffer = (arrayBuffer) => Buffer.from(new Uint8Array(arrayBuffer))

describe('binary frames', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  async function rawJoined(topic, user, joinRef = '1') {
    const client = await RawClient.connect(server.wsUrl())
    client.send(v2(joinRef, joinRef, topic, 'phx_join', { user }))
    assert.deepEqual(await client.nextJson(), okReply(joinRef, joinRef, topic, { joined: topic }))
    return client
  }

  it('the worked example: ping de ad on room:1 gets reply 01 01 01 06 02 31 32 … 6f 6b de ad', async () => {
    const client = await rawJoined('room:1', 'bin')
    const push = pushFrame('1', '2', 'room:1', 'ping', Buffer.from([0xde, 0xad]))
    assert.equal(push.toString('hex'), '0001010604313272' + '6f6f6d3a3170696e67dead')
    client.send(push)
    const reply = await client.nextBinary()
    assert.equal(reply.toString('hex'), '01010106023132726f6f6d3a316f6bdead')
  })

  it('binary ping echoes every byte value, in a kind-1 reply', async () => {
    const topic = uniqueTopic()
    const client = await rawJoined(topic, 'bin', '4')
    client.send(pushFrame('4', '5', topic, 'ping', allBytes))
    assert.deepEqual(await client.nextBinary(), replyFrame('4', '5', topic, 'ok', allBytes))
  })

  it('header lengths count UTF-8 bytes, not characters', async () => {
    const topic = `room:ünïcödé-${process.pid}`
    const client = await rawJoined(topic, 'bin', 'ä')
    client.send(pushFrame('ä', 'ref-€', topic, 'ping', Buffer.from('€uro')))
    assert.deepEqual(await client.nextBinary(), replyFrame('ä', 'ref-€', topic, 'ok', Buffer.from('€uro')))
  })

  it('an empty and a large binary payload round-trip', async () => {
    const topic = uniqueTopic()
    const client = await rawJoined(topic, 'bin')
    client.send(pushFrame('1', '2', topic, 'ping', Buffer.alloc(0)))
    assert.deepEqual(await client.nextBinary(), replyFrame('1', '2', topic, 'ok', Buffer.alloc(0)))
    const large = Buffer.alloc(200_000).map((_, i) => (i * 7) & 0xff)
    client.send(pushFrame('1', '3', topic, 'ping', large))
    assert.deepEqual(await client.nextBinary(), replyFrame('1', '3', topic, 'ok', large))
  })

  it('binary shout is broadcast as a kind-2 frame to every member', async () => {
    const topic = uniqueTopic()
    const sender = await rawJoined(topic, 'sender')
    const receiver = await rawJoined(topic, 'receiver')
    const payload = Buffer.from([0, 1, 2, 0xfe, 0xff])
    sender.send(pushFrame('1', '2', topic, 'shout', payload))
    const expected = broadcastFrame(topic, 'shout', payload)
    assert.deepEqual(await receiver.nextBinary(), expected)
    assert.deepEqual(await sender.nextBinary(), expected)
  })

  it('a binary push with an empty join_ref is accepted', async () => {
    const topic = uniqueTopic()
    const client = await rawJoined(topic, 'bin', '1')
    client.send(pushFrame('', '2', topic, 'ping', Buffer.from([7])))
    assert.deepEqual(await client.nextBinary(), replyFrame('1', '2', topic, 'ok', Buffer.from([7])))
  })

  it('a binary push to a topic that is not joined gets the JSON "unmatched topic" reply', async () => {
    const client = await RawClient.connect(server.wsUrl())
    client.send(pushFrame('', '1', 'room:nobody', 'ping', Buffer.from([1])))
    assert.deepEqual(await client.nextJson(), errorReply(null, '1', 'room:nobody', { reason: 'unmatched topic' }))
  })

  it('phoenix.js: push("ping", ArrayBuffer) gets an ArrayBuffer reply with the same bytes', async () => {
    const socket = await connectPhx(server)
    const channel = await joinOk(socket, uniqueTopic(), { user: 'phx-bin' })
    const bytes = new Uint8Array(allBytes)
    const { status, response } = await pushResult(channel, 'ping', bytes.buffer.slice(0))
    assert.equal(status, 'ok')
    assert.ok(response instanceof ArrayBuffer, `response is ${response?.constructor?.name}`)
    assert.deepEqual(toBuffer(response), allBytes)
  })

  it('phoenix.js: a binary shout arrives as an ArrayBuffer at every member', async () => {
    const topic = uniqueTopic()
    const a = await joinOk(await connectPhx(server), topic, { user: 'a' })
    const b = await joinOk(await connectPhx(server), topic, { user: 'b' })
    const logs = [new EventLog(a, 'shout'), new EventLog(b, 'shout')]
    cast(a, 'shout', new Uint8Array([9, 8, 7, 0]).buffer)
    for (const log of logs) {
      const payload = await log.next()
      assert.ok(payload instanceof ArrayBuffer, `payload is ${payload?.constructor?.name}`)
      assert.deepEqual(toBuffer(payload), Buffer.from([9, 8, 7, 0]))
    }
  })

  it('phoenix.js: JSON and binary pushes interleave on one channel', async () => {
    const socket = await connectPhx(server)
    const channel = await joinOk(socket, uniqueTopic(), { user: 'mixed' })
    const results = await Promise.all([
      pushResult(channel, 'ping', { json: 1 }),
      pushResult(channel, 'ping', new Uint8Array([1, 2, 3]).buffer),
      pushResult(channel, 'ping', { json: 2 }),
    ])
    assert.deepEqual(results[0], { status: 'ok', response: { json: 1 } })
    assert.deepEqual(toBuffer(results[1].response), Buffer.from([1, 2, 3]))
    assert.deepEqual(results[2], { status: 'ok', response: { json: 2 } })
  })
})
