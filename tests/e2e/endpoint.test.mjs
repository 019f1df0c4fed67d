// The app's endpoint (app/runtime/endpoint.hpp) through the demo's HTTP API: broadcasts from outside any
// channel reach phoenix.js members of exactly that topic, disconnect-by-id closes exactly those
// sockets, and both keep working after the pubsub they go through was restarted.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, joinOk, EventLog, uniqueTopic, httpRequest,
  nextClose, until,
} from './harness.mjs'

function post(server, path, body = '') {
  return httpRequest(server.httpUrl(path), { method: 'POST', body, headers: { 'content-type': 'application/json' } })
}

function broadcast(server, topic, event, payload) {
  return post(server, `/api/broadcast?topic=${encodeURIComponent(topic)}&event=${encodeURIComponent(event)}`,
    JSON.stringify(payload))
}

describe('endpoint: broadcast and disconnect from outside channels', () => {
  let server
  before(async () => { server = await startServer(['--enable-crash-injection']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a broadcast reaches every member of its topic and no one else', async () => {
    const topic = uniqueTopic()
    const members = []
    for (let i = 0; i < 3; i++) members.push(await joinOk(await connectPhx(server), topic, { user: `m${i}` }))
    const outsider = await joinOk(await connectPhx(server), uniqueTopic(), { user: 'outsider' })
    const logs = members.map((channel) => new EventLog(channel, 'announcement'))
    const outside = new EventLog(outsider, 'announcement')
    const payload = { text: 'from a plain HTTP handler', n: 1.5740861319038858e49 }
    const res = await broadcast(server, topic, 'announcement', payload)
    assert.equal(res.status, 202)
    for (const log of logs) assert.deepEqual(await log.next(), payload)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(outside.count, 0)
  })

  it('bad requests get 4xx and broadcast nothing', async () => {
    assert.equal((await httpRequest(server.httpUrl('/api/broadcast?topic=t&event=e'))).status, 405)
    assert.equal((await post(server, '/api/broadcast?topic=t', '{}')).status, 400)
    assert.equal((await post(server, '/api/broadcast?topic=t&event=e', '[1]')).status, 400)
    assert.equal((await post(server, '/api/broadcast?topic=t&event=e', '{"a":')).status, 400)
    assert.equal((await post(server, '/api/disconnect')).status, 400)
  })

  it('disconnect closes the sockets of that id (1001, so phoenix.js reconnects), not the others', async () => {
    const alice = await connectPhx(server, { params: { user_id: 'alice' } })
    const bob = await connectPhx(server, { params: { user_id: 'bob' } })
    const closed = nextClose(alice)
    assert.equal((await post(server, '/api/disconnect?id=users_socket:alice')).status, 202)
    assert.equal(await closed, 1001)
    await until(() => alice.isConnected(), 5_000, 'alice to reconnect')
    assert.deepEqual(bob.closeCodes, [])
  })

  it('after the pubsub is restarted, broadcasts go through the new one', async () => {
    const topic = uniqueTopic()
    const channel = await joinOk(await connectPhx(server), topic, { user: 'survivor' })
    const log = new EventLog(channel, 'announcement')
    const crashed = await httpRequest(server.httpUrl('/debug/crash?child=pubsub'), { method: 'POST' })
    assert.equal(crashed.status, 200)
    // The client reconnects and rejoins by itself; broadcast until it hears one (the listener
    // restarts too, so a request may find no one listening for a moment).
    let round = 0
    await until(async () => {
      round += 1
      const res = await broadcast(server, topic, 'announcement', { round }).catch(() => null)
      if (res?.status !== 202) return false
      await new Promise((resolve) => setTimeout(resolve, 100))
      return log.payloads.some((p) => p.round === round)
    }, 5_000, 'a broadcast to arrive after the restart', 0)
  })
})
