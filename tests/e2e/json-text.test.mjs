// JSON on the wire: a number beyond a double's range is undecodable input (1007 on WebSocket,
// HTTP 400 on long-poll) and never reaches anyone as Infinity; doubles leave as JavaScript prints
// them; text frames are always UTF-8, also when a binary frame's fields were not.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, RawLongPoll, connectPhx, joinOk, EventLog, cast,
  okReply, uniqueTopic, v2, binaryPush,
} from './harness.mjs'

describe('JSON numbers and text', () => {
  let server
  before(async () => { server = await startServer(['--longpoll']) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('1e400 closes the sender with 1007; members get nothing of it and carry on', async () => {
    const topic = uniqueTopic()
    const member = await joinOk(await connectPhx(server), topic, { user: 'member' })
    const shouts = new EventLog(member, 'shout')
    const watcher = await RawClient.connect(server.wsUrl({ vsn: '2.0.0' }))
    await watcher.join(topic, { user: 'watcher' })
    const sender = await RawClient.connect(server.wsUrl({ vsn: '2.0.0' }))
    await sender.join(topic, { user: 'sender' })

    sender.send(`["1","2","${topic}","shout",{"x":1e400}]`)
    assert.equal((await sender.waitClose()).code, 1007)

    cast(member, 'shout', { marker: 1 })
    assert.deepEqual(await shouts.next(), { marker: 1 }, 'the first shout phoenix.js sees is the marker')
    const frames = await watcher.until((m) => m[3] === 'shout')
    assert.deepEqual(frames.filter((m) => m[3] === 'shout'), [[null, null, topic, 'shout', { marker: 1 }]])
    assert.equal(server.alive, true)
  })

  it('doubles arrive as JavaScript prints them: 2.5, 0.1, 1e+21, 5e-324', async () => {
    const client = await RawClient.connect(server.wsUrl({ vsn: '2.0.0' }))
    const payload = '{"a":2.5,"b":0.1,"c":1e21,"d":5e-324,"e":1.0,"f":123456789012345680000,"g":1e-7,"h":0.30000000000000004,"i":1E2}'
    const topic = uniqueTopic()
    await client.join(topic, { user: 'numbers' })
    client.send(`["1","2","${topic}","ping",${payload}]`)
    const frame = await client.next()
    assert.equal(frame.binary, false)
    const expected = '{"a":2.5,"b":0.1,"c":1e+21,"d":5e-324,"e":1,"f":123456789012345680000,"g":1e-7,"h":0.30000000000000004,"i":100}'
    assert.equal(frame.text, `["1","2","${topic}","phx_reply",{"status":"ok","response":${expected}}]`)
    assert.equal(frame.text, JSON.stringify(JSON.parse(frame.text)), 'byte for byte what JSON.stringify writes')
  })

  it('a binary frame whose topic is not UTF-8 closes with 1007, and no text frame carries it back', async () => {
    const client = await RawClient.connect(server.wsUrl({ vsn: '2.0.0' }), { skipUTF8Validation: true })
    const topic = Buffer.concat([Buffer.from('room:'), Buffer.from([0xff])])
    const frame = Buffer.concat([Buffer.from([0, 1, 1, topic.length, 8]), Buffer.from('11'), topic, Buffer.from('phx_join'), Buffer.from('{}')])
    client.send(frame)
    assert.equal((await client.waitClose()).code, 1007)
    assert.deepEqual(client.inbox, [], 'nothing was sent back')
    // The same join with a UTF-8 topic works (the check is on the bytes, not on binary frames).
    const ok = await RawClient.connect(server.wsUrl({ vsn: '2.0.0' }))
    ok.send(binaryPush('1', '1', 'room:é', 'phx_join', Buffer.from('{}')))
    assert.deepEqual(await ok.nextJson(), okReply('1', '1', 'room:é', { joined: 'room:é' }))
  })

  it('long-poll decodes the same way: 1e400 answers HTTP 400 and ends the session', async () => {
    const topic = uniqueTopic()
    const watcher = await RawClient.connect(server.wsUrl({ vsn: '2.0.0' }))
    await watcher.join(topic, { user: 'watcher' })
    const client = await RawLongPoll.open(server)
    await client.join(topic, { user: 'lp' })
    const res = await client.post([`["1","2","${topic}","shout",{"x":1e400}]`])
    assert.equal(res.status, 400, res.body)
    assert.match(res.body, /invalid message/)
    assert.equal((await client.postBody(JSON.stringify(v2('1', '3', topic, 'ping', {})))).body, '{"status":410}')
    const frames = await watcher.until((m) => m[3] === 'left')
    assert.deepEqual(frames.filter((m) => m[3] === 'shout'), [], 'no shout reached the room')
  })
})
