// Join/leave semantics (docs/protocol.md §4) with exact V2 frames, plus the demo room behaviour via phoenix.js.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, joinResult, pushResult,
  EventLog, nextClose, uniqueTopic, okReply, errorReply, v2, until, cast,
} from './harness.mjs'

const UNMATCHED = { reason: 'unmatched topic' }

// A raw V2 client that joined `topic` with join_ref `joinRef`.
async function rawJoined(server, topic, user, joinRef = '1') {
  const client = await RawClient.connect(server.wsUrl())
  client.send(v2(joinRef, joinRef, topic, 'phx_join', { user }))
  assert.deepEqual(await client.nextJson(), okReply(joinRef, joinRef, topic, { joined: topic }))
  return client
}

// A phoenix.js client in `topic` that records the room's "left" broadcasts.
async function observer(server, topic) {
  const socket = await connectPhx(server)
  const channel = await joinOk(socket, topic, { user: 'observer' })
  return { socket, channel, left: new EventLog(channel, 'left') }
}

describe('channels', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  describe('join', () => {
    it('phoenix.js joins room:* and gets {joined: topic}', async () => {
      const socket = await connectPhx(server)
      const topic = uniqueTopic()
      const channel = await joinOk(socket, topic, { user: 'alice' })
      assert.deepEqual(channel.joinResponse, { joined: topic })
    })

    it('a raw join gets [J, J, topic, "phx_reply", ok] with the join refs echoed', async () => {
      const client = await RawClient.connect(server.wsUrl())
      client.send(v2('7', '7', 'room:raw', 'phx_join', { user: 'r' }))
      assert.deepEqual(await client.nextJson(), okReply('7', '7', 'room:raw', { joined: 'room:raw' }))
    })

    it('room:forbidden is refused with {reason: "unauthorized"} and the join refs', async () => {
      const socket = await connectPhx(server)
      const channel = socket.channel('room:forbidden', { user: 'mallory' })
      assert.deepEqual(await joinResult(channel), { status: 'error', response: { reason: 'unauthorized' } })
      channel.leave()

      const client = await RawClient.connect(server.wsUrl())
      client.send(v2('3', '3', 'room:forbidden', 'phx_join', { user: 'mallory' }))
      assert.deepEqual(await client.nextJson(), errorReply('3', '3', 'room:forbidden', { reason: 'unauthorized' }))
      // Nothing was registered: an event on the topic is unmatched.
      client.send(v2('3', '4', 'room:forbidden', 'ping', {}))
      assert.deepEqual(await client.nextJson(), errorReply(null, '4', 'room:forbidden', UNMATCHED))
    })

    it('an unrouted topic is refused with "unmatched topic" and join_ref null', async () => {
      const client = await RawClient.connect(server.wsUrl())
      client.send(v2('1', '1', 'nope:1', 'phx_join', {}))
      assert.deepEqual(await client.nextJson(), errorReply(null, '1', 'nope:1', UNMATCHED))

      const socket = await connectPhx(server)
      const channel = socket.channel('nope:2', {})
      assert.deepEqual(await joinResult(channel), { status: 'error', response: UNMATCHED })
      channel.leave()
    })

    it('bench:* accepts any join payload with {}', async () => {
      const client = await RawClient.connect(server.wsUrl())
      client.send(v2('1', '1', 'bench:a', 'phx_join', {}))
      assert.deepEqual(await client.nextJson(), okReply('1', '1', 'bench:a', {}))
      client.send(v2('2', '2', 'bench:b', 'phx_join', { anything: [1, 2, 3], nested: { x: null } }))
      assert.deepEqual(await client.nextJson(), okReply('2', '2', 'bench:b', {}))
    })
  })

  describe('events', () => {
    it('ping is answered with the same payload (phoenix.js)', async () => {
      const socket = await connectPhx(server)
      const channel = await joinOk(socket, uniqueTopic(), { user: 'p' })
      const payload = { text: 'héllo 🌍 "quoted" \\ back', n: 1.5, big: 9007199254740991, list: [1, null, true, { a: [] }], empty: {} }
      assert.deepEqual(await pushResult(channel, 'ping', payload), { status: 'ok', response: payload })
    })

    it('ping reply frame is [J, R, topic, "phx_reply", {status: "ok", response: P}]', async () => {
      const topic = uniqueTopic()
      const client = await rawJoined(server, topic, 'r', '11')
      client.send(v2('11', '12', topic, 'ping', { a: 1 }))
      assert.deepEqual(await client.nextJson(), okReply('11', '12', topic, { a: 1 }))
    })

    it('a message with a null join_ref reaches the channel and the reply carries the join_ref', async () => {
      const topic = uniqueTopic()
      const client = await rawJoined(server, topic, 'r', '1')
      client.send(v2(null, '2', topic, 'ping', { b: 2 }))
      assert.deepEqual(await client.nextJson(), okReply('1', '2', topic, { b: 2 }))
    })

    it('bench:* ping is echoed', async () => {
      const socket = await connectPhx(server)
      const channel = await joinOk(socket, uniqueTopic('bench'))
      assert.deepEqual(await pushResult(channel, 'ping', { seq: 42 }), { status: 'ok', response: { seq: 42 } })
    })

    it('an event on a topic that is not joined gets "unmatched topic" with join_ref null', async () => {
      const client = await RawClient.connect(server.wsUrl())
      client.send(v2(null, '5', 'room:never', 'ping', {}))
      assert.deepEqual(await client.nextJson(), errorReply(null, '5', 'room:never', UNMATCHED))
      client.send(v2('9', '6', 'room:never', 'shout', {}))
      assert.deepEqual(await client.nextJson(), errorReply(null, '6', 'room:never', UNMATCHED))
    })

    it('refs are opaque strings echoed as they are', async () => {
      const topic = uniqueTopic()
      const client = await rawJoined(server, topic, 'r', 'join-ä')
      client.send(v2('join-ä', 'ref with spaces/ü', topic, 'ping', {}))
      assert.deepEqual(await client.nextJson(), okReply('join-ä', 'ref with spaces/ü', topic, {}))
    })
  })

  describe('duplicate join and stale join_ref', () => {
    it('a second join of the same topic: new reply first, then phx_close with the old join_ref', async () => {
      const topic = uniqueTopic()
      const obs = await observer(server, topic)
      const client = await rawJoined(server, topic, 'dup', '1')
      client.send(v2('2', '2', topic, 'phx_join', { user: 'dup' }))
      assert.deepEqual(await client.nextJson(), okReply('2', '2', topic, { joined: topic }))
      assert.deepEqual(await client.nextJson(), ['1', '1', topic, 'phx_close', {}])
      // The new join session is live.
      client.send(v2('2', '3', topic, 'ping', { alive: true }))
      assert.deepEqual(await client.nextJson(), okReply('2', '3', topic, { alive: true }))
      assert.deepEqual(await obs.left.next(), { user: 'dup', reason: 'duplicate_join' })
    })

    it('a message with a stale join_ref is dropped without a reply', async () => {
      const topic = uniqueTopic()
      const obs = await observer(server, topic)
      const shouts = new EventLog(obs.channel, 'shout')
      const client = await rawJoined(server, topic, 'stale', '1')
      client.send(v2('2', '2', topic, 'phx_join', { user: 'stale' }))
      assert.deepEqual(await client.nextJson(), okReply('2', '2', topic, { joined: topic }))
      assert.deepEqual(await client.nextJson(), ['1', '1', topic, 'phx_close', {}])

      client.send(v2('1', '3', topic, 'ping', { stale: true }))
      client.send(v2('1', '4', topic, 'shout', { stale: true }))
      client.send(v2('1', '5', topic, 'phx_leave', {}))
      client.send(v2('2', '6', topic, 'ping', { current: true }))
      // Inbound messages are handled in order, so the first answer must be the one to ref 6.
      assert.deepEqual(await client.nextJson(), okReply('2', '6', topic, { current: true }))
      // The stale leave did not end the channel, and the stale shout was not broadcast.
      client.send(v2('2', '7', topic, 'shout', { current: true }))
      assert.deepEqual(await client.nextJson(), [null, null, topic, 'shout', { current: true }])
      await shouts.waitFor(1)
      assert.deepEqual(shouts.payloads, [{ current: true }])
    })
  })

  describe('leave', () => {
    it('phx_leave: ok reply {}, then phx_close [J, J, topic, "phx_close", {}]', async () => {
      const topic = uniqueTopic()
      const obs = await observer(server, topic)
      const client = await rawJoined(server, topic, 'leaver', '4')
      client.send(v2('4', '5', topic, 'phx_leave', {}))
      assert.deepEqual(await client.nextJson(), okReply('4', '5', topic, {}))
      assert.deepEqual(await client.nextJson(), ['4', '4', topic, 'phx_close', {}])
      assert.deepEqual(await obs.left.next(), { user: 'leaver', reason: 'left' })
      client.send(v2('4', '6', topic, 'ping', {}))
      assert.deepEqual(await client.nextJson(), errorReply(null, '6', topic, UNMATCHED))
    })

    it('phx_leave for a topic that is not joined gets ok {} echoing its refs', async () => {
      const client = await RawClient.connect(server.wsUrl())
      client.send(v2(null, '1', 'room:not-joined', 'phx_leave', {}))
      assert.deepEqual(await client.nextJson(), okReply(null, '1', 'room:not-joined', {}))
      client.send(v2('77', '2', 'room:not-joined', 'phx_leave', {}))
      assert.deepEqual(await client.nextJson(), okReply('77', '2', 'room:not-joined', {}))
    })

    it('leave and rejoin sent back to back: the new join survives, any phx_close is for the old one', async () => {
      const topic = uniqueTopic()
      const client = await rawJoined(server, topic, 'lj', '1')
      client.send(v2('1', '2', topic, 'phx_leave', {}))
      client.send(v2('3', '3', topic, 'phx_join', { user: 'lj' }))
      client.send(v2('3', '4', topic, 'ping', { after: 'rejoin' }))
      client.send(v2('3', '5', topic, 'ping', { still: 'joined' }))
      const frames = []
      while (!frames.some((f) => f[1] === '5')) frames.push(await client.nextJson())
      // As in Phoenix, the join waits for the old channel to stop, and that channel handles the
      // leave already sent to it first: its reply always comes before the new join's. Its
      // phx_close comes too when it ended before the join arrived (the client discards it).
      const leaveReply = okReply('1', '2', topic, {})
      const newSession = [
        okReply('3', '3', topic, { joined: topic }),
        okReply('3', '4', topic, { after: 'rejoin' }),
        okReply('3', '5', topic, { still: 'joined' }),
      ]
      const oldClose = ['1', '1', topic, 'phx_close', {}]
      const expected = frames.length === 5 ? [leaveReply, oldClose, ...newSession] : [leaveReply, ...newSession]
      assert.deepEqual(frames, expected)
    })

    it('phoenix.js leave() closes the channel and the topic can be joined again', async () => {
      const topic = uniqueTopic()
      const obs = await observer(server, topic)
      const socket = await connectPhx(server)
      const channel = await joinOk(socket, topic, { user: 'bob' })
      const left = await new Promise((resolve) => channel.leave().receive('ok', resolve).receive('timeout', () => resolve('timeout')))
      assert.deepEqual(left, {})
      assert.deepEqual(await obs.left.next(), { user: 'bob', reason: 'left' })
      const again = await joinOk(socket, topic, { user: 'bob' })
      assert.deepEqual(await pushResult(again, 'ping', { again: 1 }), { status: 'ok', response: { again: 1 } })
    })

    it('a member whose socket closes is reported as left with reason "closed"', async () => {
      const topic = uniqueTopic()
      const obs = await observer(server, topic)
      const client = await rawJoined(server, topic, 'goner')
      client.ws.close(1000)
      assert.deepEqual(await obs.left.next(), { user: 'goner', reason: 'closed' })
    })
  })

  describe('crash', () => {
    it('raw: crash gives [J, J, topic, "phx_error", {reason: "channel_crash"}], the socket stays up', async () => {
      const topic = uniqueTopic()
      const other = uniqueTopic()
      const obs = await observer(server, topic)
      const client = await rawJoined(server, topic, 'crasher', '1')
      client.send(v2('2', '2', other, 'phx_join', { user: 'crasher' }))
      assert.deepEqual(await client.nextJson(), okReply('2', '2', other, { joined: other }))

      client.send(v2('1', '3', topic, 'crash', {}))
      assert.deepEqual(await client.nextJson(), ['1', '1', topic, 'phx_error', { reason: 'channel_crash' }])
      assert.deepEqual(await obs.left.next(), { user: 'crasher', reason: 'crashed' })
      // The crashed channel is gone; the other channel and the connection are not.
      client.send(v2('1', '4', topic, 'ping', {}))
      assert.deepEqual(await client.nextJson(), errorReply(null, '4', topic, UNMATCHED))
      client.send(v2('2', '5', other, 'ping', { still: 'here' }))
      assert.deepEqual(await client.nextJson(), okReply('2', '5', other, { still: 'here' }))
      client.send(v2('6', '6', topic, 'phx_join', { user: 'crasher' }))
      assert.deepEqual(await client.nextJson(), okReply('6', '6', topic, { joined: topic }))
      assert.equal(client.isOpen, true)
    })

    it('phoenix.js: the crashed channel errors and rejoins by itself, the rest is untouched', async () => {
      const topic = uniqueTopic()
      const socket = await connectPhx(server)
      const steady = await joinOk(socket, uniqueTopic(), { user: 'steady' })
      const channel = socket.channel(topic, { user: 'phx-crasher' })
      let joins = 0
      const errors = []
      channel.onError((reason) => errors.push(reason))
      channel.join().receive('ok', () => { joins += 1 })
      await until(() => joins === 1, 3_000, 'the first join')

      cast(channel, 'crash', {})
      await until(() => errors.length === 1, 3_000, 'phx_error')
      assert.deepEqual(errors[0], { reason: 'channel_crash' })
      // rejoinAfterMs starts at 1 s.
      await until(() => joins === 2, 4_000, 'the automatic rejoin')
      assert.deepEqual(await pushResult(channel, 'ping', { after: 'rejoin' }), { status: 'ok', response: { after: 'rejoin' } })
      assert.deepEqual(await pushResult(steady, 'ping', { steady: true }), { status: 'ok', response: { steady: true } })
      assert.equal(steady.isJoined(), true)
      assert.deepEqual(socket.closeCodes, [])
      assert.equal(socket.opens, 1)
    })
  })

  describe('kick', () => {
    it('closes every connection of users_socket:42 with 1001 and reports "disconnected"', async () => {
      const topic = uniqueTopic()
      const obs = await observer(server, topic)
      const victimA = await connectPhx(server, { params: { user_id: '42' } })
      const victimB = await connectPhx(server, { params: { user_id: '42' } })
      const bystander = await connectPhx(server, { params: { user_id: '43' } })
      await joinOk(victimA, topic, { user: 'victim-a' })
      await joinOk(victimB, topic, { user: 'victim-b' })
      const bystanderChannel = await joinOk(bystander, topic, { user: 'bystander' })
      const closedA = nextClose(victimA)
      const closedB = nextClose(victimB)

      assert.equal((await pushResult(obs.channel, 'kick', { socket_id: 'users_socket:42' })).status, 'ok')
      assert.equal(await closedA, 1001)
      assert.equal(await closedB, 1001)
      const left = await obs.left.waitFor(2)
      assert.deepEqual(
        [...left].sort((x, y) => x.user.localeCompare(y.user)),
        [{ user: 'victim-a', reason: 'disconnected' }, { user: 'victim-b', reason: 'disconnected' }])
      assert.deepEqual(await pushResult(bystanderChannel, 'ping', { ok: 1 }), { status: 'ok', response: { ok: 1 } })
      assert.deepEqual(bystander.closeCodes, [])
      assert.deepEqual(obs.socket.closeCodes, [])
      // 1001 is not a final close: phoenix.js comes back by itself.
      await until(() => victimA.opens === 2 && victimB.opens === 2, 3_000, 'the kicked sockets to reconnect')
    })

    it('a raw connection with that id sees close code 1001', async () => {
      const victim = await RawClient.connect(server.wsUrl({ user_id: '42', vsn: '2.0.0' }))
      const room = uniqueTopic()
      const kicker = await rawJoined(server, room, 'kicker', '3')
      kicker.send(v2('3', '4', room, 'kick', { socket_id: 'users_socket:42' }))
      const [joinRef, ref, topic, event, payload] = await kicker.nextJson()
      assert.deepEqual([joinRef, ref, topic, event, payload.status], ['3', '4', room, 'phx_reply', 'ok'])
      assert.equal((await victim.waitClose()).code, 1001)
      assert.equal(kicker.isOpen, true)
    })
  })
})
