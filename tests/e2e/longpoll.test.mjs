// The long-poll transport through phoenix.js's LongPoll class, over its fetch path (Node 20 has
// fetch and no XMLHttpRequest): channels, broadcasts to WebSocket members, crashes, the ordering
// of back-to-back pushes (the Phoenix leave/join race), refusals, session loss and fallback.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import {
  startServer, cleanupAll, cleanupClients, connectLongPoll, longPollSocket, phxSocket,
  nextOpen, nextClose, joinOk, joinResult, pushResult, cast, EventLog, observeTopic, uniqueTopic,
  until, delay, LongPoll, freezePolling,
} from './harness.mjs'

const SHORT_WINDOW_MS = 400
const seqs = (payloads) => payloads.map((p) => p.seq)
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i)

// A phoenix.js channel that counts its successful joins and records its errors.
function trackedChannel(socket, topic, payload) {
  const channel = socket.channel(topic, payload)
  channel.joins = 0
  channel.errors = []
  channel.onError((reason) => channel.errors.push(reason))
  channel.join().receive('ok', () => { channel.joins += 1 })
  return channel
}

// Every fetch phoenix.js makes goes through here, to prove the fetch path is the one tested.
const realFetch = globalThis.fetch
let fetchCalls = 0

describe('long-poll with phoenix.js (fetch)', () => {
  let server
  before(async () => {
    assert.equal(typeof globalThis.XMLHttpRequest, 'undefined', 'this file tests the fetch path')
    globalThis.fetch = (...args) => {
      fetchCalls += 1
      return realFetch(...args)
    }
    server = await startServer(['--longpoll'])
  })
  afterEach(cleanupClients)
  after(async () => {
    globalThis.fetch = realFetch
    await cleanupAll()
  })

  describe('channels', () => {
    it('connects over fetch, joins room:*, answers ping and heartbeat', async () => {
      const callsBefore = fetchCalls
      const socket = await connectLongPoll(server)
      assert.ok(socket.conn instanceof LongPoll, 'the transport is LongPoll')
      const topic = uniqueTopic()
      const channel = await joinOk(socket, topic, { user: 'lp' })
      assert.deepEqual(channel.joinResponse, { joined: topic })
      const payload = { text: 'héllo 🌍 "quoted" \\ back\nline', n: 1.5, list: [1, null, true, { a: [] }], empty: {} }
      assert.deepEqual(await pushResult(channel, 'ping', payload), { status: 'ok', response: payload })
      const rtt = await new Promise((resolve) => socket.ping(resolve))
      assert.ok(rtt >= 0 && rtt < 3_000, `heartbeat round trip ${rtt} ms`)
      assert.ok(fetchCalls - callsBefore >= 3, `phoenix.js used fetch (${fetchCalls - callsBefore} requests)`)
      assert.deepEqual(socket.closeCodes, [])
    })

    it('shout reaches the sender, another long-poll client and a WebSocket client', async () => {
      const topic = uniqueTopic()
      const a = await joinOk(await connectLongPoll(server), topic, { user: 'lp-a' })
      const b = await joinOk(await connectLongPoll(server), topic, { user: 'lp-b' })
      const ws = await observeTopic(server, topic, 'ws-c')
      const logs = [new EventLog(a, 'shout'), new EventLog(b, 'shout'), ws.shouts]
      cast(a, 'shout', { from: 'lp-a', body: 'to everyone' })
      for (const log of logs) assert.deepEqual(await log.next(), { from: 'lp-a', body: 'to everyone' })
      // And the other way: a WebSocket member's shout reaches both long-poll members.
      cast(ws.channel, 'shout', { from: 'ws-c' })
      for (const log of logs) assert.deepEqual(await log.next(), { from: 'ws-c' })
    })

    it('shout_others reaches everyone but the long-poll sender', async () => {
      const topic = uniqueTopic()
      const sender = await joinOk(await connectLongPoll(server), topic, { user: 'lp-sender' })
      const senderOthers = new EventLog(sender, 'shout_others')
      const senderShouts = new EventLog(sender, 'shout')
      const ws = await observeTopic(server, topic, 'ws')
      const wsOthers = new EventLog(ws.channel, 'shout_others')
      cast(sender, 'shout_others', { not: 'for me' })
      cast(sender, 'shout', { marker: true })
      assert.deepEqual(await wsOthers.next(), { not: 'for me' })
      assert.deepEqual(await senderShouts.next(), { marker: true })
      assert.deepEqual(senderOthers.payloads, [])
    })

    it('a binary shout from phoenix.js over long-poll (a base64 line) reaches WebSocket members as an ArrayBuffer', async () => {
      const topic = uniqueTopic()
      const sender = await joinOk(await connectLongPoll(server), topic, { user: 'lp-bin' })
      const lpMember = new EventLog(await joinOk(await connectLongPoll(server), topic, { user: 'lp-member' }), 'shout')
      const ws = await observeTopic(server, topic, 'ws-bin')
      cast(sender, 'shout', new Uint8Array([0, 1, 254, 255]).buffer)
      cast(sender, 'shout', { after: 'binary' })
      const binary = await ws.shouts.next()
      assert.ok(binary instanceof ArrayBuffer, `payload is ${binary?.constructor?.name}`)
      assert.deepEqual(Buffer.from(new Uint8Array(binary)), Buffer.from([0, 1, 254, 255]))
      assert.deepEqual(await ws.shouts.next(), { after: 'binary' })
      // Binary frames cannot travel over long-poll: the long-poll member only gets the JSON one.
      assert.deepEqual(await lpMember.next(), { after: 'binary' })
    })

    it('crash: phx_error, an automatic rejoin, and the socket stays up', async () => {
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const socket = await connectLongPoll(server, { rejoinAfterMs: () => 100 })
      const steady = await joinOk(socket, uniqueTopic(), { user: 'steady' })
      const channel = trackedChannel(socket, topic, { user: 'lp-crasher' })
      await until(() => channel.joins === 1, 3_000, 'the first join')

      cast(channel, 'crash', {})
      await until(() => channel.errors.length === 1, 3_000, 'phx_error')
      assert.deepEqual(channel.errors[0], { reason: 'channel_crash' })
      assert.deepEqual(await obs.left.next(), { user: 'lp-crasher', reason: 'crashed' })
      await until(() => channel.joins === 2, 3_000, 'the automatic rejoin')
      assert.deepEqual(await pushResult(channel, 'ping', { after: 'rejoin' }), { status: 'ok', response: { after: 'rejoin' } })
      assert.deepEqual(await pushResult(steady, 'ping', { steady: true }), { status: 'ok', response: { steady: true } })
      assert.deepEqual(socket.closeCodes, [])
      assert.equal(socket.opens, 1)
    })

    it('leave() gets ok, the others see "left", and the topic can be joined again', async () => {
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const socket = await connectLongPoll(server)
      const channel = await joinOk(socket, topic, { user: 'lp-leaver' })
      const left = await new Promise((resolve) => channel.leave().receive('ok', resolve).receive('timeout', () => resolve('timeout')))
      assert.deepEqual(left, {})
      assert.deepEqual(await obs.left.next(), { user: 'lp-leaver', reason: 'left' })
      const again = await joinOk(socket, topic, { user: 'lp-leaver' })
      assert.deepEqual(await pushResult(again, 'ping', { again: 1 }), { status: 'ok', response: { again: 1 } })
    })

    it('an app `token` param does not hide the session token (the last `token` wins)', async () => {
      const socket = await connectLongPoll(server, { params: { token: 'app-secret' } })
      const channel = await joinOk(socket, uniqueTopic(), { user: 'app-token' })
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await pushResult(channel, 'ping', { i }), { status: 'ok', response: { i } })
      }
      // Had the server read the app's token, every GET would have opened a new session (3410 loop).
      assert.deepEqual(socket.closeCodes, [])
      assert.equal(socket.opens, 1)
    })
  })

  describe('ordering', () => {
    async function senderAndReceivers(topic) {
      const sender = await joinOk(await connectLongPoll(server), topic, { user: 'lp-sender' })
      const lpReceiver = new EventLog(await joinOk(await connectLongPoll(server), topic, { user: 'lp-receiver' }), 'shout')
      const wsReceiver = (await observeTopic(server, topic, 'ws-receiver')).shouts
      return { sender, receivers: [lpReceiver, wsReceiver] }
    }

    it('50 back-to-back shouts from a long-poll client arrive exactly in order at a long-poll and a WebSocket receiver', async () => {
      const topic = uniqueTopic()
      const { sender, receivers } = await senderAndReceivers(topic)
      for (let seq = 0; seq < 50; seq++) cast(sender, 'shout', { seq })
      for (const log of receivers) await log.waitFor(50, 5_000)
      await delay(200)
      for (const log of receivers) assert.deepEqual(seqs(log.payloads), range(0, 50))
    })

    it('shouts spread over many batches (while a POST awaits its ack) keep their order too', async () => {
      const topic = uniqueTopic()
      const { sender, receivers } = await senderAndReceivers(topic)
      for (let seq = 0; seq < 300; seq++) {
        cast(sender, 'shout', { seq })
        if (seq % 7 === 6) await delay(0)
      }
      for (const log of receivers) await log.waitFor(300, 10_000)
      await delay(200)
      for (const log of receivers) assert.deepEqual(seqs(log.payloads), range(0, 300))
    })

    it('leave + join of the same topic back to back, 200 times: the channel is never broken', async () => {
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const socket = await connectLongPoll(server)
      const lp = socket.conn
      // Which batches carried a leave and then a join of the topic, to prove the race was exercised.
      const batches = []
      const batchSend = lp.batchSend
      lp.batchSend = function (messages, offset = 0) {
        batches.push(messages.slice(offset, offset + 100).map((line) => JSON.parse(line)))
        return batchSend.call(this, messages, offset)
      }
      let channel = await joinOk(socket, topic, { user: 'cycler' })
      const violations = []
      socket.onMessage(({ event, join_ref: joinRef, payload }) => {
        if ((event === 'phx_close' || event === 'phx_error') && joinRef === channel.joinRef()) {
          violations.push({ event, joinRef, payload, state: channel.state })
        }
      })
      const errors = []
      for (let cycle = 0; cycle < 200; cycle++) {
        channel.leave()
        channel = socket.channel(topic, { user: 'cycler' })
        channel.onError((reason) => errors.push({ cycle, reason }))
        const joined = await joinResult(channel)
        assert.equal(joined.status, 'ok', `cycle ${cycle}: join ${JSON.stringify(joined)}`)
        assert.deepEqual(await pushResult(channel, 'ping', { cycle }), { status: 'ok', response: { cycle } }, `cycle ${cycle}: ping`)
        assert.equal(channel.state, 'joined', `cycle ${cycle}`)
      }
      await delay(300)
      assert.deepEqual(await pushResult(channel, 'ping', { final: true }), { status: 'ok', response: { final: true } })
      assert.equal(channel.state, 'joined')
      assert.deepEqual(violations, [])
      assert.deepEqual(errors, [])
      assert.deepEqual(socket.closeCodes, [])
      assert.equal(socket.opens, 1)
      // The server saw every leave before the join that followed it: 200 plain leaves, no duplicate joins.
      const left = await obs.left.waitFor(200, 5_000)
      await delay(200)
      assert.equal(left.length, 200)
      assert.deepEqual(left.filter((p) => p.reason !== 'left' || p.user !== 'cycler'), [])
      const leaveThenJoin = batches.filter((batch) => {
        const leave = batch.findIndex((m) => m[2] === topic && m[3] === 'phx_leave')
        return leave >= 0 && batch.slice(leave).some((m) => m[2] === topic && m[3] === 'phx_join')
      })
      assert.equal(leaveThenJoin.length, 200, 'every leave and its join travelled in one POST')
    })
  })

  describe('refusals', () => {
    for (const [what, options] of [['token=bad', { params: { token: 'bad' } }], ['authToken "bad" (X-Phoenix-AuthToken)', { authToken: 'bad' }]]) {
      it(`${what}: onError(403), then close 1008`, async () => {
        const socket = longPollSocket(server, options)
        const errors = []
        socket.onError((error) => errors.push(error))
        const closed = nextClose(socket)
        socket.connect()
        assert.equal(await closed, 1008)
        assert.deepEqual(errors.slice(0, 1), [403])
        assert.equal(socket.opens, 0)
        socket.disconnect()
      })
    }

    it('a good authToken connects', async () => {
      const socket = await connectLongPoll(server, { authToken: 'good' })
      const channel = await joinOk(socket, uniqueTopic(), { user: 'authed' })
      assert.deepEqual(await pushResult(channel, 'ping', { ok: 1 }), { status: 'ok', response: { ok: 1 } })
    })
  })

  describe('session loss', () => {
    it('kick by socket id ends the session: phoenix.js closes with 3410 (session_gone), reconnects and rejoins', async () => {
      const userId = `lp-kick-${process.pid}`
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const socket = await connectLongPoll(server, { params: { user_id: userId }, rejoinAfterMs: () => 50 })
      const channel = trackedChannel(socket, topic, { user: 'lp-kicked' })
      await until(() => channel.joins === 1, 3_000, 'the first join')
      const closed = nextClose(socket)
      assert.equal((await pushResult(obs.channel, 'kick', { socket_id: `users_socket:${userId}` })).status, 'ok')
      assert.equal(await closed, 3410)
      assert.deepEqual(await obs.left.next(), { user: 'lp-kicked', reason: 'disconnected' })
      await until(() => socket.opens === 2 && channel.joins === 2, 3_000, 'the reconnect and the rejoin')
      assert.deepEqual(await pushResult(channel, 'ping', { back: true }), { status: 'ok', response: { back: true } })
      assert.deepEqual(socket.closeCodes, [3410])
    })
  })

  describe('fallback from WebSocket', () => {
    it('stays on WebSocket when the WebSocket works', async () => {
      const socket = phxSocket(server, { longPollFallbackMs: 500 })
      const opened = nextOpen(socket)
      socket.connect()
      await opened
      await delay(800)
      assert.ok(socket.conn instanceof WebSocket, `transport is ${socket.conn?.constructor?.name}`)
      assert.deepEqual(socket.closeCodes, [])
    })
  })
})

