// The origin check (docs/protocol.md §1.5): by default a browser page may connect only to its own
// server (Origin host:port = the request's Host), as Phoenix's check_origin: true; --check-origin
// lists the allowed origins or, with false, turns the check off. A request without Origin (not a
// browser) is always accepted. The demo's /api/* routes refuse cross-site requests the same way.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, upgradeStatus, connectPhx, joinOk, uniqueTopic, httpRequest,
  longpollUrl,
} from './harness.mjs'

const statusOf = async (server, origin) =>
  (await upgradeStatus(server.wsUrl(), origin ? { origin } : {})).status
const ownOrigin = (server) => new URL(server.httpUrl('/')).origin

describe('origin check: the default accepts only the request\'s own host and port', () => {
  let server
  before(async () => { server = await startServer(['--longpoll']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('the page\'s own origin connects; another host or port gets 403', async () => {
    assert.equal(await statusOf(server, ownOrigin(server)), 101)
    assert.equal(await statusOf(server, 'http://evil.example'), 403)
    assert.equal(await statusOf(server, `http://evil.example:${server.port}`), 403)
    assert.equal(await statusOf(server, `http://127.0.0.1:${server.port + 1}`), 403)
    assert.equal(await statusOf(server, 'http://127.0.0.1'), 403)
    assert.equal(await statusOf(server, 'null'), 403)
  })

  it('a request without an Origin header connects (phoenix.js in Node sends none)', async () => {
    assert.equal(await statusOf(server, null), 101)
    await joinOk(await connectPhx(server), uniqueTopic(), { user: 'node' })
  })

  it('long-poll: a foreign Origin gets {"status":403}, the own origin a session', async () => {
    const foreign = await httpRequest(longpollUrl(server), { headers: { origin: 'https://evil.example' } })
    assert.equal(foreign.body, '{"status":403}')
    const own = await httpRequest(longpollUrl(server), { headers: { origin: ownOrigin(server) } })
    assert.equal(JSON.parse(own.body).status, 410, own.body)
  })

  it('the demo page is served and its own origin may use /api/broadcast and /api/disconnect', async () => {
    assert.equal((await httpRequest(server.httpUrl('/'))).status, 200)
    const headers = { origin: ownOrigin(server), 'content-type': 'application/json' }
    const broadcast = await httpRequest(server.httpUrl('/api/broadcast?topic=room:x&event=e'), { method: 'POST', headers, body: '{}' })
    assert.equal(broadcast.status, 202, broadcast.body)
    const disconnect = await httpRequest(server.httpUrl('/api/disconnect?id=nobody'), { method: 'POST', headers, body: '' })
    assert.equal(disconnect.status, 202, disconnect.body)
  })

  it('/api/broadcast and /api/disconnect refuse another site\'s page with 403; curl (no Origin) is served', async () => {
    const topic = uniqueTopic()
    for (const path of [`/api/broadcast?topic=${topic}&event=e`, '/api/disconnect?id=nobody']) {
      const res = await httpRequest(server.httpUrl(path), { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' })
      assert.equal(res.status, 403, `${path}: ${res.body}`)
      const plain = await httpRequest(server.httpUrl(path), { method: 'POST', body: '{}' })
      assert.equal(plain.status, 202, `${path} without Origin: ${plain.body}`)
    }
  })
})

describe('origin check: --check-origin lists the allowed origins', () => {
  let server
  before(async () => { server = await startServer(['--check-origin', 'http://allowed.example,*.wild.example']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('refuses a foreign origin with 403', async () => {
    assert.equal(await statusOf(server, 'http://evil.example'), 403)
  })

  it('accepts the listed origin', async () => {
    assert.equal(await statusOf(server, 'http://allowed.example'), 101)
  })

  it('accepts a request without an Origin header', async () => {
    assert.equal(await statusOf(server, null), 101)
  })

  it('a list replaces the default: the server\'s own origin is refused unless listed', async () => {
    assert.equal(await statusOf(server, ownOrigin(server)), 403)
  })

  it('an entry without a port accepts any port; its scheme must match', async () => {
    assert.equal(await statusOf(server, 'http://allowed.example:8080'), 101)
    assert.equal(await statusOf(server, 'https://allowed.example'), 403)
  })

  it('*.wild.example accepts subdomains and the bare domain, not look-alikes', async () => {
    assert.equal(await statusOf(server, 'https://chat.wild.example'), 101)
    assert.equal(await statusOf(server, 'http://a.b.wild.example'), 101)
    assert.equal(await statusOf(server, 'http://wild.example'), 101)
    assert.equal(await statusOf(server, 'http://evilwild.example'), 403)
    assert.equal(await statusOf(server, 'http://wild.example.evil.com'), 403)
  })

  it('the demo API follows the list too', async () => {
    const post = (origin) => httpRequest(server.httpUrl('/api/disconnect?id=nobody'), { method: 'POST', headers: { origin }, body: '' })
    assert.equal((await post('http://allowed.example')).status, 202)
    assert.equal((await post('http://evil.example')).status, 403)
  })
})

describe('origin check: --check-origin false accepts any origin', () => {
  let server
  before(async () => { server = await startServer(['--check-origin', 'false']) })
  after(cleanupAll)

  it('accepts any origin, on the socket and the demo API', async () => {
    assert.equal(await statusOf(server, 'http://evil.example'), 101)
    const res = await httpRequest(server.httpUrl('/api/disconnect?id=nobody'), { method: 'POST', headers: { origin: 'http://evil.example' }, body: '' })
    assert.equal(res.status, 202)
  })
})
