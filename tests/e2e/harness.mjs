// The one import for test files: server lifecycle, phoenix.js and raw clients, cleanup hooks.
import { closeRawClients } from './raw-client.mjs'
import { closeRawLongPolls } from './longpoll-client.mjs'
import { disconnectAll } from './phx-client.mjs'
import { runningServers, stopAllServers } from './server.mjs'

export * from './server.mjs'
export * from './raw-client.mjs'
export * from './phx-client.mjs'
export * from './timing.mjs'
export * from './http-client.mjs'
export * from './longpoll-client.mjs'
export * from './presence-client.mjs'

// afterEach hook: closes every client of the test; prints the server logs when the test failed.
export async function cleanupClients(t) {
  closeRawClients()
  closeRawLongPolls()
  await disconnectAll()
  if (t && t.passed === false) {
    for (const server of runningServers()) {
      process.stderr.write(`--- beryl-server (port ${server.port}) log tail after "${t.name}" failed ---\n${server.logTail()}\n`)
    }
  }
}

// after hook: closes the clients, then stops every server the file started.
export async function cleanupAll() {
  closeRawClients()
  closeRawLongPolls()
  await disconnectAll()
  await stopAllServers()
}

// Frame builders for the V2 JSON format: [join_ref, ref, topic, event, payload].
export const v2 = (joinRef, ref, topic, event, payload = {}) => [joinRef, ref, topic, event, payload]

export const okReply = (joinRef, ref, topic, response = {}) =>
  [joinRef, ref, topic, 'phx_reply', { status: 'ok', response }]

export const errorReply = (joinRef, ref, topic, response) =>
  [joinRef, ref, topic, 'phx_reply', { status: 'error', response }]

// Topic names unique within the test process, so tests sharing a server never share a topic.
let topicCounter = 0
export const uniqueTopic = (prefix = 'room') => `${prefix}:t${process.pid}-${++topicCounter}`

// V2 binary frames (docs/protocol.md §3). Client→server push: kind 0, a 5-byte header, then the fields.
export function binaryPush(joinRef, ref, topic, event, payload) {
  const fields = [joinRef, ref, topic, event].map((s) => Buffer.from(s, 'utf8'))
  return Buffer.concat([Buffer.from([0, ...fields.map((f) => f.length)]), ...fields, payload])
}

// Server→client broadcast: kind 2, a 3-byte header, no refs.
export function binaryBroadcast(topic, event, payload) {
  const fields = [topic, event].map((s) => Buffer.from(s, 'utf8'))
  return Buffer.concat([Buffer.from([2, ...fields.map((f) => f.length)]), ...fields, payload])
}
