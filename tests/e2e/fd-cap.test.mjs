// At the open-files cap (every process here has one): connections beyond it wait in the backlog,
// the connected ones keep working, the server neither spins nor floods its log, and waiting
// connections are served as soon as others close.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { startServer, cleanupAll, RawClient, uniqueTopic, v2, delay, within, httpRequest } from './harness.mjs'

const OPEN_FILES = 64
const WAITING = 5

function cpuSeconds(pid) {
  // utime and stime, fields 14 and 15 of /proc/PID/stat (after the parenthesised name).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function opened(ws) {
  return new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
}

async function shoutReachesAll(clients, topic, marker) {
  clients[0].send(v2('1', String(marker), topic, 'shout', { marker }))
  for (const client of clients) {
    await client.until(([, , t, event, body]) => t === topic && event === 'shout' && body.marker === marker)
  }
}

describe(`at the open-files cap (${OPEN_FILES})`, () => {
  let server
  // A connection cap above the open-files limit, so that it is the limit that is hit.
  before(async () => { server = await startServer(['--max-connections', '1000'], { openFiles: OPEN_FILES }) })
  after(cleanupAll)

  it('waiting connections are served once others close; the rest keep working throughout', { timeout: 60_000 }, async () => {
    const topic = uniqueTopic('bench')
    const joined = []
    const waiting = []
    try {
      // Connect and join until a connection is not answered: the server is at its cap.
      while (joined.length < OPEN_FILES) {
        const ws = new WebSocket(server.wsUrl())
        const open = await Promise.race([opened(ws).then(() => true), delay(1_000).then(() => false)])
        if (!open) {
          waiting.push(ws)
          break
        }
        const client = new RawClient(ws)
        await client.join(topic)
        joined.push(client)
      }
      assert.equal(waiting.length, 1, `the cap of ${OPEN_FILES} open files was never reached`)
      assert.ok(joined.length >= 20, `only ${joined.length} connections before the cap`)
      for (let i = 1; i < WAITING; i++) waiting.push(new WebSocket(server.wsUrl()))
      const waitingOpen = waiting.map((ws) => opened(ws))

      // At the cap: broadcasts still reach every connected client, and the server idles.
      const cpuBefore = cpuSeconds(server.child.pid)
      await shoutReachesAll(joined, topic, 1)
      await delay(1_000)
      const cpu = cpuSeconds(server.child.pid) - cpuBefore
      assert.ok(cpu < 0.3, `the server used ${cpu} s of CPU in ~1 s at the cap: it spins`)

      // Room is made: every waiting connection is accepted and joins.
      for (const client of joined.splice(0, WAITING + 2)) client.close()
      await within(Promise.all(waitingOpen), 5_000, 'the waiting connections to open')
      const late = waiting.map((ws) => new RawClient(ws))
      for (const client of late) await client.join(topic)
      await shoutReachesAll([...joined, ...late], topic, 2)
      joined.push(...late)
    } finally {
      for (const client of joined) client.close()
      for (const ws of waiting) ws.terminate()
    }

    const health = await httpRequest(server.httpUrl('/healthz'))
    assert.equal(health.status, 200)
    const failures = server.output.match(/accept (failed|still failing)/g) ?? []
    assert.ok(failures.length >= 1 && failures.length <= 2, `accept failures logged ${failures.length} times`)
    assert.match(server.output, /accepting again after \d+ failed attempts/)
  })
})
