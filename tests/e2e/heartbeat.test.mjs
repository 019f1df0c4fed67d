// Heartbeats and the idle timeout (a short --idle-timeout-ms keeps these tests fast).
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, joinResult, EventLog, nextClose,
  uniqueTopic, okReply, v2, delay, until, within,
} from './harness.mjs'

const IDLE_MS = 600

// Sends a frame every intervalMs until stopped.
function keepSending(client, intervalMs, frame) {
  let n = 0
  const timer = setInterval(() => client.isOpen && client.send(frame(++n)), intervalMs)
  return () => clearInterval(timer)
}

describe('heartbeat', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('is answered on a socket with no channels: [null, R, "phoenix", "phx_reply", ok {}]', async () => {
    const client = await RawClient.connect(server.wsUrl())
    client.send(v2(null, '1', 'phoenix', 'heartbeat', {}))
    assert.deepEqual(await client.nextJson(), okReply(null, '1', 'phoenix', {}))
    client.send(v2(null, 'hb-2', 'phoenix', 'heartbeat', {}))
    assert.deepEqual(await client.nextJson(), okReply(null, 'hb-2', 'phoenix', {}))
  })

  it('is answered while channels are joined', async () => {
    const topic = uniqueTopic()
    const client = await RawClient.connect(server.wsUrl())
    client.send(v2('1', '1', topic, 'phx_join', { user: 'hb' }))
    assert.deepEqual(await client.nextJson(), okReply('1', '1', topic, { joined: topic }))
    client.send(v2(null, '2', 'phoenix', 'heartbeat', {}))
    assert.deepEqual(await client.nextJson(), okReply(null, '2', 'phoenix', {}))
  })

  it('answers WebSocket ping control frames with pong', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const pong = new Promise((resolve) => client.ws.once('pong', (data) => resolve(data.toString())))
    client.ws.ping('are you there')
    assert.equal(await within(pong, 3_000, 'pong'), 'are you there')
  })

  it('phoenix.js keeps a socket alive on heartbeats alone (socket.ping)', async () => {
    const socket = await connectPhx(server, { heartbeatIntervalMs: 100 })
    await delay(500)
    const rtt = await new Promise((resolve) => socket.ping(resolve))
    assert.ok(rtt < 1_000, `round trip ${rtt} ms`)
    assert.deepEqual(socket.closeCodes, [])
  })
})

describe('idle timeout', () => {
  let server
  before(async () => { server = await startServer(['--idle-timeout-ms', String(IDLE_MS)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a silent socket is closed with 1001 after the idle timeout', async () => {
    const started = Date.now()
    const client = await RawClient.connect(server.wsUrl())
    const { code } = await client.waitClose(IDLE_MS * 5)
    const elapsed = Date.now() - started
    assert.equal(code, 1001)
    assert.ok(elapsed >= IDLE_MS * 0.8, `closed after ${elapsed} ms, before the ${IDLE_MS} ms timeout`)
  })

  it('heartbeats keep a socket open past the timeout; silence then closes it with 1001', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const stop = keepSending(client, IDLE_MS / 4, (n) => v2(null, String(n), 'phoenix', 'heartbeat', {}))
    await delay(IDLE_MS * 3)
    stop()
    assert.equal(client.isOpen, true)
    assert.equal((await client.waitClose(IDLE_MS * 5)).code, 1001)
  })

  it('any inbound frame counts as activity, not only heartbeats', async () => {
    const topic = uniqueTopic()
    const client = await RawClient.connect(server.wsUrl())
    client.send(v2('1', '1', topic, 'phx_join', { user: 'busy' }))
    assert.deepEqual(await client.nextJson(), okReply('1', '1', topic, { joined: topic }))
    const stop = keepSending(client, IDLE_MS / 4, (n) => v2('1', `p${n}`, topic, 'ping', { n }))
    await delay(IDLE_MS * 3)
    stop()
    assert.equal(client.isOpen, true)
  })

  it('receiving broadcasts is not activity: a socket that only listens is closed', async () => {
    const topic = uniqueTopic()
    const listener = await RawClient.connect(server.wsUrl())
    listener.send(v2('1', '1', topic, 'phx_join', { user: 'listener' }))
    assert.deepEqual(await listener.nextJson(), okReply('1', '1', topic, { joined: topic }))
    const talker = await RawClient.connect(server.wsUrl())
    talker.send(v2('1', '1', topic, 'phx_join', { user: 'talker' }))
    assert.deepEqual(await talker.nextJson(), okReply('1', '1', topic, { joined: topic }))
    const stop = keepSending(talker, IDLE_MS / 4, (n) => v2('1', String(n + 1), topic, 'shout', { n }))
    try {
      assert.equal((await listener.waitClose(IDLE_MS * 5)).code, 1001)
      assert.ok(listener.inbox.some((f) => !f.binary && JSON.parse(f.text)[3] === 'shout'), 'the listener got no broadcast')
      assert.equal(talker.isOpen, true)
    } finally {
      stop()
    }
  })

  it('phoenix.js with frequent heartbeats stays connected', async () => {
    const socket = await connectPhx(server, { heartbeatIntervalMs: IDLE_MS / 4 })
    await joinOk(socket, uniqueTopic(), { user: 'steady' })
    await delay(IDLE_MS * 3)
    assert.deepEqual(socket.closeCodes, [])
    assert.equal(socket.isConnected(), true)
  })

  it('phoenix.js without timely heartbeats is closed with 1001, reconnects and rejoins', async () => {
    const topic = uniqueTopic()
    const watcher = await connectPhx(server, { heartbeatIntervalMs: IDLE_MS / 4 })
    const left = new EventLog(await joinOk(watcher, topic, { user: 'watcher' }), 'left')
    const socket = await connectPhx(server, { heartbeatIntervalMs: 30_000 })
    const channel = socket.channel(topic, { user: 'idler' })
    let joins = 0
    channel.join().receive('ok', () => { joins += 1 })
    const closed = nextClose(socket, IDLE_MS * 5)
    assert.equal(await closed, 1001)
    // The server ended the idler's channel because its socket closed.
    assert.deepEqual(await left.next(), { user: 'idler', reason: 'closed' })
    await until(() => socket.opens === 2 && joins === 2, 3_000, 'reconnect and rejoin')
    assert.equal(channel.isJoined(), true)
  })

  it('a closed idle socket does not disturb a busy one', async () => {
    const busy = await connectPhx(server, { heartbeatIntervalMs: IDLE_MS / 4 })
    const topic = uniqueTopic()
    const result = await joinResult(busy.channel(topic, { user: 'busy' }))
    assert.equal(result.status, 'ok')
    const idle = await RawClient.connect(server.wsUrl())
    assert.equal((await idle.waitClose(IDLE_MS * 5)).code, 1001)
    assert.deepEqual(busy.closeCodes, [])
  })
})
