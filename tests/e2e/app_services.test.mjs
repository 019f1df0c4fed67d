// An app built on the runtime with a service of its own (app/examples/counter_server.cpp): the
// service runs under the supervision tree, holds state that outlives channels, answers joins
// that wait for it (reply::later), and stops in order when the server does.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, joinOk, pushResult, EventLog, within,
  httpRequest, uniqueTopic, repoRoot,
} from './harness.mjs'

const counterBinary = process.env.BERYL_COUNTER_SERVER
  ? path.resolve(process.env.BERYL_COUNTER_SERVER)
  : path.join(repoRoot, 'build/app/beryl-counter-example')

describe('app services under the tree', () => {
  let server
  before(async () => { server = await startServer([], { binary: counterBinary }) })
  after(cleanupAll)
  afterEach(cleanupClients)

  it('the service is supervised under "services", between the coordinator and the channels', async () => {
    const res = await httpRequest(server.httpUrl('/debug/supervision'))
    const root = JSON.parse(res.body)
    assert.deepEqual(root.children.map((c) => c.name),
      ['pubsub', 'presence', 'coordinator', 'services', 'channels', 'listener', 'dashboard'])
    const services = root.children.find((c) => c.name === 'services')
    assert.equal(services.kind, 'supervisor')
    assert.equal(services.strategy, 'one_for_one')
    assert.deepEqual(services.children.map((c) => [c.name, c.state]), [['counter', 'running']])
  })

  it('a join answered by the service gets its value; the count outlives the channels', async () => {
    const topic = uniqueTopic('counter')
    const socket = await connectPhx(server)
    const first = await joinOk(socket, topic)
    assert.deepEqual(first.joinResponse, { count: 0 })
    const counts = new EventLog(first, 'count')
    assert.deepEqual(await pushResult(first, 'inc'), { status: 'ok', response: {} })
    assert.deepEqual(await counts.next(), { count: 1 })
    await new Promise((resolve) => first.leave().receive('ok', resolve))

    const other = await connectPhx(server)
    const again = await joinOk(other, topic)
    assert.deepEqual(again.joinResponse, { count: 1 }, 'the count is the service\'s, not the channel\'s')
  })

  it('the join reply comes before any broadcast, however busy the topic', async () => {
    const topic = uniqueTopic('counter')
    const busy = await joinOk(await connectPhx(server), topic)
    let stop = false
    const incrementing = (async () => { while (!stop) await pushResult(busy, 'inc') })()
    try {
      for (let i = 0; i < 10; i++) {
        const socket = await connectPhx(server)
        const channel = socket.channel(topic, {})
        // Recorded in the callbacks themselves: frames read together are handled in one go,
        // before any promise continuation.
        const seen = []
        channel.on('count', () => seen.push('count'))
        const joined = new Promise((resolve) => {
          channel.join().receive('ok', (response) => { seen.push('joined'); resolve(response) })
        })
        const response = await within(joined, 5_000, 'the join reply')
        assert.equal(seen[0], 'joined', `a broadcast before the join reply: ${seen.join(', ')}`)
        assert.ok(response.count >= 0)
      }
    } finally {
      stop = true
      await incrementing
    }
  })

  it('SIGTERM stops the channels, then the service, then the rest, and the program exits 0', async () => {
    const own = await startServer([], { binary: counterBinary })
    await joinOk(await connectPhx(own), uniqueTopic('counter'))
    const { code, killed } = await own.stop()
    assert.equal(killed, false)
    assert.equal(code, 0)
    const at = (text) => {
      const index = own.output.indexOf(text)
      assert.ok(index >= 0, `"${text}" in the log`)
      return index
    }
    const channels = at("supervisor 'root': stopped child 'channels'")
    const services = at("supervisor 'root': stopped child 'services'")
    const coordinator = at("supervisor 'root': stopped child 'coordinator'")
    assert.ok(channels < services && services < coordinator, 'stopped in reverse start order')
    assert.ok(own.output.includes("supervisor 'services': stopped child 'counter'"))
  })
})
