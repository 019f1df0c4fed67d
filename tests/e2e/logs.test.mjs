// What clients can make the server log (issue 11, item 4): client text is escaped and cut to
// 200 bytes, and one connection's repeated warnings are rate-limited, so a client can neither
// flood the log nor forge lines in it.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, joinOk, joinResult, pushResult, within, until,
  delay, errorReply, okReply, uniqueTopic, v2, EventLog, cast, httpRequest,
} from './harness.mjs'

const FLOOD_JOINS = 20_000
const FLOOD_TOPIC_BYTES = 10_000
const FLOOD_CONNECTIONS = 4
const BATCH = 250  // joins in flight per connection: the replies stay far below the outbound queue limit
const FORGED = '[2025-01-01 00:00:00.000] [critical] forged by a client'

// Sends `count` joins of distinct unmatched 10 KB topics on one connection, BATCH at a time, and
// resolves once every one has been answered (the error replies are counted, not parsed).
async function floodUnmatchedJoins(server, count, tag, sockets) {
  const ws = new WebSocket(server.wsUrl())
  sockets.push(ws)
  await within(new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  }), 3_000, 'the flooding connection to open')
  const padding = 'x'.repeat(FLOOD_TOPIC_BYTES)
  let answered = 0
  let wake = null
  ws.on('message', () => {
    answered += 1
    if (wake) wake()
  })
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)))
  for (let sent = 0; sent < count;) {
    const batchEnd = Math.min(count, sent + BATCH)
    for (; sent < batchEnd; sent++) {
      ws.send(JSON.stringify([String(sent), String(sent), `flood:${tag}:${sent}:${padding}`, 'phx_join', {}]))
    }
    await within(Promise.race([
      closed.then((code) => { throw new Error(`the flooding connection was closed (${code})`) }),
      (async () => {
        while (answered < batchEnd) await new Promise((resolve) => { wake = resolve })
      })(),
    ]), 30_000, `replies to ${batchEnd} joins`)
  }
  ws.terminate()
  return answered
}

describe('a flood of warnings', () => {
  let server
  const floodSockets = []
  before(async () => { server = await startServer() })
  afterEach(async (t) => {
    for (const ws of floodSockets.splice(0)) ws.terminate()
    await cleanupClients(t)
  })
  after(cleanupAll)

  it('20,000 joins of 10 KB unmatched topics add a bounded amount of log, and a bystander is served meanwhile', async () => {
    const bystander = await connectPhx(server)
    const channel = await joinOk(bystander, uniqueTopic('bench'))
    const logBefore = server.output.length
    const started = Date.now()

    let flooding = true
    const flood = Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, (_, n) =>
      floodUnmatchedJoins(server, FLOOD_JOINS / FLOOD_CONNECTIONS, n, floodSockets)))
      .finally(() => { flooding = false })
    const roundTrips = []
    while (flooding) {
      const sent = Date.now()
      const reply = await pushResult(channel, 'ping', { n: roundTrips.length }, 5_000)
      assert.equal(reply.status, 'ok', `no reply to a bystander ping within 5 s (${roundTrips.length} answered before)`)
      roundTrips.push(Date.now() - sent)
      await delay(50)
    }
    const answered = (await flood).reduce((a, b) => a + b, 0)
    const elapsed = Date.now() - started
    const logGrowth = server.output.length - logBefore
    const slowest = Math.max(...roundTrips)
    console.log(`ℹ ${answered} unmatched joins in ${elapsed} ms; log grew by ${logGrowth} bytes; ` +
      `bystander: ${roundTrips.length} pings, slowest ${slowest} ms`)

    assert.equal(answered, FLOOD_JOINS)
    assert.ok(logGrowth < 200_000, `the log grew by ${logGrowth} bytes`)
    assert.ok(roundTrips.length > 0)
    assert.ok(slowest < 500, `a bystander ping took ${slowest} ms`)
    // What was written shows the cut topics and how many warnings were held back.
    const written = server.output.slice(logBefore)
    assert.match(written, /join of unmatched topic flood:\d:\d+:x+…\(100\d\d bytes\) from 127\.0\.0\.1:\d+/)
  })

  it('the next line a connection may write says how many were held back', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const join = (n) => {
      client.send(v2(String(n), String(n), `held:${n}`, 'phx_join', {}))
      return client.nextJson()
    }
    for (let n = 1; n <= 10; n++) await join(n)  // 5 written, 5 held back
    await delay(2_100)
    await join(11)
    await until(() => /join of unmatched topic held:11 from .*\(5 similar suppressed\)/.test(server.output), 3_000,
      'the held-back count in the log')
  })
})

