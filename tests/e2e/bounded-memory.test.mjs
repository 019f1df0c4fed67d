// What one client can make the server hold is bounded in bytes (--outbound-buffer-limit,
// --inbound-buffer-limit, the idle timeout for a client that never reads), and a second,
// well-behaved client stays fast meanwhile. Each attack runs for a few seconds against its own
// server; the bound asserted is the growth of the server's resident memory at its peak.
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { startServer, cleanupAll, RawClient, RawLongPoll, uniqueTopic, v2, delay, within } from './harness.mjs'
import { rawWebSocket, maskedFrame, flood, OPCODE } from './raw-socket.mjs'

const MB = 1024 * 1024
// A reply to the probe client taking longer than this means the attack slows others down.
const PROBE_LIMIT_MS = 1_500

function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024
}

// Samples the server's resident memory until stopped; stop() gives the growth at the peak.
function watchMemory(server, everyMs = 25) {
  const pid = server.child.pid
  const start = rssBytes(pid)
  let peak = start
  const timer = setInterval(() => {
    try { peak = Math.max(peak, rssBytes(pid)) } catch {}
  }, everyMs)
  return { stop() { clearInterval(timer); return peak - start } }
}

// A second client that pings its own channel every 100 ms; stop() gives its slowest round trip.
async function startProbe(server) {
  const client = await RawClient.connect(server.wsUrl())
  const topic = uniqueTopic('bench')
  await client.join(topic)
  let slowest = 0
  let running = true
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const started = Date.now()
      client.send(v2('1', `probe-${n}`, topic, 'ping', { n }))
      await client.until(([, ref]) => ref === `probe-${n}`, 10_000)
      slowest = Math.max(slowest, Date.now() - started)
      await delay(100)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      client.close()
      return slowest
    },
  }
}

function textFrame(message) {
  return maskedFrame(OPCODE.text, Buffer.from(JSON.stringify(message)))
}

async function joinRaw(socket, rest, topic) {
  let bytes = rest
  const replied = new Promise((resolve) => {
    const onData = (chunk) => {
      bytes = Buffer.concat([bytes, chunk])
      if (bytes.includes('phx_reply')) {
        socket.off('data', onData)
        resolve()
      }
    }
    socket.on('data', onData)
  })
  socket.write(textFrame(['1', '1', topic, 'phx_join', {}]))
  await within(replied, 3_000, `the join reply of ${topic}`)
}

