// --check-origin: allowed origins connect, others get HTTP 403, a missing Origin header is accepted.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, cleanupAll, cleanupClients, upgradeStatus } from './harness.mjs'

describe('origin check', () => {
  let server
  const status = async (origin) => (await upgradeStatus(server.wsUrl(), origin ? { origin } : {})).status

  before(async () => {
    server = await startServer(['--check-origin', 'http://allowed.example,*.wild.example'])
  })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('refuses a foreign origin with 403', async () => {
    assert.equal(await status('http://evil.example'), 403)
  })

  it('accepts the listed origin', async () => {
    assert.equal(await status('http://allowed.example'), 101)
  })

  it('accepts a request without an Origin header', async () => {
    assert.equal(await status(null), 101)
  })

  it('an entry without a port accepts any port; its scheme must match', async () => {
    assert.equal(await status('http://allowed.example:8080'), 101)
    assert.equal(await status('https://allowed.example'), 403)
  })

  it('*.wild.example accepts subdomains and the bare domain, not look-alikes', async () => {
    assert.equal(await status('https://chat.wild.example'), 101)
    assert.equal(await status('http://a.b.wild.example'), 101)
    assert.equal(await status('http://wild.example'), 101)
    assert.equal(await status('http://evilwild.example'), 403)
    assert.equal(await status('http://wild.example.evil.com'), 403)
  })
})

describe('origin check disabled (default)', () => {
  let server
  before(async () => { server = await startServer() })
  after(cleanupAll)

  it('accepts any origin', async () => {
    assert.equal((await upgradeStatus(server.wsUrl(), { origin: 'http://evil.example' })).status, 101)
  })
})
