// Broadcasts: shout to everyone, shout_others, ordering, topic isolation, join ack before broadcasts.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, EventLog, uniqueTopic, okReply, v2, delay, cast,
} from './harness.mjs'

// n phoenix.js clients joined to topic as user-0 … user-(n-1).
async function members(server, topic, n) {
  const channels = []
  for (let i = 0; i < n; i++) {
    const socket = await connectPhx(server)
    channels.push(await joinOk(socket, topic, topic.startsWith('bench:') ? {} : { user: `user-${i}` }))
  }
  return channels
}

describe('broadcast', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('shout reaches every member, the sender included', async () => {
    const topic = uniqueTopic()
    const channels = await members(server, topic, 3)
    const logs = channels.map((channel) => new EventLog(channel, 'shout'))
    const payload = { msg: 'hello everyone', from: 'user-0', nested: { n: [1, 2] } }
    cast(channels[0], 'shout', payload)
    for (const log of logs) assert.deepEqual(await log.next(), payload)
  })

  it('numbers arrive exactly as sent: doubles with 17 significant digits, large integers', async () => {
    const topic = uniqueTopic()
    const channels = await members(server, topic, 2)
    const log = new EventLog(channels[1], 'shout')
    // Coordinates as a map app would send them; Boost.JSON's own parser changed ~1 in 8 of these.
    let seed = 7
    const random = () => { seed = (seed * 48271) % 2147483647; return seed / 2147483647 }
    const coords = Array.from({ length: 500 }, () => [random() * 360 - 180, random() * 180 - 90])
    const payload = { coords, tiny: 5e-324, big: 1.7976931348623157e308, int: 9007199254740991, sum: 0.1 + 0.2 }
    cast(channels[0], 'shout', payload)
    assert.deepEqual(await log.next(), payload)
  })

  it('the broadcast frame is [null, null, topic, "shout", P]', async () => {
    const topic = uniqueTopic()
    const sender = await RawClient.connect(server.wsUrl())
    const receiver = await RawClient.connect(server.wsUrl())
    for (const [client, user] of [[sender, 's'], [receiver, 'r']]) {
      client.send(v2('1', '1', topic, 'phx_join', { user }))
      assert.deepEqual(await client.nextJson(), okReply('1', '1', topic, { joined: topic }))
    }
    sender.send(v2('1', '2', topic, 'shout', { body: 'frame' }))
    const expected = [null, null, topic, 'shout', { body: 'frame' }]
    assert.deepEqual(await receiver.nextJson(), expected)
    assert.deepEqual(await sender.nextJson(), expected)
  })

  it('shout_others reaches every member but the sender', async () => {
    const topic = uniqueTopic()
    const [sender, ...others] = await members(server, topic, 3)
    const senderOthers = new EventLog(sender, 'shout_others')
    const senderShouts = new EventLog(sender, 'shout')
    const otherLogs = others.map((channel) => new EventLog(channel, 'shout_others'))
    const otherShouts = others.map((channel) => new EventLog(channel, 'shout'))
    cast(sender, 'shout_others', { msg: 'not for me' })
    // A shout afterwards marks the point by which the sender would have had its own shout_others.
    cast(sender, 'shout', { marker: true })
    for (const log of otherLogs) assert.deepEqual(await log.next(), { msg: 'not for me' })
    for (const log of otherShouts) assert.deepEqual(await log.next(), { marker: true })
    assert.deepEqual(await senderShouts.next(), { marker: true })
    assert.deepEqual(senderOthers.payloads, [])
  })

  it('500 shouts arrive complete and in order at every member', async () => {
    const topic = uniqueTopic()
    const channels = await members(server, topic, 3)
    const logs = channels.map((channel) => new EventLog(channel, 'shout'))
    for (let seq = 0; seq < 500; seq++) cast(channels[seq % 2], 'shout', { seq, from: seq % 2 })
    const expectedFrom = (from) => Array.from({ length: 500 }, (_, seq) => seq).filter((seq) => seq % 2 === from)
    for (const log of logs) {
      const payloads = await log.waitFor(500, 10_000)
      assert.equal(payloads.length, 500)
      // Each sender's own shouts keep their order; the two senders interleave freely.
      for (const from of [0, 1]) {
        assert.deepEqual(payloads.filter((p) => p.from === from).map((p) => p.seq), expectedFrom(from))
      }
    }
  })

  it('broadcasts stay within their topic', async () => {
    const topicA = uniqueTopic()
    const topicB = uniqueTopic()
    const [a] = await members(server, topicA, 1)
    const [b] = await members(server, topicB, 1)
    const logB = new EventLog(b, 'shout')
    cast(a, 'shout', { to: 'a' })
    cast(b, 'shout', { to: 'b' })
    assert.deepEqual(await logB.next(), { to: 'b' })
    await delay(200)
    assert.deepEqual(logB.payloads, [{ to: 'b' }])
  })

  it('bench:* shout is broadcast to all members, the sender included', async () => {
    const topic = uniqueTopic('bench')
    const channels = await members(server, topic, 2)
    const logs = channels.map((channel) => new EventLog(channel, 'shout'))
    cast(channels[1], 'shout', { bench: 1 })
    for (const log of logs) assert.deepEqual(await log.next(), { bench: 1 })
  })

  it('the join reply comes before any broadcast, even while the topic is busy', async () => {
    const topic = uniqueTopic()
    const flooder = await RawClient.connect(server.wsUrl())
    flooder.send(v2('1', '1', topic, 'phx_join', { user: 'flooder' }))
    assert.deepEqual(await flooder.nextJson(), okReply('1', '1', topic, { joined: topic }))
    let flooding = true
    const flood = (async () => {
      for (let seq = 0; flooding && seq < 20_000; seq++) {
        flooder.send(v2('1', String(seq + 2), topic, 'shout', { seq }))
        if (seq % 20 === 0) await delay(1)
      }
    })()
    try {
      for (let i = 0; i < 15; i++) {
        const joiner = await RawClient.connect(server.wsUrl())
        joiner.send(v2('1', '1', topic, 'phx_join', { user: `joiner-${i}` }))
        assert.deepEqual(await joiner.nextJson(), okReply('1', '1', topic, { joined: topic }), `joiner ${i}`)
        // Earlier joiners leaving are broadcast as `left`; only broadcasts may follow the reply.
        const frames = await joiner.until(([, , , event]) => event === 'shout')
        for (const [joinRef, ref, t, event] of frames) {
          assert.deepEqual([joinRef, ref, t], [null, null, topic], `joiner ${i} then gets broadcasts only`)
          assert.ok(['shout', 'left'].includes(event), `joiner ${i}: unexpected ${event}`)
        }
        joiner.close()
      }
    } finally {
      flooding = false
      await flood
    }
  })
})
