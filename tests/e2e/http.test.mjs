// Plain HTTP on the server's port, the command line, and the configurable socket path.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, runServerOnce, httpRequest, connectPhx, joinOk, pushResult, upgradeStatus,
} from './harness.mjs'

const OPTIONS = [
  '--host', '--port', '--socket-path', '--idle-timeout-ms', '--max-frame-size', '--max-channels',
  '--outbound-queue-limit', '--slow-consumer', '--check-origin', '--log-level', '--help',
]

describe('http routes', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('GET /healthz answers 200', async () => {
    const res = await httpRequest(server.httpUrl('/healthz'))
    assert.equal(res.status, 200)
  })

  it('GET / serves an HTML page that loads phoenix.js', async () => {
    const res = await httpRequest(server.httpUrl('/'))
    const body = res.body
    assert.equal(res.status, 200)
    assert.match(res.headers['content-type'] ?? '', /text\/html/)
    assert.match(body, /<html/i)
    const scripts = [...body.matchAll(/<script[^>]*\ssrc=["']([^"']+)["']/gi)].map((m) => m[1])
    assert.ok(scripts.some((src) => /phoenix/i.test(src)), `no phoenix script among ${JSON.stringify(scripts)}`)
    // Scripts served by the server itself must actually be there.
    for (const src of scripts.filter((s) => !/^(https?:)?\/\//.test(s))) {
      const script = await httpRequest(new URL(src, server.httpUrl('/')).href)
      assert.equal(script.status, 200, `GET ${src}`)
    }
  })

  it('an unknown route answers 404', async () => {
    const res = await httpRequest(server.httpUrl('/no/such/route'))
    assert.equal(res.status, 404)
  })

  it('a GET to the socket path without an upgrade answers 400', async () => {
    const res = await httpRequest(server.httpUrl('/socket/websocket?vsn=2.0.0'))
    assert.equal(res.status, 400)
  })

  it('a non-GET request to the socket path answers 400', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await httpRequest(server.httpUrl('/socket/websocket?vsn=2.0.0'), { method, body: 'x' })
      assert.equal(res.status, 400, method)
    }
  })
})

describe('command line', () => {
  after(cleanupAll)

  it('--help lists every option and exits 0', async () => {
    const { code, stdout, stderr } = await runServerOnce(['--help'])
    assert.equal(code, 0)
    const text = stdout + stderr
    for (const option of OPTIONS) assert.ok(text.includes(option), `--help does not mention ${option}:\n${text}`)
  })

  it('--socket-path moves the WebSocket endpoint', async () => {
    const server = await startServer(['--socket-path', '/live/websocket'])
    const socket = await connectPhx(server, { mount: '/live' })
    const channel = await joinOk(socket, 'room:path', { user: 'p' })
    assert.deepEqual(await pushResult(channel, 'ping', { n: 1 }), { status: 'ok', response: { n: 1 } })
    assert.equal((await upgradeStatus(server.wsUrl({ vsn: '2.0.0' }, '/socket/websocket'))).status, 404)
  })
})