describe('a loop of channel crashes', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('1,000 joins that crash at once add a bounded amount of log; the crash counts see them all', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const logBefore = server.output.length
    for (let n = 1; n <= 1_000; n++) {
      const ref = String(n)
      const topic = `room:crash-loop-${n}`
      client.send(v2(ref, ref, topic, 'phx_join', { user: 'looper' }))
      client.send(v2(ref, `${ref}c`, topic, 'crash', {}))
      await client.until(([, , t, event]) => t === topic && event === 'phx_error')
    }
    const logGrowth = server.output.length - logBefore
    console.log(`ℹ 1,000 channel crashes: the log grew by ${logGrowth} bytes`)
    // Each crash writes two lines of ~300 bytes without limits: 600 KB.
    assert.ok(logGrowth < 60_000, `the log grew by ${logGrowth} bytes`)
    // Once the limit lets a line through again, it says how many were held back.
    await delay(2_100)
    client.send(v2('last', 'last', 'room:crash-loop-last', 'phx_join', { user: 'looper' }))
    client.send(v2('last', 'lastc', 'room:crash-loop-last', 'crash', {}))
    await until(() => /crash-loop-last.*\(\d+ similar suppressed\)/.test(server.output), 3_000, 'the held-back count in the log')
    const metrics = await (await fetch(server.httpUrl('/metrics'))).text()
    const crashed = Number(/beryl_channels_crashed_total\{[^}]*\} (\d+)/.exec(metrics)?.[1])
    assert.ok(crashed >= 1_000, `crashes counted: ${crashed}`)
  })
})

describe('client text in log lines', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a topic with a newline and an ANSI escape cannot forge a log line or color the terminal', async () => {
    const escaped = (topic) => topic.replace('\n', '\\n').replace('\u001b', '\\x1b')
    const assertNothingForged = () => {
      assert.ok(!server.output.split('\n').some((line) => line.startsWith(FORGED)), 'a forged line in the log')
      assert.ok(!server.output.includes('\u001b'), 'an escape character in the log')
    }
    const client = await RawClient.connect(server.wsUrl())
    const unmatched = `nomatch:\n${FORGED}\u001b[31m red`
    client.send(v2('1', '1', unmatched, 'phx_join', {}))
    assert.deepEqual(await client.nextJson(), errorReply(null, '1', unmatched, { reason: 'unmatched topic' }))
    await until(() => server.output.includes('join of unmatched topic nomatch:'), 3_000, 'the warning in the log')
    assertNothingForged()
    assert.ok(server.output.includes(`join of unmatched topic ${escaped(unmatched)}`))

    // A room channel that crashes: the channel's log line and the supervisor's carry the topic.
    const room = `room:\n${FORGED}\u001b[2J`
    client.send(v2('2', '2', room, 'phx_join', { user: 'forger' }))
    assert.deepEqual(await client.nextJson(), okReply('2', '2', room, { joined: room }))
    client.send(v2('2', '3', room, 'crash', {}))
    assert.deepEqual(await client.nextJson(), ['2', '2', room, 'phx_error', { reason: 'channel_crash' }])
    // The channel logs its crash as it ends; its supervisor logs it when the exit reaches it, later.
    await until(() => server.output.includes('crashed: crash requested by the client'), 3_000, 'the crash in the log')
    await until(() => server.output.split('\n').some((line) => line.includes(`child '${escaped(room)}'`) && line.includes('crashed')),
      3_000, "the supervisor's line about the crash")
    assertNothingForged()
    assert.ok(server.output.includes(`channel ${escaped(room)} crashed`))
  })
})

