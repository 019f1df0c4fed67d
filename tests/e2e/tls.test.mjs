// TLS (docs/protocol.md §9): with --tls-cert and --tls-key one port serves https and wss beside
// http and ws, telling them apart by each connection's first bytes. phoenix.js runs over wss
// against a certificate this test makes with the openssl command.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import {
  startServer, cleanupAll, cleanupClients, runServerOnce, connectPhx, joinOk, pushResult, cast,
  EventLog, httpRequest, rawHttp, uniqueTopic, v2, within, until,
} from './harness.mjs'

// A self-signed certificate for 127.0.0.1 and localhost, with its key, in a fresh directory.
function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.pem`)
  const key = path.join(dir, `${name}-key.pem`)
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' })
  return { cert, key, pem: readFileSync(cert) }
}

// What phoenix.js is given to connect to `server` over wss.
const wssEndpoint = (server) => ({ socketEndpoint: (mount = '/socket') => `wss://127.0.0.1:${server.port}${mount}` })

// phoenix.js constructs its transport with the URL (and subprotocols) only: this one also trusts
// the test's certificate.
function trustingWebSocket(ca) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { ca })
    }
  }
}

describe('TLS', () => {
  let dir
  let tls
  let server
  const https = (pathname) => `https://127.0.0.1:${server.port}${pathname}`
  const connectWss = () => connectPhx(wssEndpoint(server), { transport: trustingWebSocket(tls.pem) })

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'beryl-tls-'))
    tls = makeCertificate(dir, 'server')
    server = await startServer(['--tls-cert', tls.cert, '--tls-key', tls.key, '--longpoll'])
  })
  afterEach(cleanupClients)
  after(async () => {
    await cleanupAll()
    rmSync(dir, { recursive: true, force: true })
  })

  it('says where it listens, http and https on one port', () => {
    assert.match(server.output, new RegExp(`listening on http://127\\.0\\.0\\.1:${server.port} and https://127\\.0\\.0\\.1:${server.port}`))
  })

  it('phoenix.js over wss joins, gets replies, and shares topics with ws clients on the same port', async () => {
    const topic = uniqueTopic()
    const secure = await connectWss()
    assert.equal(secure.conn.url.startsWith('wss://'), true)
    const plain = await connectPhx(server)
    const secureChannel = await joinOk(secure, topic, { user: 'secure' })
    const plainChannel = await joinOk(plain, topic, { user: 'plain' })
    assert.deepEqual(await pushResult(secureChannel, 'ping', { n: 1 }), { status: 'ok', response: { n: 1 } })

    const heardBySecure = new EventLog(secureChannel, 'shout')
    const heardByPlain = new EventLog(plainChannel, 'shout')
    cast(plainChannel, 'shout', { from: 'plain' })
    cast(secureChannel, 'shout', { from: 'secure' })
    await heardBySecure.waitFor(2)
    await heardByPlain.waitFor(2)
    assert.deepEqual(heardBySecure.payloads.map((p) => p.from).sort(), ['plain', 'secure'])
    assert.deepEqual(heardByPlain.payloads.map((p) => p.from).sort(), ['plain', 'secure'])
  })

  it('messages larger than a TLS record cross whole both ways', async () => {
    const secure = await connectWss()
    const channel = await joinOk(secure, uniqueTopic(), { user: 'big' })
    const text = 'x'.repeat(300_000) + 'é'
    const results = await Promise.all([1, 2, 3].map((n) => pushResult(channel, 'ping', { n, text })))
    for (const [i, result] of results.entries()) {
      assert.equal(result.status, 'ok')
      assert.equal(result.response.n, i + 1)
      assert.equal(result.response.text, text)
    }
  })

  it('serves https: /healthz, and the long-poll transport', async () => {
    const health = await httpRequest(https('/healthz'), { ca: tls.pem })
    assert.equal(health.status, 200)
    assert.equal(health.body, 'ok\n')

    const base = https('/socket/longpoll?vsn=2.0.0')
    const opened = JSON.parse((await httpRequest(base, { ca: tls.pem })).body)
    assert.equal(opened.status, 410)
    const url = `${base}&token=${encodeURIComponent(opened.token)}`
    const topic = uniqueTopic()
    const body = JSON.stringify(v2('1', '1', topic, 'phx_join', { user: 'lp' }))
    const posted = await httpRequest(url, {
      method: 'POST', body, ca: tls.pem,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    })
    assert.equal(JSON.parse(posted.body).status, 200)
    const polled = JSON.parse((await httpRequest(url, { ca: tls.pem, timeoutMs: 12_000 })).body)
    assert.equal(polled.status, 200)
    assert.deepEqual(JSON.parse(polled.messages[0]), ['1', '1', topic, 'phx_reply', { status: 'ok', response: { joined: topic } }])
  })

  it('a client that does not trust the certificate cannot connect', async () => {
    const refused = await httpRequest(https('/healthz')).then(() => null, (err) => err)
    assert.ok(refused, 'the request failed')
    assert.match(refused.code ?? refused.message, /SELF_SIGNED|self.signed|certificate/i)
    assert.equal((await httpRequest(https('/healthz'), { ca: tls.pem })).status, 200)
  })

  it('garbage that starts like a TLS handshake is closed; plain HTTP is still answered; others go on', async () => {
    const tlsLooking = await within(new Promise((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), Buffer.alloc(64, 0x41)]))
      })
      socket.on('data', () => {})
      socket.on('error', () => resolve('error'))
      socket.on('close', () => resolve('closed'))
      socket.on('timeout', reject)
    }), 5_000, 'the server to close a broken handshake')
    assert.ok(['closed', 'error'].includes(tlsLooking))
    const plain = await rawHttp(server.port, 'GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
    assert.deepEqual(plain.responses, [404])
    assert.equal((await httpRequest(https('/healthz'), { ca: tls.pem })).status, 200)
    assert.equal((await httpRequest(server.httpUrl('/healthz'))).status, 200)
  })
})

