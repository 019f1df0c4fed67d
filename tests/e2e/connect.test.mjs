// Handshake: serializer negotiation, connect params, auth token subprotocol.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, upgradeStatus, RawClient,
} from './harness.mjs'

// The subprotocol list phoenix.js offers for an authToken (standard base64, "=" stripped).
const authProtocols = (token) => ['phoenix', `base64url.bearer.phx.${btoa(token).replace(/=/g, '')}`]

describe('connect', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('phoenix.js connects with vsn 2.0.0 and gets heartbeat replies', async () => {
    const socket = await connectPhx(server)
    assert.equal(socket.isConnected(), true)
    const rtt = await new Promise((resolve) => socket.ping(resolve))
    assert.ok(rtt >= 0 && rtt < 3_000, `heartbeat round trip ${rtt} ms`)
  })

  it('completes a close handshake started by the client', async () => {
    const client = await RawClient.connect(server.wsUrl())
    client.ws.close(1000, 'bye')
    // RFC 6455 §5.5.1: the server echoes the status code (the reason text is optional).
    assert.equal((await client.waitClose(2_000)).code, 1000)
  })

  it('accepts vsn=2.0.0 and vsn=1.0.0, and no vsn at all', async () => {
    assert.equal((await upgradeStatus(server.wsUrl({ vsn: '2.0.0' }))).status, 101)
    assert.equal((await upgradeStatus(server.wsUrl({ vsn: '1.0.0' }))).status, 101)
    assert.equal((await upgradeStatus(server.wsUrl({}))).status, 101)
  })

  it('refuses an unsupported vsn with HTTP 403 before the upgrade', async () => {
    assert.equal((await upgradeStatus(server.wsUrl({ vsn: '3.0.0' }))).status, 403)
  })

  it('refuses token=bad with HTTP 403', async () => {
    assert.equal((await upgradeStatus(server.wsUrl({ token: 'bad', vsn: '2.0.0' }))).status, 403)
  })

  it('accepts any other token, and anonymous connects', async () => {
    assert.equal((await upgradeStatus(server.wsUrl({ token: 'good', vsn: '2.0.0' }))).status, 101)
    const anonymous = await connectPhx(server)
    assert.equal(anonymous.isConnected(), true)
    const withToken = await connectPhx(server, { params: { token: 'secret' } })
    assert.equal(withToken.isConnected(), true)
  })

  it('phoenix.js authToken connects and the server selects the "phoenix" subprotocol', async () => {
    const socket = await connectPhx(server, { authToken: 'my-secret-token' })
    assert.equal(socket.conn.protocol, 'phoenix')
  })

  it('refuses authToken "bad" with HTTP 403', async () => {
    const result = await upgradeStatus(server.wsUrl({ vsn: '2.0.0' }), { protocols: authProtocols('bad') })
    assert.equal(result.status, 403)
  })

  it('a raw client offering only "phoenix" also gets it echoed', async () => {
    const client = await RawClient.connect(server.wsUrl(), { protocols: ['phoenix'] })
    assert.equal(client.ws.protocol, 'phoenix')
  })
})