describe('--log-format json (issue 15, item 4)', () => {
  let server
  before(async () => { server = await startServer(['--log-format', 'json', '--enable-crash-injection']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
  // Every line the server wrote, parsed: fails on one that is not a JSON object.
  const records = () => server.output.split('\n').filter((line) => line !== '').map((line) => {
    let record
    assert.doesNotThrow(() => { record = JSON.parse(line) }, `not a JSON line: ${line}`)
    assert.equal(typeof record, 'object', line)
    assert.match(record.time, ISO_UTC_MS, line)
    assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'critical'].includes(record.level), line)
    assert.equal(typeof record.message, 'string', line)
    return record
  })
  const find = (predicate) => records().find(predicate)

  it('a client-caused warning and a supervision crash: one JSON object a line, with their metadata', async () => {
    const socket = await connectPhx(server, { params: { user_id: '42' } })

    // A topic with a quote, a newline, a forged line and an ANSI escape.
    const unmatched = `nomatch:"q"\n${FORGED}\u001b[31m red`
    const refused = await joinResult(socket.channel(unmatched, {}))
    assert.deepEqual(refused, { status: 'error', response: { reason: 'unmatched topic' } })
    await until(() => find((r) => r.message.startsWith('join of unmatched topic nomatch:')), 3_000,
      'the warning in the log')
    const warning = find((r) => r.message.startsWith('join of unmatched topic nomatch:'))
    assert.equal(warning.level, 'warn')
    assert.equal(warning.topic, unmatched)  // the client's text, exactly, as a JSON string
    assert.equal(warning.socket_id, 'users_socket:42')
    assert.match(warning.remote_address, /^127\.0\.0\.1:\d+$/)
    assert.ok(warning.message.endsWith(`from ${warning.remote_address}`))
    assert.equal(warning.child, undefined)

    // A channel crash: the channel's line carries the connection and the topic, the channel
    // supervisor's names the child.
    const room = `room:json-"crash"\n\u001b[2J`
    const channel = await joinOk(socket, room, { user: 'json' })
    const errors = new EventLog(channel, 'phx_error')
    cast(channel, 'crash')
    await errors.waitFor(1)
    await until(() => find((r) => r.child && r.message.includes('terminated abnormally: crashed')), 3_000,
      "the channel supervisor's crash line")
    const crashed = find((r) => r.message.includes('crashed: crash requested by the client') && r.topic)
    assert.equal(crashed.level, 'error')
    assert.equal(crashed.topic, room)
    assert.equal(crashed.socket_id, 'users_socket:42')
    assert.equal(crashed.remote_address, warning.remote_address)
    const childLine = find((r) => r.child && r.message.includes('terminated abnormally: crashed'))
    assert.equal(childLine.level, 'warn')
    assert.ok(childLine.child.startsWith('room:json-'), childLine.child)

    // Crash injection into a child of the root supervisor.
    const res = await httpRequest(server.httpUrl('/debug/crash?child=coordinator'), { method: 'POST' })
    assert.equal(res.status, 200)
    await until(() => find((r) => r.child === 'listener' && r.message.includes('restarted child')), 5_000,
      'the tree to restart after the injected crash')
    const injected = find((r) => r.message.includes("child 'coordinator' terminated abnormally"))
    assert.ok(injected, 'the crash of the coordinator in the log')
    assert.equal(injected.level, 'warn')
    assert.equal(injected.child, 'coordinator')
    assert.equal(find((r) => r.message.includes("injecting a crash into child 'coordinator'")).child, 'coordinator')

    // Nothing else escaped the format: every line parsed (records() checks them all), no raw
    // escape character, no forged line.
    const all = records()
    assert.ok(all.length >= 8, `${all.length} lines`)
    assert.ok(!server.output.includes('\u001b'), 'an escape character in the log')
    assert.ok(!server.output.split('\n').some((line) => line.startsWith(FORGED)), 'a forged line in the log')
    assert.ok(all.some((r) => r.message.startsWith('listening on http://')))
  })
})