describe('bounded memory per connection', () => {
  afterEach(cleanupAll)

  it('a ping flood from a client that never reads: only the latest pong waits', { timeout: 60_000 }, async (t) => {
    const server = await startServer()
    const { socket } = await rawWebSocket(server, { paused: true })
    const probe = await startProbe(server)
    const memory = watchMemory(server)
    const ping = maskedFrame(OPCODE.ping, Buffer.alloc(125, 0x70))
    const { written, closed } = await flood(socket, Buffer.concat(Array(512).fill(ping)), 6_000)
    const grew = memory.stop()
    const slowest = await probe.stop()
    socket.destroy()
    t.diagnostic(`sent ${(written / MB).toFixed(0)} MB of pings in 6 s; server memory grew ${(grew / MB).toFixed(1)} MB; slowest probe ${slowest} ms`)
    assert.ok(!closed, 'the server closed a connection that only pings')
    assert.ok(written > 100 * MB, 'the server did not read the pings')
    assert.ok(grew < 32 * MB, `the server grew by ${(grew / MB).toFixed(1)} MB`)
    assert.ok(slowest < PROBE_LIMIT_MS, `the other client waited ${slowest} ms`)
  })

  it('pinging does not keep open a connection that does not read', { timeout: 60_000 }, async (t) => {
    const server = await startServer(['--idle-timeout-ms', '3000'])
    const { socket, rest } = await rawWebSocket(server)
    const topic = uniqueTopic('bench')
    await joinRaw(socket, rest, topic)
    socket.pause()
    // Replies it does not read fill the kernel's buffers, so the server's writes to it stall.
    const pad = 'r'.repeat(MB - 100)
    for (let i = 0; i < 6; i++) socket.write(textFrame(['1', String(i + 2), topic, 'ping', { pad }]))
    const probe = await startProbe(server)
    const memory = watchMemory(server)
    const ping = maskedFrame(OPCODE.ping, Buffer.alloc(125, 0x70))
    const started = Date.now()
    const { written, closed } = await flood(socket, Buffer.concat(Array(512).fill(ping)), 15_000)
    const floodMs = Date.now() - started
    const grew = memory.stop()
    const slowest = await probe.stop()
    socket.destroy()
    t.diagnostic(`sent ${(written / MB).toFixed(0)} MB of pings for ${floodMs} ms until closed; server memory grew ${(grew / MB).toFixed(1)} MB; slowest probe ${slowest} ms`)
    assert.ok(closed, 'pinging kept a connection that never reads open for 15 s')
    assert.ok(grew < 32 * MB, `the server grew by ${(grew / MB).toFixed(1)} MB`)
    assert.ok(slowest < PROBE_LIMIT_MS, `the other client waited ${slowest} ms`)
  })

  it('1 MB messages sent as fast as possible while reading the replies: the server reads no faster than it handles', { timeout: 60_000 }, async (t) => {
    const server = await startServer()
    const { socket, rest } = await rawWebSocket(server)
    const topic = uniqueTopic('bench')
    await joinRaw(socket, rest, topic)
    let received = 0
    socket.on('data', (chunk) => { received += chunk.length })
    const probe = await startProbe(server)
    const memory = watchMemory(server)
    const big = textFrame(['1', '2', topic, 'ping', { pad: 'x'.repeat(MB - 100) }])
    const { written, closed } = await flood(socket, big, 6_000)
    const grew = memory.stop()
    const slowest = await probe.stop()
    socket.destroy()
    t.diagnostic(`sent ${(written / MB).toFixed(0)} MB, read ${(received / MB).toFixed(0)} MB of replies; server memory grew ${(grew / MB).toFixed(1)} MB; slowest probe ${slowest} ms`)
    assert.ok(!closed, 'the sender was disconnected')
    assert.ok(received > 4 * MB, 'the sender got hardly any replies')
    assert.ok(grew < 64 * MB, `the server grew by ${(grew / MB).toFixed(1)} MB`)
    assert.ok(slowest < PROBE_LIMIT_MS, `the other client waited ${slowest} ms`)
  })

  it('a subscriber that never reads large broadcasts holds at most its outbound budget, then is closed', { timeout: 60_000 }, async (t) => {
    const server = await startServer()
    const topic = uniqueTopic('bench')
    const { socket, rest } = await rawWebSocket(server)
    await joinRaw(socket, rest, topic)
    socket.pause()
    const sender = await RawClient.connect(server.wsUrl())
    await sender.join(topic)
    const probe = await startProbe(server)
    const memory = watchMemory(server)
    const pad = 'b'.repeat(256 * 1024)
    for (let i = 0; i < 400; i++) {
      sender.send(v2('1', String(i + 2), topic, 'shout', { i, pad }))
      if (i % 8 === 7) {
        await sender.until(([, , , event, body]) => event === 'shout' && body.i === i, 10_000)
        sender.inbox.length = 0
      }
    }
    const grew = memory.stop()
    const slowest = await probe.stop()
    // It reads again: what it gets ends with the connection closed (1013 when the close frame
    // could still be written).
    const ended = new Promise((resolve) => socket.once('close', resolve))
    socket.on('data', () => {})
    socket.resume()
    await within(ended, 10_000, 'the slow subscriber to be closed')
    t.diagnostic(`100 MB broadcast; server memory grew ${(grew / MB).toFixed(1)} MB; slowest probe ${slowest} ms`)
    assert.ok(grew < 64 * MB, `the server grew by ${(grew / MB).toFixed(1)} MB`)
    assert.ok(slowest < PROBE_LIMIT_MS, `the other client waited ${slowest} ms`)
  })
})

describe('bounded memory per long-poll session', () => {
  afterEach(cleanupAll)

  it('messages waiting for a GET are bounded in bytes: over --outbound-buffer-limit the session ends', async () => {
    const server = await startServer(['--longpoll', '--outbound-buffer-limit', '200000'])
    const topic = uniqueTopic('bench')
    const session = await RawLongPoll.open(server)
    await session.join(topic)
    const sender = await RawClient.connect(server.wsUrl())
    await sender.join(topic)
    // 30 broadcasts of 10 KB, one at a time: far under the 1,024-frame queue limit, over the
    // byte budget of a session that does not poll.
    const pad = 'p'.repeat(10_000)
    for (let i = 0; i < 30; i++) {
      sender.send(v2('1', String(i + 2), topic, 'shout', { i, pad }))
      await sender.until(([, , , event, body]) => event === 'shout' && body.i === i)
    }
    const res = await session.get({ timeoutMs: 3_000 })
    assert.equal(res.json?.status, 410, `the session was kept: ${res.body.slice(0, 100)}`)
  })
})
