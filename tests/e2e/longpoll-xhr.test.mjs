// The long-poll transport through phoenix.js's XMLHttpRequest path: ajax.js prefers XHR whenever
// globalThis.XMLHttpRequest exists, so this file (and only this file: node --test runs each file in
// its own process) installs the `xhr2` polyfill for the duration of its tests.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import XHR2 from 'xhr2'
import {
  startServer, cleanupAll, cleanupClients, connectLongPoll, joinOk, pushResult, cast, EventLog,
  observeTopic, uniqueTopic, until, delay, nextClose, LongPoll,
} from './harness.mjs'

let xhrCount = 0
class CountingXHR extends XHR2 {
  constructor() {
    super()
    xhrCount += 1
  }
}

const realFetch = globalThis.fetch
let fetchCalls = 0

describe('long-poll with phoenix.js (XMLHttpRequest)', () => {
  let server
  before(async () => {
    assert.equal(typeof globalThis.XMLHttpRequest, 'undefined')
    globalThis.XMLHttpRequest = CountingXHR
    globalThis.fetch = (...args) => {
      fetchCalls += 1
      return realFetch(...args)
    }
    server = await startServer(['--longpoll'])
  })
  afterEach(cleanupClients)
  after(async () => {
    await cleanupAll()
    delete globalThis.XMLHttpRequest
    globalThis.fetch = realFetch
  })

  it('connects over XHR, joins room:*, answers ping and heartbeat; fetch is not used', async () => {
    const socket = await connectLongPoll(server)
    assert.ok(socket.conn instanceof LongPoll)
    const topic = uniqueTopic()
    const channel = await joinOk(socket, topic, { user: 'xhr' })
    assert.deepEqual(channel.joinResponse, { joined: topic })
    const payload = { text: 'héllo 🌍 "q" \\ \n', list: [1, null, { a: [] }] }
    assert.deepEqual(await pushResult(channel, 'ping', payload), { status: 'ok', response: payload })
    const rtt = await new Promise((resolve) => socket.ping(resolve))
    assert.ok(rtt >= 0 && rtt < 3_000, `heartbeat round trip ${rtt} ms`)
    assert.ok(xhrCount >= 3, `phoenix.js used XMLHttpRequest (${xhrCount} requests)`)
    assert.equal(fetchCalls, 0, 'phoenix.js did not use fetch')
    assert.deepEqual(socket.closeCodes, [])
  })

  it('shout reaches the sender, another XHR long-poll client and a WebSocket client', async () => {
    const topic = uniqueTopic()
    const a = await joinOk(await connectLongPoll(server), topic, { user: 'xhr-a' })
    const b = await joinOk(await connectLongPoll(server), topic, { user: 'xhr-b' })
    const ws = await observeTopic(server, topic, 'ws-c')
    const logs = [new EventLog(a, 'shout'), new EventLog(b, 'shout'), ws.shouts]
    cast(a, 'shout', { from: 'xhr-a' })
    for (const log of logs) assert.deepEqual(await log.next(), { from: 'xhr-a' })
    cast(ws.channel, 'shout', { from: 'ws-c' })
    for (const log of logs) assert.deepEqual(await log.next(), { from: 'ws-c' })
  })

  it('50 back-to-back shouts arrive exactly in order at an XHR long-poll and a WebSocket receiver', async () => {
    const topic = uniqueTopic()
    const sender = await joinOk(await connectLongPoll(server), topic, { user: 'xhr-sender' })
    const receivers = [
      new EventLog(await joinOk(await connectLongPoll(server), topic, { user: 'xhr-receiver' }), 'shout'),
      (await observeTopic(server, topic, 'ws-receiver')).shouts,
    ]
    for (let seq = 0; seq < 50; seq++) cast(sender, 'shout', { seq })
    for (const log of receivers) await log.waitFor(50, 5_000)
    await delay(200)
    for (const log of receivers) assert.deepEqual(log.payloads.map((p) => p.seq), Array.from({ length: 50 }, (_, i) => i))
  })

  it('crash: phx_error and an automatic rejoin', async () => {
    const topic = uniqueTopic()
    const obs = await observeTopic(server, topic)
    const socket = await connectLongPoll(server, { rejoinAfterMs: () => 100 })
    const channel = socket.channel(topic, { user: 'xhr-crasher' })
    let joins = 0
    const errors = []
    channel.onError((reason) => errors.push(reason))
    channel.join().receive('ok', () => { joins += 1 })
    await until(() => joins === 1, 3_000, 'the first join')
    cast(channel, 'crash', {})
    await until(() => errors.length === 1, 3_000, 'phx_error')
    assert.deepEqual(errors[0], { reason: 'channel_crash' })
    assert.deepEqual(await obs.left.next(), { user: 'xhr-crasher', reason: 'crashed' })
    await until(() => joins === 2, 3_000, 'the automatic rejoin')
    assert.deepEqual(await pushResult(channel, 'ping', { after: 'rejoin' }), { status: 'ok', response: { after: 'rejoin' } })
    assert.deepEqual(socket.closeCodes, [])
  })

  it('kick ends the session: close 3410, reconnect and rejoin over XHR', async () => {
    const userId = `xhr-kick-${process.pid}`
    const topic = uniqueTopic()
    const obs = await observeTopic(server, topic)
    const socket = await connectLongPoll(server, { params: { user_id: userId }, rejoinAfterMs: () => 50 })
    const channel = socket.channel(topic, { user: 'xhr-kicked' })
    let joins = 0
    channel.join().receive('ok', () => { joins += 1 })
    await until(() => joins === 1, 3_000, 'the first join')
    const closed = nextClose(socket)
    assert.equal((await pushResult(obs.channel, 'kick', { socket_id: `users_socket:${userId}` })).status, 'ok')
    assert.equal(await closed, 3410)
    await until(() => socket.opens === 2 && joins === 2, 3_000, 'the reconnect and the rejoin')
    assert.deepEqual(await pushResult(channel, 'ping', { back: true }), { status: 'ok', response: { back: true } })
  })
})
