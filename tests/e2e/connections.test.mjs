// The coordinator's registry of live sockets, as an operator reads it at GET /debug/connections:
// every connection is listed while it is open (WebSocket and long-poll, with or without a socket
// id), counted per client address, and gone once it closes.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, connectLongPoll, httpRequest, until,
} from './harness.mjs'

async function connections(server, query = '') {
  const res = await httpRequest(server.httpUrl(`/debug/connections${query}`))
  assert.equal(res.status, 200, res.body)
  assert.match(res.headers['content-type'], /application\/json/)
  return JSON.parse(res.body)
}

describe('GET /debug/connections: the registry of live sockets', () => {
  let server
  before(async () => { server = await startServer(['--longpoll']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('lists every open connection with its id, peer and transport, and forgets closed ones', async () => {
    const before = (await connections(server)).total
    const alice = await connectPhx(server, { params: { user_id: 'alice' } })
    const anonymous = await connectPhx(server)
    const polling = await connectLongPoll(server, { params: { user_id: 'lp' } })
    await until(async () => (await connections(server)).total === before + 3, 3000, 'three enrolled')

    const list = await connections(server, '?limit=1000')
    const ours = list.connections.filter((c) => ['users_socket:alice', 'users_socket:lp', null].includes(c.id))
    const alices = list.connections.filter((c) => c.id === 'users_socket:alice')
    assert.equal(alices.length, 1)
    assert.equal(alices[0].transport, 'websocket')
    assert.match(alices[0].peer, /^127\.0\.0\.1:\d+$/)
    assert.ok(Math.abs(alices[0].connected_at_ms - Date.now()) < 60_000, 'connected_at_ms is Unix time in ms')
    assert.equal(list.connections.filter((c) => c.id === 'users_socket:lp')[0].transport, 'longpoll')
    assert.ok(ours.length >= 3)
    assert.equal(list.by_address['127.0.0.1'], list.total, 'every test client comes from 127.0.0.1')

    alice.disconnect()
    anonymous.disconnect()
    polling.disconnect()
    await until(async () => (await connections(server)).total === before, 25_000, 'closed connections forgotten (long-poll: after its session expires)')
    const after = await connections(server, '?limit=1000')
    assert.equal(after.connections.filter((c) => c.id === 'users_socket:alice').length, 0)
  })

  it('lists at most `limit` connections but always counts them all', async () => {
    const sockets = []
    for (let i = 0; i < 5; i++) sockets.push(await connectPhx(server))
    await until(async () => (await connections(server)).total >= 5, 3000, 'five enrolled')
    const limited = await connections(server, '?limit=2')
    assert.equal(limited.connections.length, 2)
    assert.ok(limited.total >= 5)
    const unparsable = await connections(server, '?limit=many')
    assert.ok(unparsable.connections.length >= 5, 'a bad limit falls back to the default (100)')
  })
})