describe('TLS: shutdown and configuration errors', () => {
  let dir
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'beryl-tls-')) })
  after(async () => {
    await cleanupAll()
    rmSync(dir, { recursive: true, force: true })
  })

  it('on SIGTERM wss clients get their 1012 close frame, and the server exits 0', async () => {
    const tls = makeCertificate(dir, 'drain')
    const server = await startServer(['--tls-cert', tls.cert, '--tls-key', tls.key])
    const socket = await connectPhx(wssEndpoint(server),
      { transport: trustingWebSocket(tls.pem), reconnectAfterMs: () => 60_000 })
    await joinOk(socket, uniqueTopic(), { user: 'leaving' })
    const stopped = server.stop(15_000)
    await until(() => socket.closeCodes.length > 0, 10_000, 'the wss client to be closed')
    assert.equal(socket.closeCodes[0], 1012)
    const exit = await stopped
    assert.equal(exit.code, 0)
    assert.equal(exit.killed, false)
  })

  it('a connection that has sent nothing yet does not hold the shutdown up', async () => {
    const tls = makeCertificate(dir, 'silent')
    const server = await startServer(['--tls-cert', tls.cert, '--tls-key', tls.key])
    const silent = net.connect(server.port, '127.0.0.1')
    await new Promise((resolve) => silent.once('connect', resolve))
    silent.on('error', () => {})
    const exit = await server.stop(10_000)
    silent.destroy()
    assert.deepEqual({ code: exit.code, killed: exit.killed }, { code: 0, killed: false })
    // It waits to be told TLS from HTTP for up to 30 s; the listener closes it at once instead
    // (before: the network threads waited their 3 s limit for it).
    assert.ok(exit.elapsedMs < 2_000, `stopped in ${exit.elapsedMs} ms; the server's log:\n${server.logTail(30)}`)
  })

  it('refuses to start without a usable certificate, naming the file', async () => {
    const tls = makeCertificate(dir, 'good')
    const other = makeCertificate(dir, 'other')
    const missing = path.join(dir, 'missing.pem')
    const cases = [
      { args: ['--tls-cert', missing, '--tls-key', tls.key], code: 1, says: `--tls-cert ${missing}` },
      { args: ['--tls-cert', tls.cert, '--tls-key', tls.cert], code: 1, says: `--tls-key ${tls.cert}` },
      { args: ['--tls-cert', tls.cert, '--tls-key', other.key], code: 1, says: 'is not the key of' },
      { args: ['--tls-cert', tls.cert], code: 2, says: '--tls-cert and --tls-key go together' },
    ]
    for (const { args, code, says } of cases) {
      const run = await runServerOnce(['--port', '0', ...args], 10_000)
      assert.equal(run.code, code, `exit code for ${args.join(' ')}: ${run.stdout}${run.stderr}`)
      assert.ok((run.stdout + run.stderr).includes(says), `${args.join(' ')} says "${says}": ${run.stdout}${run.stderr}`)
    }
  })
})