describe('long-poll fallback when WebSocket is refused', () => {
  let server
  // The WebSocket lives elsewhere, so phoenix.js's /socket/websocket gets 404; /socket/longpoll works.
  before(async () => { server = await startServer(['--longpoll', '--socket-path', '/elsewhere/websocket']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  // A phoenix.js socket (WebSocket first) with longPollFallbackMs, recording its transport logs.
  async function fallbackSocket(options = {}) {
    const logs = []
    const socket = phxSocket(server, { longPollFallbackMs: 500, logger: (kind, msg, data) => logs.push({ kind, msg, data }), ...options })
    socket.transportLogs = logs
    const opened = nextOpen(socket, 4_000)
    socket.connect()
    await opened
    return socket
  }

  const fallbacks = (socket) => socket.transportLogs.filter((l) => l.kind === 'transport' && l.msg.startsWith('falling back to LongPoll'))

  it('falls back to LongPoll, joins, and exchanges messages with WebSocket clients', async () => {
    const socket = await fallbackSocket()
    assert.equal(socket.transport, LongPoll)
    assert.ok(socket.conn instanceof LongPoll)
    assert.equal(fallbacks(socket).length, 1)
    const topic = uniqueTopic()
    const channel = await joinOk(socket, topic, { user: 'fell-back' })
    const shouts = new EventLog(channel, 'shout')
    const peer = await observeTopic(server, topic, 'ws-peer', { mount: '/elsewhere' })
    assert.deepEqual(await pushResult(channel, 'ping', { via: 'longpoll' }), { status: 'ok', response: { via: 'longpoll' } })
    cast(channel, 'shout', { from: 'longpoll' })
    assert.deepEqual(await peer.shouts.next(), { from: 'longpoll' })
    cast(peer.channel, 'shout', { from: 'websocket' })
    assert.deepEqual(await shouts.next(), { from: 'longpoll' })
    assert.deepEqual(await shouts.next(), { from: 'websocket' })
  })

  it('without sessionStorage nothing is memorized; with a store the next socket goes straight to LongPoll', async () => {
    assert.equal(typeof globalThis.sessionStorage, 'undefined', 'Node 20 has no sessionStorage')
    const plain = await fallbackSocket()
    assert.notEqual(fallbacks(plain)[0].data, 'memorized')

    const items = new Map()
    const store = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, String(value)) }
    const first = await fallbackSocket({ sessionStorage: store })
    assert.notEqual(fallbacks(first)[0].data, 'memorized')
    assert.equal(items.get('phx:fallback:LongPoll'), 'true')

    const second = await fallbackSocket({ sessionStorage: store })
    assert.equal(fallbacks(second)[0].data, 'memorized')
    assert.ok(second.conn instanceof LongPoll)
    const channel = await joinOk(second, uniqueTopic(), { user: 'memorized' })
    assert.deepEqual(await pushResult(channel, 'ping', { m: 1 }), { status: 'ok', response: { m: 1 } })
  })
})

describe('long-poll with a short window', () => {
  let server
  before(async () => { server = await startServer(['--longpoll', '--longpoll-window-ms', String(SHORT_WINDOW_MS)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('an idle phoenix.js client stays connected across empty windows (204s)', async () => {
    // phoenix.js gives up on a GET after longpollerTimeout: only 204s at the window keep it open.
    const socket = await connectLongPoll(server, { longpollerTimeout: 2_500 })
    const channel = await joinOk(socket, uniqueTopic(), { user: 'idle' })
    await delay(4_000)
    assert.deepEqual(socket.closeCodes, [])
    assert.equal(socket.opens, 1)
    assert.deepEqual(await pushResult(channel, 'ping', { still: 'here' }), { status: 'ok', response: { still: 'here' } })
  })

  it('a session that expired while phoenix.js was not polling: 410, close 3410, reconnect and rejoin', async () => {
    const topic = uniqueTopic()
    const obs = await observeTopic(server, topic)
    const socket = await connectLongPoll(server, { rejoinAfterMs: () => 50 })
    const channel = trackedChannel(socket, topic, { user: 'sleepy' })
    await until(() => channel.joins === 1, 3_000, 'the first join')
    assert.deepEqual(await pushResult(channel, 'ping', { last: 'before sleep' }), { status: 'ok', response: { last: 'before sleep' } })
    // Freeze polling, as a sleeping device would: the GET in flight ends at the window, and no GET
    // follows. (Frozen before the ping, its reply could miss the last GET: a window that ended just
    // as it was sent left it for a poll that never came.)
    const thaw = freezePolling(socket)
    // No GET for 1.5 windows: the server ends the session and its channel.
    const left = await obs.left.next(SHORT_WINDOW_MS * 8).catch((err) => {
      assert.fail(`no GET for ${SHORT_WINDOW_MS * 8} ms (1.5 windows is ${SHORT_WINDOW_MS * 1.5} ms), yet the session did not end: ${err.message}`)
    })
    assert.deepEqual(left, { user: 'sleepy', reason: 'closed' })
    const closed = nextClose(socket)
    thaw()
    assert.equal(await closed, 3410)
    await until(() => socket.opens === 2 && channel.joins === 2, 3_000, 'the reconnect and the rejoin')
    assert.deepEqual(await pushResult(channel, 'ping', { after: 'wake' }), { status: 'ok', response: { after: 'wake' } })
  })
})
