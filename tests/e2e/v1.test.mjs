// The V1 (JSON object) serializer: vsn=1.0.0, or no vsn at all.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, uniqueTopic, okReply, v2,
} from './harness.mjs'

const msg = (topic, event, payload, ref) => ({ topic, event, payload, ref })
const reply = (topic, ref, status, response) => msg(topic, 'phx_reply', { status, response }, ref)

describe('V1 serializer', () => {
  let server
  const connectV1 = (query = { vsn: '1.0.0' }) => RawClient.connect(server.wsUrl(query))

  async function joinedV1(topic, user, query) {
    const client = await connectV1(query)
    client.send(msg(topic, 'phx_join', { user }, '1'))
    assert.deepEqual(await client.nextJson(), reply(topic, '1', 'ok', { joined: topic }))
    return client
  }

  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('join reply is an object without join_ref', async () => {
    const topic = uniqueTopic()
    const client = await connectV1()
    client.send(msg(topic, 'phx_join', { user: 'v1' }, '1'))
    const frame = await client.nextJson()
    assert.deepEqual(frame, reply(topic, '1', 'ok', { joined: topic }))
    assert.equal('join_ref' in frame, false)
  })

  it('accepts an inbound join_ref and still never sends one', async () => {
    const topic = uniqueTopic()
    const client = await connectV1()
    client.send({ ...msg(topic, 'phx_join', { user: 'v1' }, '5'), join_ref: '5' })
    assert.deepEqual(await client.nextJson(), reply(topic, '5', 'ok', { joined: topic }))
    client.send({ ...msg(topic, 'ping', { a: 1 }, '6'), join_ref: '5' })
    assert.deepEqual(await client.nextJson(), reply(topic, '6', 'ok', { a: 1 }))
  })

  it('no vsn means V1', async () => {
    const topic = uniqueTopic()
    const client = await joinedV1(topic, 'novsn', {})
    client.send(msg(topic, 'ping', { q: true }, '2'))
    assert.deepEqual(await client.nextJson(), reply(topic, '2', 'ok', { q: true }))
  })

  it('ping reply uses phx_reply with the message ref', async () => {
    const topic = uniqueTopic()
    const client = await joinedV1(topic, 'pinger')
    client.send(msg(topic, 'ping', { x: [1, 2] }, '2'))
    assert.deepEqual(await client.nextJson(), reply(topic, '2', 'ok', { x: [1, 2] }))
  })

  it('heartbeat is answered', async () => {
    const client = await connectV1()
    client.send(msg('phoenix', 'heartbeat', {}, '9'))
    assert.deepEqual(await client.nextJson(), reply('phoenix', '9', 'ok', {}))
  })

  it('join errors: unauthorized and unmatched topic', async () => {
    const client = await connectV1()
    client.send(msg('room:forbidden', 'phx_join', { user: 'x' }, '1'))
    assert.deepEqual(await client.nextJson(), reply('room:forbidden', '1', 'error', { reason: 'unauthorized' }))
    client.send(msg('nope:1', 'phx_join', {}, '2'))
    assert.deepEqual(await client.nextJson(), reply('nope:1', '2', 'error', { reason: 'unmatched topic' }))
    client.send(msg('room:unjoined', 'ping', {}, '3'))
    assert.deepEqual(await client.nextJson(), reply('room:unjoined', '3', 'error', { reason: 'unmatched topic' }))
  })

  it('broadcasts have "ref": null, and cross between V1 and V2 members', async () => {
    const topic = uniqueTopic()
    const v1Client = await joinedV1(topic, 'one')
    const v2Client = await RawClient.connect(server.wsUrl())
    v2Client.send(v2('1', '1', topic, 'phx_join', { user: 'two' }))
    assert.deepEqual(await v2Client.nextJson(), okReply('1', '1', topic, { joined: topic }))

    v1Client.send(msg(topic, 'shout', { from: 'v1' }, '2'))
    assert.deepEqual(await v1Client.nextJson(), msg(topic, 'shout', { from: 'v1' }, null))
    assert.deepEqual(await v2Client.nextJson(), [null, null, topic, 'shout', { from: 'v1' }])

    v2Client.send(v2('1', '2', topic, 'shout', { from: 'v2' }))
    assert.deepEqual(await v2Client.nextJson(), [null, null, topic, 'shout', { from: 'v2' }])
    assert.deepEqual(await v1Client.nextJson(), msg(topic, 'shout', { from: 'v2' }, null))
  })

  it('leave: ok reply, then phx_close with ref null', async () => {
    const topic = uniqueTopic()
    const client = await joinedV1(topic, 'leaver')
    client.send(msg(topic, 'phx_leave', {}, '2'))
    assert.deepEqual(await client.nextJson(), reply(topic, '2', 'ok', {}))
    assert.deepEqual(await client.nextJson(), msg(topic, 'phx_close', {}, null))
  })

  it('crash: phx_error with ref null, the connection stays up', async () => {
    const topic = uniqueTopic()
    const client = await joinedV1(topic, 'crasher')
    client.send(msg(topic, 'crash', {}, '2'))
    assert.deepEqual(await client.nextJson(), msg(topic, 'phx_error', { reason: 'channel_crash' }, null))
    client.send(msg('phoenix', 'heartbeat', {}, '3'))
    assert.deepEqual(await client.nextJson(), reply('phoenix', '3', 'ok', {}))
  })
})
