// --max-channels and the bounded outbound queue (--outbound-queue-limit, --slow-consumer).
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, joinResult, EventLog,
  uniqueTopic, okReply, errorReply, v2, within, delay,
} from './harness.mjs'

const TOO_MANY = { reason: 'too many channels joined' }

describe('--max-channels 3', () => {
  let server
  before(async () => { server = await startServer(['--max-channels', '3']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  async function joinRaw(client, joinRef, topic) {
    client.send(v2(joinRef, joinRef, topic, 'phx_join', { user: 'many' }))
    return client.nextJson()
  }

  it('the 4th join on one connection is refused with the join refs', async () => {
    const client = await RawClient.connect(server.wsUrl())
    for (const n of ['1', '2', '3']) {
      assert.deepEqual(await joinRaw(client, n, `room:max-${n}`), okReply(n, n, `room:max-${n}`, { joined: `room:max-${n}` }))
    }
    assert.deepEqual(await joinRaw(client, '4', 'room:max-4'), errorReply('4', '4', 'room:max-4', TOO_MANY))
    // The refused topic was not registered.
    client.send(v2('4', '5', 'room:max-4', 'ping', {}))
    assert.deepEqual(await client.nextJson(), errorReply(null, '5', 'room:max-4', { reason: 'unmatched topic' }))
  })

  it('leaving frees a slot', async () => {
    const client = await RawClient.connect(server.wsUrl())
    for (const n of ['1', '2', '3']) await joinRaw(client, n, `room:slot-${n}`)
    client.send(v2('2', '9', 'room:slot-2', 'phx_leave', {}))
    assert.deepEqual(await client.nextJson(), okReply('2', '9', 'room:slot-2', {}))
    assert.deepEqual(await client.nextJson(), ['2', '2', 'room:slot-2', 'phx_close', {}])
    assert.deepEqual(await joinRaw(client, '10', 'room:slot-4'), okReply('10', '10', 'room:slot-4', { joined: 'room:slot-4' }))
  })

  it('a duplicate join at the limit replaces the old channel instead of being refused', async () => {
    const client = await RawClient.connect(server.wsUrl())
    for (const n of ['1', '2', '3']) await joinRaw(client, n, `room:dup-${n}`)
    assert.deepEqual(await joinRaw(client, '4', 'room:dup-3'), okReply('4', '4', 'room:dup-3', { joined: 'room:dup-3' }))
    assert.deepEqual(await client.nextJson(), ['3', '3', 'room:dup-3', 'phx_close', {}])
  })

  it('the limit is per connection', async () => {
    const first = await RawClient.connect(server.wsUrl())
    for (const n of ['1', '2', '3']) await joinRaw(first, n, `room:per-${n}`)
    const socket = await connectPhx(server)
    for (const n of ['1', '2', '3']) await joinOk(socket, `room:per-${n}`, { user: 'other' })
    const fourth = socket.channel('room:per-4', { user: 'other' })
    assert.deepEqual(await joinResult(fourth), { status: 'error', response: TOO_MANY })
    fourth.leave()
  })
})

describe('default limits', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('100 channels per connection by default, the 101st is refused', async () => {
    const client = await RawClient.connect(server.wsUrl())
    for (let n = 1; n <= 100; n++) {
      const ref = String(n)
      client.send(v2(ref, ref, `bench:default-${n}`, 'phx_join', {}))
    }
    for (let n = 1; n <= 100; n++) {
      const ref = String(n)
      assert.deepEqual(await client.nextJson(), okReply(ref, ref, `bench:default-${n}`, {}))
    }
    client.send(v2('101', '101', 'bench:default-101', 'phx_join', {}))
    assert.deepEqual(await client.nextJson(), errorReply('101', '101', 'bench:default-101', TOO_MANY))
  })

  it('frames up to 1 MiB are accepted by default, larger ones are closed with 1009', async () => {
    const fits = await RawClient.connect(server.wsUrl())
    const frame = v2(null, '1', 'phoenix', 'heartbeat', { pad: 'z'.repeat(1_048_576 - 100) })
    fits.send(frame)
    assert.deepEqual(await fits.nextJson(), okReply(null, '1', 'phoenix', {}))
    const tooBig = await RawClient.connect(server.wsUrl())
    tooBig.send(v2(null, '1', 'phoenix', 'heartbeat', { pad: 'z'.repeat(1_048_576) }))
    assert.equal((await tooBig.waitClose()).code, 1009)
  })

  // Replies up to 256 KB are written from the channel's thread when nothing is queued; what the
  // socket does not take must follow whole, and before the replies queued behind it. 8 MB of
  // replies: more than the loopback's socket buffers hold, so some writes are cut short.
  it('large replies to a client that is not reading arrive whole and in order', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const topic = uniqueTopic('bench')
    await client.join(topic)
    client.ws._socket.pause()
    const pads = Array.from({ length: 40 }, (_, i) => String.fromCharCode(65 + i).repeat(200_000))
    pads.forEach((pad, i) => {
      client.send(v2('1', `big-${i}`, topic, 'ping', { i, pad }))
      client.send(v2('1', `small-${i}`, topic, 'ping', { i }))
    })
    await delay(300)  // the server answers meanwhile, into a socket nobody reads
    client.ws._socket.resume()
    for (let i = 0; i < pads.length; i++) {
      const [joinRef, ref, , event, { status, response }] = await client.nextJson()
      assert.deepEqual([joinRef, ref, event, status, response.i], ['1', `big-${i}`, 'phx_reply', 'ok', i])
      assert.ok(response.pad === pads[i], `reply ${i} came back altered (${response.pad.length} bytes)`)
      assert.deepEqual(await client.nextJson(), okReply('1', `small-${i}`, topic, { i }))
    }
  })
})

describe('--outbound-buffer-limit 32 MiB', () => {
  let server
  before(async () => { server = await startServer(['--outbound-buffer-limit', String(32 << 20)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  // Broadcasts are queued on every member, then written by the actor threads' outbox writers;
  // what the socket does not take must follow whole, before what is queued behind it. 12 MB for a
  // member that is not reading: more than the loopback's socket buffers hold.
  it('large broadcasts to a member that is not reading arrive whole and in order', async () => {
    const topic = uniqueTopic('bench')
    const member = await RawClient.connect(server.wsUrl())
    await member.join(topic)
    member.ws._socket.pause()
    const sender = await RawClient.connect(server.wsUrl())
    await sender.join(topic)
    const pads = Array.from({ length: 60 }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(200_000))
    for (const [i, pad] of pads.entries()) {
      sender.send(v2('1', `big-${i}`, topic, 'shout', { i, pad }))
      sender.send(v2('1', `small-${i}`, topic, 'shout', { i }))
      // Paced by the sender's own copies, so the writes meet a member's full socket one by one.
      assert.equal((await sender.nextJson())[4].i, i)
      assert.equal((await sender.nextJson())[4].i, i)
    }
    member.ws._socket.resume()
    for (const [i, pad] of pads.entries()) {
      const [, , , event, big] = await member.nextJson()
      assert.deepEqual([event, big.i], ['shout', i])
      assert.ok(big.pad === pad, `broadcast ${i} came back altered (${big.pad.length} bytes)`)
      assert.deepEqual(await member.nextJson(), [null, null, topic, 'shout', { i }])
    }
  })
})

// The slow-consumer scenario: a sender shouts COUNT frames of about 1 KB, a normal phoenix.js
// member must receive all of them in order, a raw member that stopped reading falls behind.
const COUNT = 20_000
const BATCH = 20
const PAD = 'x'.repeat(1_000)

async function slowConsumerScenario(server) {
  const topic = uniqueTopic()
  const normalSocket = await connectPhx(server)
  const normal = new EventLog(await joinOk(normalSocket, topic, { user: 'normal' }), 'shout')

  const slow = await RawClient.connect(server.wsUrl())
  slow.send(v2('1', '1', topic, 'phx_join', { user: 'slow' }))
  assert.deepEqual(await slow.nextJson(), okReply('1', '1', topic, { joined: topic }))
  slow.ws._socket.pause()

  const sender = await RawClient.connect(server.wsUrl())
  sender.send(v2('1', '1', topic, 'phx_join', { user: 'sender' }))
  assert.deepEqual(await sender.nextJson(), okReply('1', '1', topic, { joined: topic }))

  // Batches paced by the normal member, so that it is never the one falling behind.
  for (let seq = 0; seq < COUNT; seq += BATCH) {
    for (let i = seq; i < seq + BATCH; i++) sender.send(v2('1', String(i + 2), topic, 'shout', { seq: i, pad: PAD }))
    await normal.waitFor(seq + BATCH, 5_000)
    sender.inbox.length = 0
  }
  const seqs = normal.payloads.map((p) => p.seq)
  assert.equal(seqs.length, COUNT, 'the normal member lost or duplicated broadcasts')
  assert.ok(seqs.every((s, i) => s === i), 'the normal member got broadcasts out of order')
  assert.deepEqual(normalSocket.closeCodes, [])
  return { slow, topic }
}

// Reads everything the slow client can still get until it is closed or quiet for quietMs.
async function drain(slow, quietMs) {
  slow.ws._socket.resume()
  const seqs = []
  for (;;) {
    let frame
    try {
      frame = await slow.next(quietMs)
    } catch {
      return seqs
    }
    if (frame.binary) continue
    const [, , , event, payload] = JSON.parse(frame.text)
    if (event === 'shout') seqs.push(payload.seq)
  }
}

describe('slow consumer: disconnect', () => {
  let server
  before(async () => {
    server = await startServer(['--outbound-queue-limit', '50', '--slow-consumer', 'disconnect'])
  })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a member that stops reading is disconnected; the others get everything in order', { timeout: 60_000 }, async (t) => {
    const { slow } = await slowConsumerScenario(server)
    const seqs = await drain(slow, 2_000)
    const closed = await within(slow.closed, 5_000, 'the slow consumer to be closed')
    t.diagnostic(`the slow consumer got ${seqs.length} of ${COUNT} broadcasts, then close code ${closed.code}`)
    assert.ok([1013, 1006].includes(closed.code), `close code ${closed.code}`)
    assert.ok(seqs.length < COUNT, 'the slow consumer got every broadcast')
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'what the slow consumer got is out of order')
  })
})

describe('slow consumer: drop', () => {
  let server
  before(async () => {
    server = await startServer(['--outbound-queue-limit', '50', '--slow-consumer', 'drop'])
  })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a member that stops reading loses broadcasts but stays connected', { timeout: 60_000 }, async (t) => {
    const { slow, topic } = await slowConsumerScenario(server)
    const seqs = await drain(slow, 1_000)
    t.diagnostic(`the slow consumer got ${seqs.length} of ${COUNT} broadcasts`)
    assert.equal(slow.isOpen, true, `closed with ${slow.closeInfo?.code}`)
    assert.ok(seqs.length > 0, 'the slow consumer got nothing')
    assert.ok(seqs.length < COUNT, 'the slow consumer got every broadcast')
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'what the slow consumer got is out of order')
    // Once it reads again it is served normally.
    slow.send(v2('1', 'after', topic, 'ping', { back: true }))
    assert.deepEqual(await slow.nextJson(), okReply('1', 'after', topic, { back: true }))
    slow.send(v2('1', 'after-2', topic, 'shout', { seq: COUNT }))
    assert.deepEqual(await slow.nextJson(), [null, null, topic, 'shout', { seq: COUNT }])
  })
})
